//! The seeds' load model: 500 users, each signed in as itself, acting like a Mini App
//! user (a request every 1–3 s; about 80 % reads — my orders, my balance, my ticket's
//! thread — and 20 % commands — a spend, a message in my ticket, a shop order), with
//! 1,000 WebSockets (two per user) receiving their updates. Printed: p50/p95/p99 per
//! endpoint, and the fan-out delay from an event's commit (`at` of its update) to the
//! frame's arrival. Then the same users and think time against a plain-transaction
//! baseline in the same run: a minimal axum endpoint whose spend is one locked
//! transaction on a balance row (no events, no read models).
//!
//! Run: `cargo bench -p tests --bench seeds_load`. `LEDGERBOT_BENCH_CLIENTS` (500),
//! `LEDGERBOT_BENCH_SOCKETS_PER_CLIENT` (2) and `LEDGERBOT_BENCH_SECONDS` (60) change it;
//! `LEDGERBOT_BENCH_CLIENTS=50` is the light load.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::startup::Parts;
use chrono::{DateTime, Utc};
use domain::command::Commands;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{settings, signed_in};
use tests::app::spawn_app;
use tokio_tungstenite::tungstenite::Message;

type Latencies = Arc<Mutex<BTreeMap<&'static str, (Vec<f64>, u64)>>>;

fn record(latencies: &Latencies, name: &'static str, outcome: Option<f64>) {
    let mut all = latencies.lock().expect("the latencies");
    let entry = all.entry(name).or_default();
    match outcome {
        Some(ms) => entry.0.push(ms),
        None => entry.1 += 1,
    }
}

fn quantiles(mut samples: Vec<f64>) -> (usize, f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        samples
            .get(((samples.len() as f64) * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    (samples.len(), at(0.50), at(0.95), at(0.99))
}

fn print(latencies: &Latencies, seconds: f64) {
    for (name, (samples, failures)) in latencies.lock().expect("the latencies").iter() {
        let (n, p50, p95, p99) = quantiles(samples.clone());
        println!(
            "  {name:<34} {n:>7} ok {failures:>4} failed {:>7.1}/s   p50 {p50:>7.1} ms   p95 {p95:>7.1} ms   p99 {p99:>7.1} ms",
            n as f64 / seconds
        );
    }
}

/// A small xorshift, so each user's choices differ but runs repeat.
struct Dice(u64);
impl Dice {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

async fn think(dice: &mut Dice) {
    tokio::time::sleep(Duration::from_millis(1_000 + dice.below(2_000))).await;
}

async fn timed(request: reqwest::RequestBuilder) -> Option<f64> {
    let sent = Instant::now();
    match request.send().await {
        Ok(response) if response.status().is_success() => {
            let _ = response.bytes().await;
            Some(sent.elapsed().as_secs_f64() * 1_000.0)
        }
        _ => None,
    }
}

#[tokio::main]
async fn main() {
    let clients = tests::bench_setting("LEDGERBOT_BENCH_CLIENTS", 500) as usize;
    let sockets_per_client = tests::bench_setting("LEDGERBOT_BENCH_SOCKETS_PER_CLIENT", 2) as usize;
    let seconds = tests::bench_setting("LEDGERBOT_BENCH_SECONDS", 60);
    let context = TestContext::new().await;
    let mut settings = settings(&context);
    settings.limits.per_user_per_minute = 1_000_000;
    settings.limits.per_ip_per_minute = 1_000_000;
    settings.log.filter = "warn".to_owned();
    let app = Arc::new(spawn_app(settings, Parts::ALL).await);
    let commands = Commands::over(context.pool.clone());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .expect("a client");

    // Users with credits and a ticket of their own.
    let users: Vec<(String, String, String)> = futures_util::stream::iter(0..clients)
        .map(|n| {
            let app = app.clone();
            let http = http.clone();
            async move {
                let (token, user) = signed_in(&app, 300_000 + n as i64, "Пользователь").await;
                let ticket: Value = http
                    .post(app.url("/api/v1/tickets"))
                    .bearer_auth(&token)
                    .json(&json!({"category": "payments", "title": "Вопрос", "description": "Где кредиты?"}))
                    .send()
                    .await
                    .expect("a ticket")
                    .json()
                    .await
                    .expect("its JSON");
                let ticket = ticket["ticket"]["ticket_id"]
                    .as_str()
                    .or_else(|| ticket["ticket_id"].as_str())
                    .expect("a ticket id")
                    .to_owned();
                (token, user, ticket)
            }
        })
        .buffer_unordered(50)
        .collect()
        .await;
    tests::grant_bench_credits(&commands, users.iter().map(|(_, user, _)| user.as_str())).await;

    // The WebSockets, each measuring commit → frame.
    let fan_out = Arc::new(Mutex::new(Vec::<f64>::new()));
    let deadline = Instant::now() + Duration::from_secs(seconds) + Duration::from_secs(5);
    let mut sockets = Vec::new();
    for (token, _, _) in &users {
        for _ in 0..sockets_per_client {
            let url = format!("ws://{}/api/v1/ws?access_token={token}", app.address);
            let (socket, _) = tokio_tungstenite::connect_async(url)
                .await
                .expect("a socket");
            let fan_out = fan_out.clone();
            sockets.push(tokio::spawn(async move {
                let (_, mut incoming) = socket.split();
                while Instant::now() < deadline {
                    let text =
                        match tokio::time::timeout(Duration::from_secs(1), incoming.next()).await {
                            Ok(Some(Ok(Message::Text(text)))) => text,
                            Ok(None) | Ok(Some(Err(_))) => break, // the socket closed
                            _ => continue,
                        };
                    let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                        continue;
                    };
                    if frame["type"] == "update"
                        && let Some(at) = frame["at"]
                            .as_str()
                            .and_then(|at| at.parse::<DateTime<Utc>>().ok())
                    {
                        let delay =
                            (Utc::now() - at).num_microseconds().unwrap_or(0) as f64 / 1_000.0;
                        fan_out.lock().expect("the delays").push(delay);
                    }
                }
            }));
        }
    }
    println!(
        "{clients} users with think time 1-3 s, {} WebSockets, {seconds} s",
        sockets.len()
    );

    let latencies: Latencies = Arc::default();
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = users
        .iter()
        .enumerate()
        .map(|(n, (token, _, ticket))| {
            let (http, app, token, ticket, latencies) =
                (http.clone(), app.clone(), token.clone(), ticket.clone(), latencies.clone());
            tokio::spawn(async move {
                let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1));
                let mut i = 0;
                think(&mut dice).await;
                while Instant::now() < end {
                    let roll = dice.below(100);
                    let (name, request) = match roll {
                        0..27 => ("GET /orders", http.get(app.url("/api/v1/orders?limit=20"))),
                        27..54 => ("GET /credits", http.get(app.url("/api/v1/credits"))),
                        54..80 => ("GET /tickets/{id}", http.get(app.url(&format!("/api/v1/tickets/{ticket}")))),
                        80..88 => ("POST /credits/spend", http.post(app.url("/api/v1/credits/spend")).json(&json!({
                            "amount": 1, "reason": "bench", "operation_id": format!("op-{n}-{i}")}))),
                        88..95 => ("POST /tickets/{id}/messages", http.post(app.url(&format!("/api/v1/tickets/{ticket}/messages"))).json(&json!({"text": "ещё вопрос"}))),
                        _ => ("POST /orders", http.post(app.url("/api/v1/orders")).json(&json!({
                            "kind": "shop", "items": [{"product_id": "mug", "quantity": 1}],
                            "delivery": {"recipient": "Костя", "phone": "+79990000001", "address": "Тверь"}}))),
                    };
                    record(&latencies, name, timed(request.bearer_auth(&token)).await);
                    i += 1;
                    think(&mut dice).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a user");
    }
    let elapsed = started.elapsed().as_secs_f64();
    for socket in sockets {
        let _ = socket.await;
    }
    println!("Ledgerbot (API, relay, workers and read models in one process):");
    print(&latencies, elapsed);
    let (n, p50, p95, p99) = quantiles(fan_out.lock().expect("the delays").clone());
    println!(
        "  {:<34} {n:>7} frames   p50 {p50:>7.1} ms   p95 {p95:>7.1} ms   p99 {p99:>7.1} ms",
        "fan-out commit -> WebSocket frame"
    );

    // The baseline: the same users and think time, a spend as one plain transaction.
    let baseline = tests::plain_spend::serve(context.pool.clone(), clients).await;
    let latencies: Latencies = Arc::default();
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|n| {
            let (http, latencies, url) = (
                http.clone(),
                latencies.clone(),
                format!("http://{baseline}/spend"),
            );
            tokio::spawn(async move {
                let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (n as u64 + 1));
                think(&mut dice).await;
                while Instant::now() < end {
                    let request = http.post(&url).json(&json!({"account": n, "amount": 1}));
                    record(
                        &latencies,
                        "POST /spend (plain transaction)",
                        timed(request).await,
                    );
                    think(&mut dice).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a user");
    }
    println!("Baseline (axum + one locked transaction per spend, same users and think time):");
    print(&latencies, started.elapsed().as_secs_f64());
    if let Ok(app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
    context.cleanup().await;
}
