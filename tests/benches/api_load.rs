//! The API's ceiling: closed-loop clients on loopback, each signed in as its own user
//! and sending requests back to back, at rising concurrency; printed per step are
//! throughput, p50/p95/p99 latency and the CPU each request cost Postgres and this
//! process (the API, relay and workers run in it, with the load generator), for one
//! command endpoint (`POST /api/v1/credits/spend`, which answers with the balance read
//! back), one list endpoint (`GET /api/v1/credits/statement`) and, as the baseline in
//! the same run, a plain locked transaction per spend (`tests::plain_spend`).
//!
//! Run: `cargo bench -p tests --bench api_load` (500 clients).
//! `LEDGERBOT_BENCH_CONCURRENCY=10,50,100,250,500` prints the curve;
//! `LEDGERBOT_BENCH_SECONDS` (10) is each step's length.

use std::sync::Arc;
use std::time::{Duration, Instant};

use api::startup::Parts;
use domain::command::Commands;
use futures_util::StreamExt;
use serde_json::json;
use tests::TestContext;
use tests::api_client::{settings, signed_in};
use tests::app::spawn_app;
use tests::cpu::CpuTime;

/// One step of the curve: `clients` closed-loop clients for `seconds`.
struct Step {
    ok: Vec<f64>,
    failed: u64,
    elapsed: f64,
    cpu: CpuTime,
}

async fn step<F>(clients: usize, seconds: u64, request: Arc<F>) -> Step
where
    F: Fn(usize, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let cpu_before = CpuTime::now();
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failed = 0u64;
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match request(client, i).send().await {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            latencies.push(sent.elapsed().as_secs_f64() * 1_000.0);
                        }
                        _ => failed += 1,
                    }
                    i += 1;
                }
                (latencies, failed)
            })
        })
        .collect();
    let mut ok = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let (latencies, failures) = task.await.expect("a client");
        ok.extend(latencies);
        failed += failures;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = CpuTime::now().since(&cpu_before);
    ok.sort_by(f64::total_cmp);
    Step {
        ok,
        failed,
        elapsed,
        cpu,
    }
}

fn print(name: &str, clients: usize, step: &Step) {
    let at = |q: f64| {
        step.ok
            .get(((step.ok.len() as f64) * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let answered = step.ok.len().max(1) as f64;
    println!(
        "{name:<32} {clients:>5} clients {:>7.0} req/s {:>5} failed   p50 {:>7.1} ms  p95 {:>7.1} ms  p99 {:>7.1} ms   CPU per request: Postgres {:.2} ms, this process {:.2} ms",
        step.ok.len() as f64 / step.elapsed,
        step.failed,
        at(0.50),
        at(0.95),
        at(0.99),
        step.cpu.postgres * 1_000.0 / answered,
        step.cpu.this_process * 1_000.0 / answered,
    );
}

#[tokio::main]
async fn main() {
    let levels: Vec<usize> = std::env::var("LEDGERBOT_BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "500".to_owned())
        .split(',')
        .filter_map(|level| level.trim().parse().ok())
        .collect();
    let most = levels.iter().copied().max().unwrap_or(500);
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
    let users: Vec<(String, String)> = futures_util::stream::iter(0..most)
        .map(|n| {
            let app = app.clone();
            async move { signed_in(&app, 100_000 + n as i64, "Нагрузка").await }
        })
        .buffer_unordered(50)
        .collect()
        .await;
    tests::grant_bench_credits(&commands, users.iter().map(|(_, user)| user.as_str())).await;
    tests::settled(&context.pool).await;
    let tokens: Arc<Vec<String>> = Arc::new(users.into_iter().map(|(token, _)| token).collect());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(most)
        .build()
        .expect("a client");
    let baseline = tests::plain_spend::serve(context.pool.clone(), most).await;
    let base = app.url("");

    let spend = {
        let (http, tokens, base) = (http.clone(), tokens.clone(), base.clone());
        // A fresh operation id each time: every request is a spend, never a repeat.
        Arc::new(move |client: usize, _: u64| {
            http.post(format!("{base}/api/v1/credits/spend"))
                .bearer_auth(&tokens[client])
                .json(&json!({"amount": 1, "reason": "bench", "operation_id": uuid::Uuid::now_v7().to_string()}))
        })
    };
    let statement = {
        let (http, tokens, base) = (http.clone(), tokens.clone(), base.clone());
        Arc::new(move |client: usize, _: u64| {
            http.get(format!("{base}/api/v1/credits/statement?limit=20"))
                .bearer_auth(&tokens[client])
        })
    };
    let plain = {
        let http = http.clone();
        Arc::new(move |client: usize, _: u64| {
            http.post(format!("http://{baseline}/spend"))
                .json(&json!({"account": client, "amount": 1}))
        })
    };
    // Each step starts once the pipeline has caught up with the last, so no step
    // pays for another's backlog.
    assert!(
        !levels.is_empty(),
        "LEDGERBOT_BENCH_CONCURRENCY names no level"
    );
    for &clients in &levels {
        let run = step(clients, seconds, spend.clone()).await;
        print("POST /api/v1/credits/spend", clients, &run);
        tests::settled(&context.pool).await;
        let run = step(clients, seconds, plain.clone()).await;
        print("POST /spend (plain transaction)", clients, &run);
        let run = step(clients, seconds, statement.clone()).await;
        print("GET /api/v1/credits/statement", clients, &run);
    }
    drop((spend, statement, plain));
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
    context.cleanup().await;
}
