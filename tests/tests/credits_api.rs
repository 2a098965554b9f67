//! `/api/v1/credits` black-box over HTTP: balance with points that lapse soon, the
//! statement page by page, spending once per operation id, refusals, the catalogue.

use api::startup::Parts;
use chrono::{Duration, Utc};
use domain::command::{CommandContext, Commands};
use domain::credit::{CreditCommand, GrantReason};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{error_code, get_with, post_with, settings, signed_in};
use tests::app::spawn_app;

#[tokio::test]
async fn a_user_sees_spends_and_pages_through_their_credits() {
    let context = TestContext::new().await;
    let mut settings = settings(&context);
    settings.programs.monthly_allowance = 0;
    let app = spawn_app(settings, Parts::ALL).await;
    let (token, user) = signed_in(&app, 888_001, "Ирина").await;
    let commands = Commands::over(context.pool.clone());
    let who = CommandContext::system("test");
    for (amount, reason, reference, expires) in [
        (100, GrantReason::Purchase, "pay-1", None),
        (
            40,
            GrantReason::LoyaltyCashback,
            "order-1",
            Some(Utc::now() + Duration::days(10)),
        ),
        (
            25,
            GrantReason::Promo,
            "promo-1",
            Some(Utc::now() + Duration::days(90)),
        ),
    ] {
        commands
            .credits
            .execute(
                &user,
                CreditCommand::Grant {
                    amount,
                    reason,
                    reference: reference.to_owned(),
                    expires_at: expires,
                },
                &who,
            )
            .await
            .expect("granted");
    }

    let spend = json!({ "amount": 30, "reason": "image generation", "operation_id": "gen-1" });
    let (status, after) = post_with(&app, "/api/v1/credits/spend", &token, spend.clone()).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(
        after["balance"],
        json!(135),
        "read back right after the spend"
    );
    let soon: Vec<(Value, Value)> = after["expiring_soon"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|lot| (lot["reference"].clone(), lot["remaining"].clone()))
        .collect();
    assert_eq!(
        soon.len(),
        1,
        "only the cashback lapses within 30 days: {after}"
    );
    assert_eq!(soon[0].0, json!("order-1"));
    let (status, again) = post_with(&app, "/api/v1/credits/spend", &token, spend).await;
    assert_eq!(
        (status, &again["balance"]),
        (StatusCode::OK, &json!(135)),
        "the same operation spends once"
    );

    let (status, body) = post_with(
        &app,
        "/api/v1/credits/spend",
        &token,
        json!({ "amount": 1000, "reason": "image generation", "operation_id": "gen-2" }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "insufficient_credits"),
        "{body}"
    );
    let (status, body) = post_with(
        &app,
        "/api/v1/credits/spend",
        &token,
        json!({ "amount": 0, "reason": "x", "operation_id": "gen-3" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"]["field"], json!("amount"));
    let (status, body) = post_with(
        &app,
        "/api/v1/credits/spend",
        &token,
        json!({ "amount": -1, "reason": "x", "operation_id": "g" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"]["field"], json!("amount"));

    let (status, first) = get_with(&app, "/api/v1/credits/statement?limit=2", &token).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let sequences = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|line| line["sequence"].as_i64().expect("seq"))
            .collect()
    };
    assert_eq!(sequences(&first), vec![4, 3]);
    let cursor = first["next_cursor"].as_i64().expect("a cursor");
    let (_, second) = get_with(
        &app,
        &format!("/api/v1/credits/statement?limit=2&before={cursor}"),
        &token,
    )
    .await;
    assert_eq!(sequences(&second), vec![2, 1]);
    assert_eq!(second["next_cursor"], Value::Null);
    let (status, body) = get_with(&app, "/api/v1/credits/statement?limit=500", &token).await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("limit"))
    );
    let (status, body) = get_with(&app, "/api/v1/credits/statement?colour=red", &token).await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("colour"))
    );

    let catalogue: Value = reqwest::get(app.url("/api/v1/credits/catalogue"))
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    insta::assert_json_snapshot!("credit_catalogue", catalogue);
    let response = reqwest::get(app.url("/api/v1/credits"))
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
    context.cleanup().await;
}
