//! The API under 500 concurrent clients on loopback: each client, signed in as its own
//! user, sends requests back to back for a while; printed are throughput and p50/p95/p99
//! latency of one command endpoint (`POST /api/v1/credits/spend`, which also waits
//! until the read models show the spend) and one list endpoint
//! (`GET /api/v1/credits/statement`).
//!
//! Run: `cargo bench -p tests --bench api_load` (servers as for the tests).
//! `LEDGERBOT_BENCH_CLIENTS` and `LEDGERBOT_BENCH_SECONDS` change the load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use api::startup::Parts;
use domain::command::{CommandContext, Commands};
use domain::credit::{CreditCommand, GrantReason};
use futures_util::StreamExt;
use serde_json::json;
use tests::TestContext;
use tests::api_client::{settings, signed_in};
use tests::app::spawn_app;

#[tokio::main]
async fn main() {
    let clients = tests::bench_setting("LEDGERBOT_BENCH_CLIENTS", 500) as usize;
    let seconds = tests::bench_setting("LEDGERBOT_BENCH_SECONDS", 10);
    let context = TestContext::new().await;
    let mut settings = settings(&context);
    settings.limits.per_user_per_minute = 1_000_000;
    settings.limits.per_ip_per_minute = 1_000_000;
    settings.database.max_connections = 40;
    settings.log.filter = "warn".to_owned();
    let app = Arc::new(spawn_app(settings, Parts::ALL).await);
    let commands = Commands::over(context.pool.clone());

    // Users with credits to spend.
    let users: Vec<(String, String)> = futures_util::stream::iter(0..clients)
        .map(|n| {
            let app = app.clone();
            async move { signed_in(&app, 100_000 + n as i64, "Нагрузка").await }
        })
        .buffer_unordered(50)
        .collect()
        .await;
    for (_, user) in &users {
        commands
            .credits
            .execute(
                user,
                CreditCommand::Grant {
                    amount: 1_000_000,
                    reason: GrantReason::Admin,
                    reference: "bench".to_owned(),
                    expires_at: None,
                },
                &CommandContext::system("bench"),
            )
            .await
            .expect("granted");
    }

    for (name, write) in [
        ("POST /api/v1/credits/spend", true),
        ("GET /api/v1/credits/statement", false),
    ] {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients)
            .build()
            .expect("a client");
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let started = Instant::now();
        let tasks: Vec<_> = users
            .iter()
            .enumerate()
            .map(|(n, (token, _))| {
                let http = http.clone();
                let app = app.clone();
                let token = token.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut failures = 0u64;
                    let mut i = 0u64;
                    while Instant::now() < deadline {
                        let sent = Instant::now();
                        let request = if write {
                            http.post(app.url("/api/v1/credits/spend")).json(&json!({
                                "amount": 1, "reason": "bench", "operation_id": format!("op-{n}-{i}")
                            }))
                        } else {
                            http.get(app.url("/api/v1/credits/statement?limit=20"))
                        };
                        match request.bearer_auth(&token).send().await {
                            Ok(response) if response.status().is_success() => {
                                let _ = response.bytes().await;
                                latencies.push(sent.elapsed().as_secs_f64() * 1_000.0);
                            }
                            _ => failures += 1,
                        }
                        i += 1;
                    }
                    (latencies, failures)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut failures = 0;
        for task in tasks {
            let (latencies, failed) = task.await.expect("a client");
            all.extend(latencies);
            failures += failed;
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort_by(f64::total_cmp);
        let at = |q: f64| {
            all.get(((all.len() as f64) * q) as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        println!(
            "{name}: {clients} clients, {} ok, {failures} failed, {:.0} req/s, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
            all.len(),
            all.len() as f64 / elapsed,
            at(0.50),
            at(0.95),
            at(0.99)
        );
    }
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
    context.cleanup().await;
}
