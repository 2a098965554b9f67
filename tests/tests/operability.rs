//! What an operator sees: configuration errors, health, metrics, request ids,
//! graceful shutdown.

use std::process::Stdio;
use std::time::Duration;

use api::startup::Parts;
use tests::app::{LedgerbotProcess, ledgerbot_binary, spawn_app};
use tests::{TestContext, events, eventually};

/// Runs `ledgerbot serve` with one extra variable and returns (exit code, stderr).
async fn serve_with(variable: &str, value: &str) -> (Option<i32>, String) {
    let output = tokio::process::Command::new(ledgerbot_binary())
        .arg("serve")
        .env_clear()
        .env(variable, value)
        .stdin(Stdio::null())
        .output()
        .await
        .expect("ledgerbot runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn bad_configuration_stops_start_up_with_exit_code_2_and_one_readable_line() {
    let cases = [
        (
            "LEDGERBOT_RELAY_BATCH_SIZE",
            "lots",
            "ledgerbot: configuration error: LEDGERBOT_RELAY_BATCH_SIZE must be a whole number from 1 to 10000, got \"lots\"\n",
        ),
        (
            "LEDGERBOT_HTTP_ADDR",
            "8080",
            "ledgerbot: configuration error: LEDGERBOT_HTTP_ADDR must be a socket address like 127.0.0.1:8080 or 0.0.0.0:8080, got \"8080\"\n",
        ),
        (
            "DATABASE_URL",
            "mysql://root:hunter2@db/ledgerbot",
            "ledgerbot: configuration error: DATABASE_URL must be a URL like postgres://USER[:PASSWORD]@HOST:PORT/DATABASE\n",
        ),
        (
            "NATS_URL",
            "127.0.0.1:4222",
            "ledgerbot: configuration error: NATS_URL must be one or more comma-separated URLs like nats://HOST:4222\n",
        ),
    ];
    for (variable, value, expected) in cases {
        let (code, stderr) = serve_with(variable, value).await;
        assert_eq!(code, Some(2), "{variable}={value}: {stderr}");
        assert_eq!(stderr, expected, "{variable}={value}");
        assert!(!stderr.contains("hunter2") && !stderr.contains("panicked"));
    }
}

#[tokio::test]
async fn metrics_report_requests_relay_and_outbox_and_every_response_has_a_request_id() {
    let context = TestContext::new().await;
    let app = spawn_app(context.settings(), Parts::RELAY_ONLY).await;
    let client = reqwest::Client::new();
    for aggregate in 0..5 {
        events::append_next(&context.pool, "Payment", &format!("payment-{aggregate}")).await;
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            context.outbox_depth().await == 0
        })
        .await
    );

    let live = client
        .get(app.url("/health/live"))
        .send()
        .await
        .expect("live");
    assert_eq!(live.status(), 200);
    assert!(live.headers().contains_key("x-request-id"));
    let echoed = client
        .get(app.url("/health/ready"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .expect("ready");
    assert_eq!(echoed.status(), 200);
    assert_eq!(echoed.headers()["x-request-id"], "trace-me-123");
    let missing = client
        .get(app.url("/no/such/route"))
        .send()
        .await
        .expect("404");
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.expect("json error body");
    assert_eq!(body["error"]["code"], "not_found");

    let metrics = client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("text");
    for expected in [
        "ledgerbot_outbox_depth 0",
        "ledgerbot_relay_lag_seconds 0.0",
        "ledgerbot_relay_events_published_total 5",
        "ledgerbot_relay_active 1",
        "ledgerbot_http_requests_total{method=\"GET\",route=\"/health/live\",status=\"200\"} 1",
        "ledgerbot_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "ledgerbot_http_request_duration_seconds_count{method=\"GET\",route=\"/health/ready\"} 1",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    app.stop().await;

    // With the relay switched off, the outbox depth and lag show the backlog.
    let app = spawn_app(
        context.settings(),
        Parts {
            relay: false,
            workers: false,
            bot: false,
        },
    )
    .await;
    events::append_next(&context.pool, "Payment", "payment-0").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(text.contains("ledgerbot_outbox_depth 1"), "{text}");
    assert!(text.contains("ledgerbot_relay_active 0"), "{text}");
    let lag_line = text
        .lines()
        .find(|line| line.starts_with("ledgerbot_relay_lag_seconds "))
        .expect("lag line");
    let lag: f64 = lag_line
        .rsplit(' ')
        .next()
        .and_then(|value| value.parse().ok())
        .expect("a number");
    assert!(lag > 0.0, "{lag_line}");
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn sigterm_finishes_in_flight_work_and_exits_cleanly() {
    let context = TestContext::new().await;
    let server = LedgerbotProcess::start(&["serve"], &context.env()).await;
    let client = reqwest::Client::new();
    assert!(
        eventually(Duration::from_secs(10), || async {
            let response = client.get(server.url("/health/ready")).send().await;
            response.is_ok_and(|response| response.status() == 200)
        })
        .await,
        "the product becomes ready"
    );
    events::append_backlog(&context.pool, "Order", 50, 20).await;
    let status = server.terminate().await;
    assert_eq!(status.code(), Some(0), "graceful exit");
    // Whatever the relay had acknowledged is gone from the outbox; the rest waits
    // there for the next relay (nothing is lost either way).
    let jetstream = tests::stream::jetstream_at(&context.nats_url).await;
    let published = tests::stream::message_count(&jetstream, &context.stream).await;
    assert_eq!(published as i64 + context.outbox_depth().await, 1_000);
    context.cleanup().await;
}
