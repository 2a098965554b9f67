//! `/api/v1/users` and `/api/v1/referrals` black-box over HTTP: staff search, role
//! changes within what each role may do, the last owner kept, blocking that locks
//! sign-in, a user's history, and a customer's referral link and referrals.

use api::startup::Parts;
use chrono::{Duration, Utc};
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::json;
use tests::api_client::{
    error_code, get_with, init_data, post, post_with, settings, sign_in, signed_in,
};
use tests::app::spawn_app;
use tests::{TestContext, eventually};

#[tokio::test]
async fn staff_find_users_change_roles_block_and_the_last_owner_stays() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (owner, owner_id) =
        tests::api_client::signed_in_as(&app, &context.pool, 444_001, "Ольга", Role::Owner).await;
    let (_, admin_id) = signed_in(&app, 444_002, "Анна").await;
    let (client, client_id) = signed_in(&app, 444_003, "Дарья").await;

    let (status, promoted) = post_with(
        &app,
        &format!("/api/v1/users/{admin_id}/role"),
        &owner,
        json!({ "role": "admin" }),
    )
    .await;
    assert_eq!(
        (status, promoted["role"].as_str()),
        (StatusCode::OK, Some("admin")),
        "{promoted}"
    );
    let (admin, _) = signed_in(&app, 444_002, "Анна").await;

    let (status, found) = get_with(&app, "/api/v1/users?q=%D0%B4%D0%B0%D1%80", &admin).await; // "дар"
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["items"][0]["user_id"], json!(client_id));
    let (_, by_telegram) = get_with(&app, "/api/v1/users?q=444003", &admin).await;
    assert_eq!(by_telegram["items"][0]["user_id"], json!(client_id));
    let (status, _) = get_with(&app, "/api/v1/users", &client).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, made) = post_with(
        &app,
        &format!("/api/v1/users/{client_id}/role"),
        &admin,
        json!({ "role": "executor" }),
    )
    .await;
    assert_eq!(
        (status, made["role"].as_str()),
        (StatusCode::OK, Some("executor"))
    );
    let (status, body) = post_with(
        &app,
        &format!("/api/v1/users/{client_id}/role"),
        &admin,
        json!({ "role": "admin" }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "only an owner appoints admins: {body}"
    );
    let (status, body) = post_with(
        &app,
        &format!("/api/v1/users/{owner_id}/role"),
        &owner,
        json!({ "role": "admin" }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "last_owner")
    );
    // A second owner, demoted, cannot use their earlier token to make themselves owner again.
    let (_, second_id) = signed_in(&app, 444_004, "Семён").await;
    let (status, _) = post_with(
        &app,
        &format!("/api/v1/users/{second_id}/role"),
        &owner,
        json!({ "role": "owner" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (as_owner, _) = signed_in(&app, 444_004, "Семён").await;
    let (status, _) = post_with(
        &app,
        &format!("/api/v1/users/{second_id}/role"),
        &owner,
        json!({ "role": "client" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post_with(
        &app,
        &format!("/api/v1/users/{second_id}/role"),
        &as_owner,
        json!({ "role": "owner" }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the role counts as it is now, not as the token says: {body}"
    );
    let (status, body) = post_with(
        &app,
        &format!("/api/v1/users/{client_id}/role"),
        &admin,
        json!({ "role": "emperor" }),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("role"))
    );

    // Found by schemathesis: a reason over the documented 500 characters was taken.
    let (status, body) = post_with(
        &app,
        &format!("/api/v1/users/{client_id}/block"),
        &admin,
        json!({ "reason": "𝕏".repeat(501) }),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("reason")),
        "{body}"
    );
    let (status, blocked) = post_with(
        &app,
        &format!("/api/v1/users/{client_id}/block"),
        &admin,
        json!({ "reason": "spam" }),
    )
    .await;
    assert_eq!(
        (status, &blocked["blocked"]),
        (StatusCode::OK, &json!(true))
    );
    let (status, _) = post(
        &app,
        "/api/v1/auth/telegram",
        json!({ "init_data": init_data(444_003, "Дарья", &[]) }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, unblocked) = post_with(
        &app,
        &format!("/api/v1/users/{client_id}/unblock"),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(
        (status, &unblocked["blocked"]),
        (StatusCode::OK, &json!(false))
    );
    let (again, _) = signed_in(&app, 444_003, "Дарья").await;

    let (status, _) = post_with(
        &app,
        "/api/v1/orders",
        &again,
        json!({ "subject": "Эконометрика", "work_type": "реферат", "volume": 10, "deadline": (Utc::now() + Duration::days(5)).to_rfc3339() }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "executors may order too");
    let (status, history) =
        get_with(&app, &format!("/api/v1/users/{client_id}/history"), &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        history["orders"][0]["title"],
        json!("реферат: Эконометрика"),
        "{history}"
    );
    assert_eq!(
        (history["tickets"].clone(), history["payments"].clone()),
        (json!([]), json!([]))
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_referral_link_brings_referrals_the_inviter_can_see() {
    let context = TestContext::new().await;
    let mut settings = settings(&context);
    settings.bot_username = Some("ledgerbot_test_bot".to_owned());
    let app = spawn_app(settings, Parts::ALL).await;
    let (inviter, _) = signed_in(&app, 444_101, "Вера").await;
    let (status, mine) = get_with(&app, "/api/v1/referrals", &inviter).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let code = mine["code"].as_str().expect("a code").to_owned();
    assert_eq!(
        mine["link"],
        json!(format!(
            "https://t.me/ledgerbot_test_bot?startapp=ref_{code}"
        ))
    );
    let start = format!("ref_{code}");
    let invited = sign_in(&app, init_data(444_102, "Глеб", &[("start_param", &start)])).await;
    assert!(
        eventually(std::time::Duration::from_secs(10), || async {
            let (_, mine) = get_with(&app, "/api/v1/referrals", &inviter).await;
            mine["referrals"][0]["user_id"] == invited["user"]["user_id"]
        })
        .await
    );
    let (_, mine) = get_with(&app, "/api/v1/referrals", &inviter).await;
    assert_eq!(
        (
            mine["referrals"][0]["paid"].clone(),
            mine["earned_credits"].clone()
        ),
        (json!(false), json!(0))
    );
    app.stop().await;
    context.cleanup().await;
}
