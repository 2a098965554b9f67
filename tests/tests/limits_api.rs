//! The API's limits over HTTP: per-user and per-address request rates (429 with
//! Retry-After in the error shape), the body size limit, and CORS for the configured
//! Mini App origin only.

use api::startup::Parts;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{error_code, get_with, settings, signed_in};
use tests::app::spawn_app;

#[tokio::test]
async fn a_caller_over_the_rate_is_told_when_to_come_back() {
    let context = TestContext::new().await;
    let mut settings = settings(&context);
    settings.limits.per_user_per_minute = 5;
    let app = spawn_app(settings, Parts::ALL).await;
    let (token, _) = signed_in(&app, 333_001, "Лена").await;
    for _ in 0..5 {
        let (status, _) = get_with(&app, "/api/v1/credits/catalogue", &token).await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = reqwest::Client::new()
        .get(app.url("/api/v1/credits/catalogue"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!(
        (1..=12).contains(&wait),
        "one token comes back every 12 s: {wait}"
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "rate_limited");
    // Someone else is not affected.
    let (other, _) = signed_in(&app, 333_002, "Максим").await;
    let (status, _) = get_with(&app, "/api/v1/credits/catalogue", &other).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;

    let mut settings = tests::api_client::settings(&context);
    settings.limits.per_ip_per_minute = 3;
    let app = spawn_app(settings, Parts::RELAY_ONLY).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            reqwest::get(app.url("/api/v1/credits/catalogue"))
                .await
                .expect("answers")
                .status(),
        );
    }
    assert_eq!(
        statuses,
        vec![
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let health = reqwest::get(app.url("/health/live"))
        .await
        .expect("answers");
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "health checks are not rate limited"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn bodies_are_capped_and_only_the_mini_app_origin_may_call_from_a_browser() {
    let context = TestContext::new().await;
    let mut settings = settings(&context);
    settings.cors_origins = vec!["https://miniapp.example".to_owned()];
    let app = spawn_app(settings, Parts::RELAY_ONLY).await;
    let client = reqwest::Client::new();
    let huge = json!({ "init_data": "x".repeat(100 * 1024) });
    let response = client
        .post(app.url("/api/v1/auth/telegram"))
        .json(&huge)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "body_too_large");

    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/credits"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("https://miniapp.example").await.expect("answers");
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap_or_default()),
        Some("https://miniapp.example")
    );
    let refused = preflight("https://evil.example").await.expect("answers");
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    app.stop().await;
    context.cleanup().await;
}
