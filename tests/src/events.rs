//! Writing events the way postgres-es does (named columns, sequence = last + 1 in one
//! transaction), for tests that need many writers without a domain aggregate.

use serde_json::json;
use sqlx::PgPool;

/// Appends the next event of an aggregate: reads its last sequence and inserts the
/// next one in one transaction, retrying when a concurrent writer got there first
/// (the primary key refuses the duplicate sequence). Returns the sequence written.
pub async fn append_next(pool: &PgPool, aggregate_type: &str, aggregate_id: &str) -> i64 {
    loop {
        let mut transaction = pool.begin().await.expect("a transaction starts");
        let last: i64 = sqlx::query_scalar(
            "SELECT COALESCE(max(sequence), 0) FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .fetch_one(&mut *transaction)
        .await
        .expect("the stream can be read");
        let sequence = last + 1;
        let inserted = insert(&mut transaction, aggregate_type, aggregate_id, sequence).await;
        match inserted {
            Ok(()) => {
                transaction.commit().await.expect("the append commits");
                return sequence;
            }
            Err(error) if is_unique_violation(&error) => continue,
            Err(error) => panic!("append failed: {error}"),
        }
    }
}

/// Inserts one event with a known sequence.
pub async fn insert(
    executor: &mut sqlx::PgConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(sequence)
    .bind("Ticked")
    .bind("1.0")
    .bind(json!({ "Ticked": { "n": sequence } }))
    .bind(json!({ "actor": "test" }))
    .execute(executor)
    .await
    .map(|_| ())
}

/// Appends `per_aggregate` events to each of `aggregates` aggregates named
/// `agg-<n>` in one statement (fast set-up for tests that only need a backlog).
/// Global positions interleave the aggregates, as concurrent traffic would.
pub async fn append_backlog(
    pool: &PgPool,
    aggregate_type: &str,
    aggregates: i64,
    per_aggregate: i64,
) {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         SELECT $1, 'agg-' || (g % $2), g / $2 + 1, 'Ticked', '1.0', \
                json_build_object('Ticked', json_build_object('n', g / $2 + 1)), '{\"actor\":\"test\"}'::json \
         FROM generate_series(0, $2 * $3 - 1) AS g",
    )
    .bind(aggregate_type)
    .bind(aggregates)
    .bind(per_aggregate)
    .execute(pool)
    .await
    .expect("the backlog inserts");
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "23505")
}
