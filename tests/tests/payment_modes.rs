//! The sandbox never takes money in production: the binary refuses to start without
//! a chosen mode, `live` needs keys, and the sandbox sends customers back only into
//! the shop (no open redirect).

use api::startup::Parts;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::app::{run_ledgerbot, spawn_app};

fn without(env: &[(String, String)], name: &str) -> Vec<(String, String)> {
    env.iter()
        .filter(|(variable, _)| variable != name)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_binary_given_neither_a_mode_nor_keys_refuses_to_start_saying_how_to_choose() {
    let context = TestContext::new().await;
    let env = without(&context.env(), "LEDGERBOT_YOOKASSA_MODE");
    let refused = run_ledgerbot(&["serve"], &env).await;
    assert_eq!(refused.code, Some(2), "{refused:?}");
    let said: Vec<&str> = refused.stderr.lines().collect();
    assert_eq!(said.len(), 1, "one line: {refused:?}");
    assert!(
        said[0].contains("LEDGERBOT_YOOKASSA_MODE=sandbox") && said[0].contains("SHOP_ID"),
        "{refused:?}"
    );

    let mut live = env.clone();
    live.push(("LEDGERBOT_YOOKASSA_MODE".to_owned(), "live".to_owned()));
    let refused = run_ledgerbot(&["serve"], &live).await;
    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert_eq!(refused.stderr.lines().count(), 1, "{refused:?}");
    assert!(
        refused.stderr.contains("LEDGERBOT_YOOKASSA_SHOP_ID"),
        "{refused:?}"
    );
    context.cleanup().await;
}

#[tokio::test]
async fn the_sandbox_sends_customers_back_only_into_the_shop() {
    let context = TestContext::new().await;
    let app = spawn_app(context.settings(), Parts::ALL).await;
    let public = app.url("");
    let create = async |return_url: &str| -> (StatusCode, Value) {
        let answer = reqwest::Client::new()
            .post(app.url(&format!("{}/payments", api::yookassa::sandbox::API_PATH)))
            .basic_auth("sandbox", Some("sandbox"))
            .header("Idempotence-Key", uuid::Uuid::now_v7().to_string())
            .json(&json!({
                "amount": {"value": "10.00", "currency": "RUB"},
                "capture": true,
                "confirmation": {"type": "redirect", "return_url": return_url},
                "description": "probe",
            }))
            .send()
            .await
            .expect("the sandbox answers");
        let status = answer.status();
        (status, answer.json().await.unwrap_or(Value::Null))
    };
    let (status, body) = create("https://evil.example/phish").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["parameter"], "confirmation.return_url", "{body}");
    let (status, body) = create(&format!("{}.evil.example/", public.trim_end_matches('/'))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = create(&format!("{public}/app/paid")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["test"], json!(true), "{body}");
    app.stop().await;
    context.cleanup().await;
}
