//! `ledgerbot replay rebuild all` and `replay verify` over a large store: events per
//! second and peak memory (the process's VmHWM), next to a raw `COPY` of the same
//! rows out of Postgres in the same run; at a quarter of the size and at the full
//! size, so memory that grew with the history would show.
//!
//! The store is the scripted business week (`tests::history::business`: every
//! aggregate type, payments, refunds, bookings, tickets) copied with fresh ids until
//! it holds `LEDGERBOT_BENCH_EVENTS` events (1,000,000 by default).
//!
//! Run: `cargo build --bin ledgerbot && cargo bench -p tests --bench replay_rebuild`.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tests::TestContext;
use tests::app::ledgerbot_binary;

/// Fills the store with copies of the week until it holds about `target` events.
async fn fill(context: &TestContext, target: i64) -> i64 {
    tests::history::business(&context.pool).await;
    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_outbox")
        .execute(&context.pool)
        .await
        .expect("no outbox rows for the copies");
    let week: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_id LIKE '00000000-0000-0000-0000-%'",
    )
    .fetch_one(&context.pool)
    .await
    .expect("counts");
    let copies = (target / week.max(1)).max(1);
    let mut done = 1;
    while done < copies {
        let last = (done + 500).min(copies);
        // Every id of the week starts with 00000000-0000-0000-0000-; a copy's ids start
        // with its number instead, and its Telegram ids and referral codes get the number
        // in front.
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             SELECT e.aggregate_type, replace(e.aggregate_id, '00000000-0000-0000-0000-', lpad(to_hex(n), 8, '0') || '-0000-0000-0000-'), \
                    e.sequence, e.event_type, e.event_version, \
                    replace(replace(replace(e.payload::text, '00000000-0000-0000-0000-', lpad(to_hex(n), 8, '0') || '-0000-0000-0000-'), \
                            '\"telegram_id\":', '\"telegram_id\":' || n), \
                            '\"referral_code\":\"', '\"referral_code\":\"' || to_hex(n) || 'x')::json, \
                    replace(e.metadata::text, '00000000-0000-0000-0000-', lpad(to_hex(n), 8, '0') || '-0000-0000-0000-')::json \
             FROM generate_series($1::bigint, $2::bigint) AS n \
             CROSS JOIN (SELECT * FROM events WHERE aggregate_id LIKE '00000000-0000-0000-0000-%' \
                         ORDER BY global_position) e \
             ORDER BY n, e.global_position",
        )
        .bind(done)
        .bind(last - 1)
        .execute(&context.pool)
        .await
        .expect("copies of the week");
        done = last;
    }
    sqlx::query("ALTER TABLE events ENABLE TRIGGER events_outbox")
        .execute(&context.pool)
        .await
        .expect("trigger back");
    sqlx::query("DELETE FROM outbox")
        .execute(&context.pool)
        .await
        .expect("empty outbox");
    sqlx::query("ANALYZE")
        .execute(&context.pool)
        .await
        .expect("analyzed");
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&context.pool)
        .await
        .expect("counts")
}

/// Seconds and bytes of `COPY (SELECT …) TO STDOUT` of every event row.
async fn copy_out(context: &TestContext) -> (f64, u64) {
    let started = Instant::now();
    let mut connection = context.pool.acquire().await.expect("a connection");
    let mut stream = connection
        .copy_out_raw(
            "COPY (SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
                   metadata, global_position, recorded_at, hash FROM events) TO STDOUT",
        )
        .await
        .expect("copy");
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next().await {
        bytes += chunk.expect("a chunk").len() as u64;
    }
    (started.elapsed().as_secs_f64(), bytes)
}

/// Runs `ledgerbot <args>` and returns (seconds, peak resident memory in MiB, stdout).
async fn measured(context: &TestContext, args: &[&str]) -> (f64, f64, String) {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(ledgerbot_binary())
        .args(args)
        .env_clear()
        .envs(context.env())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ledgerbot runs");
    let pid = child.id().expect("a pid");
    let mut stdout = child.stdout.take().expect("stdout");
    let reading = tokio::spawn(async move {
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut stdout, &mut text)
            .await
            .ok();
        text
    });
    let mut peak_kib = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(line) = status.lines().find(|line| line.starts_with("VmHWM:"))
        {
            let kib = line
                .split_whitespace()
                .nth(1)
                .and_then(|value| value.parse().ok())
                .unwrap_or(0);
            peak_kib = peak_kib.max(kib);
        }
        if let Ok(Some(status)) = child.try_wait() {
            assert!(status.success(), "ledgerbot {args:?} failed");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = reading.await.expect("stdout read");
    (
        started.elapsed().as_secs_f64(),
        peak_kib as f64 / 1024.0,
        text,
    )
}

#[tokio::main]
async fn main() {
    let full = tests::bench_setting("LEDGERBOT_BENCH_EVENTS", 1_000_000) as i64;
    println!(
        "replay rebuild and verify, the business week copied to a quarter and to the full size"
    );
    println!(
        "{:>9} | {:>15} | {:>29} | {:>27} | {:>27}",
        "events",
        "COPY out",
        "rebuild all: store events/s",
        "applied events/s, peak",
        "verify: events/s, peak"
    );
    for target in [full / 4, full] {
        let context = TestContext::new().await;
        let filling = Instant::now();
        let events = fill(&context, target).await;
        eprintln!(
            "filled {events} events in {:.0} s",
            filling.elapsed().as_secs_f64()
        );
        let (copy_seconds, bytes) = copy_out(&context).await;
        let (rebuild_seconds, rebuild_peak, reports) =
            measured(&context, &["replay", "rebuild", "all", "--json"]).await;
        let applied: u64 = reports
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .map(|report| {
                eprintln!(
                    "  {:<18} {:>9} events {:>8.0} events/s",
                    report["projection"].as_str().unwrap_or_default(),
                    report["events"],
                    report["events_per_second"].as_f64().unwrap_or_default()
                );
                report["events"].as_u64().unwrap_or_default()
            })
            .sum();
        let (verify_seconds, verify_peak, _) =
            measured(&context, &["replay", "verify", "--json"]).await;
        println!(
            "{events:>9} | {:>7.2} s {:>4} MB | {:>7.1} s {:>10.0} events/s | {:>9.0} /s {:>8.1} MiB | {:>7.0} /s {:>4.2} s {:>5.1} MiB",
            copy_seconds,
            bytes / 1_000_000,
            rebuild_seconds,
            events as f64 / rebuild_seconds,
            applied as f64 / rebuild_seconds,
            rebuild_peak,
            events as f64 / verify_seconds,
            verify_seconds,
            verify_peak,
        );
        println!(
            "{:>9}   COPY reads {:.0} events/s; verify takes {:.1}× the COPY's time, rebuild all {:.1}×",
            "",
            events as f64 / copy_seconds,
            verify_seconds / copy_seconds,
            rebuild_seconds / copy_seconds
        );
        context.cleanup().await;
    }
}
