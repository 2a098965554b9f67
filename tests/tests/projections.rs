//! Projection workers over real Postgres and NATS: the credit read model after a
//! scripted history, whatever NATS does (repeats, shuffles, withheld events), and
//! whatever happens to the workers (abrupt stops, several instances).

use std::sync::Arc;
use std::time::Duration;

use api::startup::Parts;
use async_nats::jetstream;
use projections::read_models::credits::CreditBalances;
use projections::worker::{ProjectionMetrics, Worker, WorkerSettings};
use serde_json::{Value, json};
use tests::app::spawn_app;
use tests::{TestContext, eventually, history};
use tokio_util::sync::CancellationToken;

/// True once the projection's checkpoints cover every stored credit event.
async fn caught_up(context: &TestContext) -> bool {
    let (applied, stored): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COALESCE(sum(sequence), 0)::bigint FROM projection_checkpoints WHERE projection = 'credit_balances'), \
                (SELECT count(*) FROM events WHERE aggregate_type = 'CreditAccount')",
    )
    .fetch_one(&context.pool)
    .await
    .expect("counts");
    applied == stored && stored > 0
}

async fn wait_caught_up(context: &TestContext) {
    assert!(
        eventually(Duration::from_secs(60), || caught_up(context)).await,
        "the projection caught up with the store"
    );
}

/// One `rm_credit_statement` row, without its recorded_at.
type StatementLine = (
    String,
    i64,
    i64,
    String,
    String,
    String,
    Option<chrono::DateTime<chrono::Utc>>,
);

/// The read model without timestamps of when things were recorded.
async fn read_model(context: &TestContext) -> Value {
    let balances: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT account_id, balance, granted, spent, refunded, expired FROM rm_credit_balances ORDER BY account_id",
    )
    .fetch_all(&context.pool)
    .await
    .expect("balances");
    let statement: Vec<StatementLine> = sqlx::query_as(
        "SELECT account_id, sequence, change, kind, reason, reference, expires_at \
             FROM rm_credit_statement ORDER BY account_id, sequence",
    )
    .fetch_all(&context.pool)
    .await
    .expect("statement");
    json!({
        "balances": balances.iter().map(|(account, balance, granted, spent, refunded, expired)| json!({
            "account": account, "balance": balance, "granted": granted, "spent": spent,
            "refunded": refunded, "expired": expired,
        })).collect::<Vec<_>>(),
        "statement": statement.iter().map(|(account, sequence, change, kind, reason, reference, expires_at)| json!({
            "account": account, "sequence": sequence, "change": change, "kind": kind,
            "reason": reason, "reference": reference, "expires_at": expires_at,
        })).collect::<Vec<_>>(),
    })
}

fn worker(context: &TestContext, nats: async_nats::Client) -> Worker<CreditBalances> {
    Worker::new(
        context.pool.clone(),
        nats,
        context.stream.clone(),
        Arc::new(CreditBalances),
        WorkerSettings {
            batch_size: 16,
            ack_wait: Duration::from_secs(2),
            ..WorkerSettings::default()
        },
        ProjectionMetrics::default(),
    )
}

#[tokio::test]
async fn the_credit_read_model_after_a_scripted_history() {
    let context = TestContext::new().await;
    history::credits(&context.pool).await;
    let app = spawn_app(context.settings(), Parts::ALL).await;
    wait_caught_up(&context).await;
    insta::assert_json_snapshot!("credit_read_model", read_model(&context).await);
    let status = projections::worker::status(&context.pool, "credit_balances")
        .await
        .expect("status");
    assert_eq!((status.aggregates, status.parked), (12, 0));
    assert!(status.lag_seconds.is_some());
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .contains("ledgerbot_projection_events_applied_total{projection=\"credit_balances\"}"),
        "{metrics}"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn repeated_shuffled_and_withheld_events_give_the_same_read_model() {
    let context = TestContext::new().await;
    history::credits(&context.pool).await;
    // Every event twice, scrambled, and one withheld (filled from the store).
    tests::redelivery::publish_twice_scrambled(&context, ("acct-05", 3)).await;
    let app = spawn_app(context.settings(), Parts::WORKERS_ONLY).await;
    wait_caught_up(&context).await;
    insta::assert_json_snapshot!("credit_read_model", read_model(&context).await);
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn three_instances_with_one_stopped_abruptly_give_the_same_read_model() {
    let context = TestContext::new().await;
    history::credits(&context.pool).await;
    let relay = spawn_app(context.settings(), Parts::RELAY_ONLY).await;
    let client = async_nats::connect(&context.nats_url).await.expect("nats");
    let shutdown = CancellationToken::new();
    let instances: Vec<_> = (0..3)
        .map(|_| tokio::spawn(worker(&context, client.clone()).run(shutdown.clone())))
        .collect();
    // Stop one instance dead as soon as anything was applied, then start another.
    assert!(
        eventually(Duration::from_secs(30), || async {
            projections::worker::status(&context.pool, "credit_balances")
                .await
                .is_ok_and(|status| status.aggregates > 0)
        })
        .await
    );
    instances[0].abort();
    let replacement = tokio::spawn(worker(&context, client.clone()).run(shutdown.clone()));
    wait_caught_up(&context).await;
    insta::assert_json_snapshot!("credit_read_model", read_model(&context).await);
    shutdown.cancel();
    for instance in instances.into_iter().skip(1).chain([replacement]) {
        instance.await.expect("worker stops");
    }
    relay.stop().await;
    let js = jetstream::new(client);
    let _ = js.delete_stream(&context.stream.name).await;
    context.cleanup().await;
}

#[tokio::test]
async fn an_event_that_cannot_be_applied_is_parked_and_others_flow_past_it() {
    let context = TestContext::new().await;
    // A stored event of a kind this version does not know, then a good one after it,
    // and a good account beside it.
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) VALUES \
         ('CreditAccount', 'odd', 1, 'CreditsConjured', '9.0', '{\"CreditsConjured\": {\"amount\": 5}}', '{}'), \
         ('CreditAccount', 'odd', 2, 'CreditsGranted', '1.0', '{\"CreditsGranted\": {\"amount\": 3, \"reason\": \"promo\", \"reference\": \"x\", \"expires_at\": null}}', '{}'), \
         ('CreditAccount', 'fine', 1, 'CreditsGranted', '1.0', '{\"CreditsGranted\": {\"amount\": 9, \"reason\": \"promo\", \"reference\": \"y\", \"expires_at\": null}}', '{}')",
    )
    .execute(&context.pool)
    .await
    .expect("events");
    let app = spawn_app(context.settings(), Parts::ALL).await;
    wait_caught_up(&context).await;
    let balances: Vec<(String, i64)> =
        sqlx::query_as("SELECT account_id, balance FROM rm_credit_balances ORDER BY account_id")
            .fetch_all(&context.pool)
            .await
            .expect("balances");
    assert_eq!(
        balances,
        vec![("fine".to_owned(), 9), ("odd".to_owned(), 3)]
    );
    let parked: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT aggregate_id, sequence, error FROM projection_parked WHERE projection = 'credit_balances'",
    )
    .fetch_all(&context.pool)
    .await
    .expect("parked");
    assert_eq!(parked.len(), 1);
    assert_eq!((parked[0].0.as_str(), parked[0].1), ("odd", 1));
    assert!(parked[0].2.contains("CreditsConjured"), "{}", parked[0].2);
    let status = projections::worker::status(&context.pool, "credit_balances")
        .await
        .expect("status");
    assert_eq!(status.parked, 1);
    app.stop().await;
    context.cleanup().await;
}
