//! WebSockets at scale: `ledgerbot serve` as a process of its own holds 10,000 live-feed
//! connections (5 per user, 2,000 users: a user may hold 8) while 100 events a second
//! are committed on the users' accounts, each through the command path the API uses
//! (with its inline read models); printed are the fan-out delay from an event's `recorded_at` (the
//! `at` of its update: its transaction's start, a little before the commit) to the
//! frame's arrival (p50/p95/p99), frames missing, and the server process's
//! memory per connection (its resident set before and after the sockets opened).
//! A socket the server closes (over the per-user limit) is counted and expects nothing.
//!
//! Run: `cargo build --release --bin ledgerbot && cargo bench -p tests --bench
//! websocket_fanout`. `LEDGERBOT_BENCH_SOCKETS` (10,000), `LEDGERBOT_BENCH_USERS` (2,000),
//! `LEDGERBOT_BENCH_EVENTS_PER_SECOND` (100) and `LEDGERBOT_BENCH_SECONDS` (30) change it.
//! The bench and the server each hold one descriptor per socket: `ulimit -n` must allow
//! it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::command::{CommandContext, Commands};
use domain::credit::CreditCommand;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{BOT_TOKEN, JWT_SECRET, init_data};
use tests::app::LedgerbotProcess;
use tokio_tungstenite::tungstenite::Message;

/// The resident set of process `pid` in KiB.
fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64) * q) as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    let sockets = tests::bench_setting("LEDGERBOT_BENCH_SOCKETS", 10_000) as usize;
    let users = (tests::bench_setting("LEDGERBOT_BENCH_USERS", 2_000) as usize).max(1);
    let per_user = sockets.div_ceil(users);
    assert!(
        per_user <= api::live::socket::MAX_SOCKETS_PER_USER,
        "{per_user} sockets per user is over the server's limit of {}: raise LEDGERBOT_BENCH_USERS",
        api::live::socket::MAX_SOCKETS_PER_USER
    );
    let rate = tests::bench_setting("LEDGERBOT_BENCH_EVENTS_PER_SECOND", 100);
    let seconds = tests::bench_setting("LEDGERBOT_BENCH_SECONDS", 30);
    let context = TestContext::new().await;
    let mut env = context.env();
    env.extend([
        ("LEDGERBOT_BOT_TOKEN".to_owned(), BOT_TOKEN.to_owned()),
        ("LEDGERBOT_JWT_SECRET".to_owned(), JWT_SECRET.to_owned()),
        (
            "LEDGERBOT_ACCESS_TOKEN_TTL_SECS".to_owned(),
            "3600".to_owned(),
        ),
        (
            "LEDGERBOT_RATE_LIMIT_PER_USER".to_owned(),
            "1000000".to_owned(),
        ),
        (
            "LEDGERBOT_RATE_LIMIT_PER_IP".to_owned(),
            "1000000".to_owned(),
        ),
        ("LEDGERBOT_LOG".to_owned(), "warn,api=info".to_owned()),
    ]);
    let server = LedgerbotProcess::start(&["serve", "--no-bot"], &env).await;
    let pid = server.child.id().expect("the server runs");
    let http = reqwest::Client::new();

    let accounts: Vec<(String, String)> = futures_util::stream::iter(0..users)
        .map(|n| {
            let (http, url) = (http.clone(), server.url("/api/v1/auth/telegram"));
            async move {
                let session: Value = http
                    .post(url)
                    .json(&json!({ "init_data": init_data(400_000 + n as i64, "Зритель", &[]) }))
                    .send()
                    .await
                    .expect("signed in")
                    .json()
                    .await
                    .expect("a session");
                (
                    session["access_token"]
                        .as_str()
                        .expect("a token")
                        .to_owned(),
                    session["user"]["user_id"]
                        .as_str()
                        .expect("an id")
                        .to_owned(),
                )
            }
        })
        .buffer_unordered(50)
        .collect()
        .await;
    let commands = Arc::new(Commands::over(context.pool.clone()).with_inline(
        &projections::read_models::inline(&projections::worker::ProjectionMetrics::default()),
    ));
    let system = CommandContext::system("bench");
    tests::grant_bench_credits(&commands, accounts.iter().map(|(_, user)| user.as_str())).await;
    // The grants' live updates written before the sockets open "from now on".
    tests::settled(&context.pool).await;
    let before = resident_kib(pid);

    // The sockets, each counting its frames and measuring commit → frame.
    let delays = Arc::new(Mutex::new(Vec::<f64>::with_capacity(1 << 20)));
    let frames = Arc::new(AtomicU64::new(0));
    let opened_at = Instant::now();
    // Told once to the readers when the run is over (they wait on nothing else, so an
    // idle socket costs the bench nothing: polling each with a timeout woke 10,000
    // tasks a second and delayed the spends this process commits).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let connected: Vec<_> = futures_util::stream::iter(0..sockets)
        .map(|n| {
            let user = n / per_user % users;
            let token = accounts[user].0.clone();
            let url = format!("ws://{}/api/v1/ws?access_token={token}", server.address);
            async move {
                let socket = tokio_tungstenite::connect_async(url).await;
                (user, socket.map(|(socket, _)| socket))
            }
        })
        .buffer_unordered(100)
        .collect()
        .await;
    let opening = opened_at.elapsed();
    let mut tasks = Vec::with_capacity(connected.len());
    let sockets_of: Arc<Vec<AtomicU64>> = Arc::new((0..users).map(|_| AtomicU64::new(0)).collect());
    let closed = Arc::new(AtomicUsize::new(0));
    let mut failed = 0;
    for (user, socket) in connected {
        let Ok(socket) = socket else {
            failed += 1;
            continue;
        };
        sockets_of[user].fetch_add(1, Ordering::Relaxed);
        let (delays, frames) = (delays.clone(), frames.clone());
        let mut stopped = stopped.clone();
        let (sockets_of, closed) = (sockets_of.clone(), closed.clone());
        tasks.push(tokio::spawn(async move {
            let (_, mut incoming) = socket.split();
            loop {
                let next = tokio::select! {
                    _ = stopped.changed() => break,
                    next = incoming.next() => next,
                };
                let text = match next {
                    Some(Ok(Message::Text(text))) => text,
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => {
                        if !*stopped.borrow() {
                            sockets_of[user].fetch_sub(1, Ordering::Relaxed);
                            closed.fetch_add(1, Ordering::Relaxed);
                        }
                        break;
                    }
                    Some(Ok(_)) => continue,
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if frame["type"] == "update"
                    && frame["event"] == "CreditsSpent"
                    && let Some(at) = frame["at"]
                        .as_str()
                        .and_then(|at| at.parse::<DateTime<Utc>>().ok())
                {
                    let delay = (Utc::now() - at).num_microseconds().unwrap_or(0) as f64 / 1_000.0;
                    delays.lock().expect("the delays").push(delay);
                    frames.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = resident_kib(pid);
    let open = tasks.len() - closed.load(Ordering::Relaxed);
    println!(
        "{open} WebSockets open on one `ledgerbot serve` ({failed} refused, {} closed by the server) in {:.1} s; \
         server resident set {:.1} MiB before, {:.1} MiB after: {:.1} KiB per connection",
        closed.load(Ordering::Relaxed),
        opening.as_secs_f64(),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / open.max(1) as f64
    );

    // The events: `rate` spends a second, round the users, each in a task of its own so
    // a slow commit does not hold up the next.
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let expected = Arc::new(AtomicU64::new(0));
    let mut spends = tokio::task::JoinSet::new();
    let mut sent = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        ticker.tick().await;
        let n = sent as usize % users;
        let (commands, system, sockets_of, expected) = (
            commands.clone(),
            system.clone(),
            sockets_of.clone(),
            expected.clone(),
        );
        let user = accounts[n].1.clone();
        let spend = CreditCommand::Spend {
            amount: 1,
            reason: "bench".to_owned(),
            operation_id: format!("fan-out-{sent}"),
            at: Utc::now(),
        };
        spends.spawn(async move {
            if commands
                .credits
                .execute(&user, spend, &system)
                .await
                .is_ok()
            {
                // Every socket of this user gets a frame.
                expected.fetch_add(sockets_of[n].load(Ordering::Relaxed), Ordering::Relaxed);
            }
        });
        sent += 1;
    }
    while spends.join_next().await.is_some() {}
    let expected = expected.load(Ordering::Relaxed);
    let committing = started.elapsed().as_secs_f64();
    // The last frames' time to arrive, then the sockets stop.
    let _ = tests::eventually(Duration::from_secs(10), || {
        let frames = frames.clone();
        async move { frames.load(Ordering::Relaxed) >= expected }
    })
    .await;
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    let mut delays = delays.lock().expect("the delays").clone();
    delays.sort_by(f64::total_cmp);
    let received = frames.load(Ordering::Relaxed);
    println!(
        "{sent} events in {committing:.1} s ({:.0}/s), {received} frames of {expected} expected \
         ({} missing): fan-out commit -> frame p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        sent as f64 / committing,
        expected.saturating_sub(received),
        quantile(&delays, 0.50),
        quantile(&delays, 0.95),
        quantile(&delays, 0.99),
        delays.last().copied().unwrap_or(f64::NAN),
    );
    server.kill().await;
    context.cleanup().await;
}
