//! The event store's schema: append-only, outbox filled in the same transaction,
//! compatible with postgres-es, migrations safe to run concurrently.

use std::collections::HashMap;

use cqrs_es::AggregateError;
use postgres_es::postgres_cqrs;
use tests::TestContext;
use tests::events;
use tests::probe::{Tally, TallyCommand, TallyError};

#[tokio::test]
async fn update_delete_and_truncate_of_events_are_refused_by_the_trigger() {
    let context = TestContext::new().await;
    let mut connection = context.pool.acquire().await.expect("a connection");
    events::insert(&mut connection, "Order", "o-1", 1)
        .await
        .expect("insert is allowed");

    for (statement, operation) in [
        ("UPDATE events SET event_type = 'Rewritten'", "UPDATE"),
        ("DELETE FROM events", "DELETE"),
        ("TRUNCATE events", "TRUNCATE"),
        // A statement that matches no row is refused too.
        ("DELETE FROM events WHERE aggregate_id = 'nobody'", "DELETE"),
    ] {
        let error = sqlx::query(statement)
            .execute(&mut *connection)
            .await
            .expect_err("the log is append-only");
        let message = error
            .as_database_error()
            .map(|db| db.message().to_owned())
            .unwrap_or_default();
        assert_eq!(
            message,
            format!(
                "the events table is append-only: {operation} is not allowed; record a correcting event instead"
            ),
            "{statement}"
        );
    }
    let stored: (i64, String) = sqlx::query_as("SELECT count(*), min(event_type) FROM events")
        .fetch_one(&mut *connection)
        .await
        .expect("events can be read");
    assert_eq!(stored, (1, "Ticked".to_owned()));
    drop(connection);
    context.cleanup().await;
}

#[tokio::test]
async fn every_committed_event_has_an_outbox_row_and_rolled_back_ones_have_none() {
    let context = TestContext::new().await;
    let mut committed = context.pool.begin().await.expect("transaction");
    events::insert(&mut committed, "Order", "o-1", 1)
        .await
        .expect("insert");
    events::insert(&mut committed, "Order", "o-1", 2)
        .await
        .expect("insert");
    committed.commit().await.expect("commit");

    let mut rolled_back = context.pool.begin().await.expect("transaction");
    events::insert(&mut rolled_back, "Order", "o-2", 1)
        .await
        .expect("insert");
    rolled_back.rollback().await.expect("rollback");

    let outbox: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT o.aggregate_id, o.sequence, o.global_position FROM outbox o \
         JOIN events e USING (global_position) \
         WHERE e.aggregate_id = o.aggregate_id AND e.sequence = o.sequence \
         ORDER BY o.global_position",
    )
    .fetch_all(&context.pool)
    .await
    .expect("outbox readable");
    assert_eq!(outbox.len(), 2);
    assert_eq!((outbox[0].0.as_str(), outbox[0].1), ("o-1", 1));
    assert_eq!((outbox[1].0.as_str(), outbox[1].1), ("o-1", 2));
    assert!(outbox[0].2 < outbox[1].2, "positions grow with insertion");
    assert_eq!(
        context.outbox_depth().await,
        2,
        "nothing from the rolled-back insert"
    );
    context.cleanup().await;
}

#[tokio::test]
async fn postgres_es_reads_and_writes_the_store_and_races_are_refused() {
    let context = TestContext::new().await;
    let cqrs = postgres_cqrs::<Tally>(context.pool.clone(), vec![], ());
    let metadata = HashMap::from([("actor".to_owned(), "test".to_owned())]);
    cqrs.execute_with_metadata("tally-1", TallyCommand::Add(2), metadata.clone())
        .await
        .expect("first command");
    // Loading replays the stored event through the store's extra columns.
    cqrs.execute_with_metadata("tally-1", TallyCommand::Add(3), metadata)
        .await
        .expect("second command");
    let refused = cqrs.execute("tally-1", TallyCommand::Add(0)).await;
    assert!(matches!(
        refused,
        Err(AggregateError::UserError(TallyError(_)))
    ));

    let stored: Vec<(i64, String, serde_json::Value, serde_json::Value)> = sqlx::query_as(
        "SELECT sequence, event_type, payload::jsonb::json, metadata FROM events \
         WHERE aggregate_type = 'Tally' AND aggregate_id = 'tally-1' ORDER BY sequence",
    )
    .fetch_all(&context.pool)
    .await
    .expect("events readable");
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].0, 2);
    assert_eq!(stored[1].2, serde_json::json!({"Added": {"amount": 3}}));
    assert_eq!(stored[1].3, serde_json::json!({"actor": "test"}));
    assert_eq!(context.outbox_depth().await, 2);

    // The primary key is what turns a concurrent append into AggregateConflict.
    let mut connection = context.pool.acquire().await.expect("connection");
    let duplicate = events::insert(&mut connection, "Tally", "tally-1", 2).await;
    assert!(duplicate.is_err(), "a sequence cannot be written twice");
    drop(connection);
    context.cleanup().await;
}

#[tokio::test]
async fn migrations_started_by_several_processes_at_once_all_succeed() {
    let context = TestContext::new().await;
    let url = tests::database_url(&format!("lbt_{}_fresh", context.id));
    let runs = (0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let pool = domain::event_store::connect_creating_database(&url, 2).await?;
            domain::event_store::migrate(&pool).await?;
            pool.close().await;
            anyhow::Ok(())
        })
    });
    for run in futures_util::future::join_all(runs).await {
        run.expect("no panic").expect("every start-up migrates");
    }
    let fresh = domain::event_store::connect(&url, 1)
        .await
        .expect("created");
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&fresh)
        .await
        .expect("migrations recorded");
    assert_eq!(applied, domain::event_store::MIGRATOR.iter().count() as i64);
    fresh.close().await;
    sqlx::query(&format!(
        "DROP DATABASE \"lbt_{}_fresh\" WITH (FORCE)",
        context.id
    ))
    .execute(&context.pool)
    .await
    .expect("drop the extra database");
    context.cleanup().await;
}

#[tokio::test]
async fn a_binary_older_than_the_schema_still_starts() {
    let context = TestContext::new().await;
    // A newer release applied a migration this binary does not know.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from a newer release', true, '\\x00'::bytea, 1)",
    )
    .execute(&context.pool)
    .await
    .expect("a future migration");
    domain::event_store::migrate(&context.pool)
        .await
        .expect("migrating again tolerates it");
    context.cleanup().await;
}
