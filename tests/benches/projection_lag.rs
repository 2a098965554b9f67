//! Projection lag at a steady command rate: commands go through the command service
//! at 1,000 per second for 10 seconds while the relay and the credit-balances worker
//! run, each with a pool of its own as in a deployment. Printed: the relay's share
//! (`recorded_at` to arrival on NATS), and the lag to the read-model row
//! (`projected_at` of the statement line) from `recorded_at` (the transaction's start)
//! and from the moment the writer learnt its command committed, the figure a client
//! reading its own write sees.
//!
//! Run: `cargo bench -p tests --bench projection_lag` (servers as for the tests).
//! `LEDGERBOT_BENCH_RATE` and `LEDGERBOT_BENCH_SECONDS` change the load.

use std::sync::Arc;
use std::time::Duration;

use domain::command::{CommandContext, CommandService};
use domain::credit::{CreditAccount, CreditCommand, GrantReason};
use projections::read_models::credits::CreditBalances;
use projections::relay::{Relay, RelayMetrics, RelaySettings};
use projections::worker::{ProjectionMetrics, Worker, WorkerSettings};
use tests::TestContext;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() {
    let rate = tests::bench_setting("LEDGERBOT_BENCH_RATE", 1_000);
    let seconds = tests::bench_setting("LEDGERBOT_BENCH_SECONDS", 10);
    let context = TestContext::new().await;
    let pool = tests::bench_pool(&context).await;
    let client = async_nats::connect(&context.nats_url).await.expect("nats");
    let shutdown = CancellationToken::new();
    // The relay and the worker have pools of their own, as in a deployment: behind
    // the load's 40 connections they would wait for a connection, not for the database.
    let relay_pool = context.pool.clone();
    let worker_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&context.database_url)
        .await
        .expect("a worker pool");
    let relay = Relay::new(
        relay_pool,
        client.clone(),
        context.stream.clone(),
        RelaySettings::default(),
        RelayMetrics::default(),
    );
    let worker = Worker::new(
        worker_pool,
        client.clone(),
        context.stream.clone(),
        Arc::new(CreditBalances),
        WorkerSettings::default(),
        ProjectionMetrics::default(),
    );
    let relay_task = tokio::spawn(relay.run(shutdown.clone()));
    // A plain subscriber on the stream's subjects measures the relay's share:
    // receipt time minus recorded_at.
    let mut subscriber = client
        .subscribe(context.stream.all_subjects())
        .await
        .expect("subscribe");
    let relay_lags = tokio::spawn(async move {
        use futures_util::StreamExt;
        let mut lags = Vec::new();
        while let Ok(Some(message)) =
            tokio::time::timeout(Duration::from_secs(3), subscriber.next()).await
        {
            if let Ok(event) =
                serde_json::from_slice::<projections::EventEnvelope>(&message.payload)
            {
                let lag = chrono::Utc::now() - event.recorded_at;
                lags.push(lag.num_microseconds().unwrap_or(0) as f64 / 1_000.0);
            }
        }
        lags
    });
    let worker_task = tokio::spawn(worker.run(shutdown.clone()));

    let service = Arc::new(CommandService::<CreditAccount>::new(pool.clone(), ()));
    let total = rate * seconds;
    let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut commands = Vec::with_capacity(total as usize);
    for n in 0..total {
        ticker.tick().await;
        let service = service.clone();
        commands.push(tokio::spawn(async move {
            let outcome = service
                .execute(
                    &format!("acct-{}", n % 2_000),
                    CreditCommand::Grant {
                        amount: 1,
                        reason: GrantReason::Purchase,
                        reference: format!("payment-{n}"),
                        expires_at: None,
                    },
                    &CommandContext::system("bench"),
                )
                .await;
            // When the writer learnt its command committed.
            (format!("payment-{n}"), chrono::Utc::now(), outcome.is_ok())
        }));
    }
    let mut failed = 0;
    let mut committed = std::collections::HashMap::new();
    for command in commands {
        match command.await {
            Ok((reference, at, true)) => {
                committed.insert(reference, at);
            }
            _ => failed += 1,
        }
    }
    loop {
        let projected: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_credit_statement")
            .fetch_one(&pool)
            .await
            .expect("count");
        if projected >= (total - failed) as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (p50, p95, p99, max): (f64, f64, f64, f64) = sqlx::query_as(
        "SELECT percentile_cont(0.50) WITHIN GROUP (ORDER BY lag), \
                percentile_cont(0.95) WITHIN GROUP (ORDER BY lag), \
                percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag) \
         FROM (SELECT (EXTRACT(EPOCH FROM projected_at - recorded_at) * 1000)::float8 AS lag FROM rm_credit_statement) AS lags",
    )
    .fetch_one(&pool)
    .await
    .expect("percentiles");
    let projected: Vec<(String, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("SELECT reference, projected_at FROM rm_credit_statement")
            .fetch_all(&pool)
            .await
            .expect("projected");
    let mut after_commit: Vec<f64> = projected
        .iter()
        .filter_map(|(reference, projected_at)| {
            committed.get(reference).map(|committed_at| {
                (*projected_at - *committed_at)
                    .num_microseconds()
                    .unwrap_or(0) as f64
                    / 1_000.0
            })
        })
        .collect();
    after_commit.sort_by(f64::total_cmp);
    let share = |lags: &[f64], q: f64| {
        lags.get(((lags.len() as f64) * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let mut relay_lags = relay_lags.await.expect("relay lags");
    relay_lags.sort_by(f64::total_cmp);
    let at = |q: f64| {
        relay_lags
            .get(((relay_lags.len() as f64) * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "projection lag at {rate} commands/s for {seconds} s ({total} commands, {failed} failed)"
    );
    println!(
        "commit -> on NATS (relay's share): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        at(0.50),
        at(0.95),
        at(0.99)
    );
    println!(
        "recorded_at (transaction start) -> read-model row: p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms, max {max:.1} ms"
    );
    println!(
        "commit seen by the writer -> read-model row: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        share(&after_commit, 0.50),
        share(&after_commit, 0.95),
        share(&after_commit, 0.99),
        after_commit.last().copied().unwrap_or(f64::NAN)
    );
    shutdown.cancel();
    relay_task.await.expect("relay");
    worker_task.await.expect("worker");
    pool.close().await;
    context.cleanup().await;
}
