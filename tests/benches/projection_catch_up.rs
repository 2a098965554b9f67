//! Projection catch-up: a credit-balances worker starting 100,000 events behind, in
//! events per second from its start to the last checkpoint written.
//!
//! Run: `cargo bench -p tests --bench projection_catch_up` (servers as for the tests).
//! `LEDGERBOT_BENCH_EVENTS` changes the count.

use std::sync::Arc;
use std::time::{Duration, Instant};

use projections::read_models::credits::CreditBalances;
use projections::relay::{Relay, RelayMetrics, RelaySettings};
use projections::worker::{ProjectionMetrics, Worker, WorkerSettings};
use tests::TestContext;
use tokio_util::sync::CancellationToken;

const ACCOUNTS: i64 = 1_000;

#[tokio::main]
async fn main() {
    let total: i64 = tests::bench_setting("LEDGERBOT_BENCH_EVENTS", 100_000) as i64;
    let per_account = (total / ACCOUNTS).max(1);
    let total = per_account * ACCOUNTS;
    let context = TestContext::new().await;
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         SELECT 'CreditAccount', 'acct-' || (g % $1), g / $1 + 1, 'CreditsGranted', '1.0', \
                json_build_object('CreditsGranted', json_build_object('amount', 5, 'reason', 'purchase', \
                  'reference', 'payment-' || g, 'expires_at', null)), '{}' \
         FROM generate_series(0, $1 * $2 - 1) AS g",
    )
    .bind(ACCOUNTS)
    .bind(per_account)
    .execute(&context.pool)
    .await
    .expect("events");

    // Get everything onto the stream first (not measured).
    let client = async_nats::connect(&context.nats_url).await.expect("nats");
    let shutdown = CancellationToken::new();
    let relay = Relay::new(
        context.pool.clone(),
        client.clone(),
        context.stream.clone(),
        RelaySettings::default(),
        RelayMetrics::default(),
    );
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    while context.outbox_depth().await > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    relay_task.await.expect("relay");

    println!("projection catch-up: {total} events over {ACCOUNTS} credit accounts");
    for batch_size in [100, 500, 1_000] {
        sqlx::query("TRUNCATE projection_checkpoints, rm_credit_balances, rm_credit_statement")
            .execute(&context.pool)
            .await
            .expect("reset");
        let stream = async_nats::jetstream::new(client.clone())
            .get_stream(&context.stream.name)
            .await
            .expect("stream");
        let _ = stream.delete_consumer("credit_balances").await;
        let stop = CancellationToken::new();
        let worker = Worker::new(
            context.pool.clone(),
            client.clone(),
            context.stream.clone(),
            Arc::new(CreditBalances),
            WorkerSettings {
                batch_size,
                ..WorkerSettings::default()
            },
            ProjectionMetrics::default(),
        );
        let started = Instant::now();
        let task = tokio::spawn(worker.run(stop.clone()));
        loop {
            let applied: i64 = sqlx::query_scalar(
                "SELECT COALESCE(sum(sequence), 0)::bigint FROM projection_checkpoints WHERE projection = 'credit_balances'",
            )
            .fetch_one(&context.pool)
            .await
            .expect("checkpoints");
            if applied >= total {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = started.elapsed();
        stop.cancel();
        task.await.expect("worker");
        println!(
            "batch {batch_size:>5}: {:>8.3} s  {:>8.0} events/s",
            elapsed.as_secs_f64(),
            total as f64 / elapsed.as_secs_f64()
        );
    }
    context.cleanup().await;
}
