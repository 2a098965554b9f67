//! `/api/v1/auth/*` black-box over HTTP: Telegram sign-in with initData, one user per
//! Telegram account, token refresh with rotation and reuse detection, sign-out, the
//! caller's own profile, and every refusal in the API's error shape.

use std::time::Duration;

use api::auth::tokens::TokenKeys;
use api::startup::Parts;
use chrono::Utc;
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::api_client::{
    BOT_TOKEN, JWT_SECRET, error_code, get_with, init_data, post, settings, sign_in,
};
use tests::app::spawn_app;
use tests::telegram::{signed_init_data, user_json};
use tests::{TestContext, eventually};
use uuid::Uuid;

#[tokio::test]
async fn signing_in_registers_once_and_refresh_tokens_rotate() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;

    let session = sign_in(&app, init_data(777_001, "Дарья", &[])).await;
    let mut shown = session.clone();
    shown["access_token"] = json!("<jwt>");
    shown["refresh_token"] = json!("<token>");
    shown["user"]["user_id"] = json!("<uuid>");
    shown["user"]["referral_code"] = json!("<code>");
    insta::assert_json_snapshot!("telegram_sign_in", shown);
    let user_id = session["user"]["user_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let again = sign_in(&app, init_data(777_001, "Дарья", &[])).await;
    assert_eq!(
        again["user"]["user_id"],
        json!(user_id),
        "the same Telegram account is the same user"
    );

    // Two first sign-ins of one new account at the same moment: one user.
    let (first, second) = tokio::join!(
        sign_in(&app, init_data(777_002, "Егор", &[])),
        sign_in(&app, init_data(777_002, "Егор", &[])),
    );
    assert_eq!(first["user"]["user_id"], second["user"]["user_id"]);
    let registrations: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'UserRegistered' AND payload -> 'UserRegistered' ->> 'telegram_id' = '777002'",
    )
    .fetch_one(&context.pool)
    .await
    .expect("count");
    assert_eq!(registrations, 1);

    let access = session["access_token"].as_str().expect("a token");
    let (status, me) = get_with(&app, "/api/v1/auth/me", access).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user_id"], json!(user_id));

    // Refresh: a new pair; the old refresh token is spent.
    let old_refresh = session["refresh_token"].as_str().expect("a token");
    let (status, renewed) = post(
        &app,
        "/api/v1/auth/refresh",
        json!({ "refresh_token": old_refresh }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    let new_refresh = renewed["refresh_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    assert_ne!(new_refresh, old_refresh);
    // A retry within seconds (the answer was lost on the way) gets another successor.
    let (status, retried) = post(
        &app,
        "/api/v1/auth/refresh",
        json!({ "refresh_token": old_refresh }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_ne!(retried["refresh_token"], json!(new_refresh));
    let retried = retried["refresh_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    // Later, using the spent one again means a copy exists: the whole family is revoked.
    sqlx::query("UPDATE auth_refresh_tokens SET used_at = used_at - interval '1 minute' WHERE used_at IS NOT NULL")
        .execute(&context.pool)
        .await
        .expect("ages the use");
    let (status, body) = post(
        &app,
        "/api/v1/auth/refresh",
        json!({ "refresh_token": old_refresh }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
    );
    for newer in [&new_refresh, &retried] {
        let (status, _) = post(
            &app,
            "/api/v1/auth/refresh",
            json!({ "refresh_token": newer }),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "the newer tokens went with their family"
        );
    }

    // Sign-out revokes.
    let fresh = sign_in(&app, init_data(777_001, "Дарья", &[])).await;
    let token = fresh["refresh_token"].as_str().expect("a token");
    let (status, _) = post(
        &app,
        "/api/v1/auth/logout",
        json!({ "refresh_token": token }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = post(
        &app,
        "/api/v1/auth/refresh",
        json!({ "refresh_token": token }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn bad_init_data_bad_bodies_and_bad_tokens_are_refused_in_one_shape() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let sign = |body: Value| {
        let app = &app;
        async move { post(app, "/api/v1/auth/telegram", body).await }
    };

    let good = init_data(777_010, "Анна", &[]);
    let tampered = good.replace("%D0%90", "%D0%91"); // А → Б in the name
    assert_ne!(good, tampered);
    let (status, body) = sign(json!({ "init_data": tampered })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "init_data_invalid")
    );
    insta::assert_json_snapshot!("init_data_invalid", body);

    let other_bot = signed_init_data(
        &[
            ("user", &user_json(777_010, "Анна")),
            ("auth_date", &Utc::now().timestamp().to_string()),
        ],
        "4243:ANOTHER-bot",
    );
    let (status, body) = sign(json!({ "init_data": other_bot })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "init_data_invalid")
    );

    // initData is a sign-in credential: by default it is good for an hour (a session
    // then lives on through refresh tokens).
    let signed_ago = |minutes: i64| {
        let date = (Utc::now() - chrono::Duration::minutes(minutes))
            .timestamp()
            .to_string();
        signed_init_data(
            &[("user", &user_json(777_010, "Анна")), ("auth_date", &date)],
            BOT_TOKEN,
        )
    };
    let (status, body) = sign(json!({ "init_data": signed_ago(61) })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "init_data_expired"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("3600 s")),
        "{body}"
    );
    let (status, body) = sign(json!({ "init_data": signed_ago(59) })).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = sign(json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    insta::assert_json_snapshot!("sign_in_without_init_data", body);
    let (status, body) = sign(json!({ "init_data": "no-equals-sign" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"]["field"], json!("init_data"));

    let response = reqwest::Client::new()
        .post(app.url("/api/v1/auth/telegram"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "malformed_json");
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/auth/telegram"))
        .body("init_data=x")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Access tokens: missing, tampered, expired, signed with another key.
    let response = reqwest::get(app.url("/api/v1/auth/me"))
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let session = sign_in(&app, good).await;
    let access = session["access_token"].as_str().expect("a token");
    let mut tampered = access.to_owned();
    let flip = tampered.len() - 5;
    let replacement = if &tampered[flip..flip + 1] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(flip..flip + 1, replacement);
    let (status, body) = get_with(&app, "/api/v1/auth/me", &tampered).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    let user: Uuid = session["user"]["user_id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let keys = TokenKeys::new(
        JWT_SECRET.as_bytes(),
        Duration::from_secs(60),
        Duration::from_secs(60),
    );
    let expired = keys
        .issue_access(
            user,
            Role::Client,
            777_010,
            Utc::now() - chrono::Duration::hours(1),
        )
        .expect("a token");
    let (status, body) = get_with(&app, "/api/v1/auth/me", &expired).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "token_expired")
    );
    let foreign = TokenKeys::new(
        b"another-secret-of-at-least-32-chars!",
        Duration::from_secs(60),
        Duration::from_secs(60),
    )
    .issue_access(user, Role::Owner, 777_010, Utc::now())
    .expect("a token");
    let (status, body) = get_with(&app, "/api/v1/auth/me", &foreign).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn profile_changes_read_back_at_once_and_referral_links_attach() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let inviter = sign_in(&app, init_data(777_020, "Вера", &[])).await;
    let code = inviter["user"]["referral_code"]
        .as_str()
        .expect("a code")
        .to_owned();
    let start_param = format!("ref_{code}");
    let invited = sign_in(
        &app,
        init_data(777_021, "Глеб", &[("start_param", &start_param)]),
    )
    .await;
    assert_eq!(invited["user"]["referrer_id"], inviter["user"]["user_id"]);

    let access = invited["access_token"].as_str().expect("a token");
    let response = reqwest::Client::new()
        .patch(app.url("/api/v1/auth/me"))
        .bearer_auth(access)
        .json(&json!({ "first_name": "Глеб Петрович", "language": "en" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        (body["first_name"].as_str(), body["language"].as_str()),
        (Some("Глеб Петрович"), Some("en"))
    );
    let (_, me) = get_with(&app, "/api/v1/auth/me", access).await;
    assert_eq!(
        me["first_name"],
        json!("Глеб Петрович"),
        "read right after the write"
    );
    let response = reqwest::Client::new()
        .patch(app.url("/api/v1/auth/me"))
        .bearer_auth(access)
        .json(&json!({ "last_name": null }))
        .send()
        .await
        .expect("answers");
    let cleared: Value = response.json().await.expect("json");
    assert_eq!(
        (cleared["last_name"].clone(), cleared["language"].clone()),
        (Value::Null, json!("en")),
        "null clears, absent keeps"
    );

    let response = reqwest::Client::new()
        .patch(app.url("/api/v1/auth/me"))
        .bearer_auth(access)
        .json(&json!({ "language": "a-language-code-far-too-long" }))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["details"]["field"], json!("language"));

    let inviter_access = inviter["access_token"].as_str().expect("a token");
    assert!(
        eventually(Duration::from_secs(10), || async {
            get_with(&app, "/api/v1/auth/me", inviter_access).await.1["referrals"] == json!(1)
        })
        .await
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn blocked_users_and_unconfigured_servers_cannot_sign_in() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let session = sign_in(&app, init_data(777_030, "Жанна", &[])).await;
    let user = session["user"]["user_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    domain::command::Commands::over(context.pool.clone())
        .users
        .execute(
            &user,
            domain::user::UserCommand::Block {
                reason: "spam".to_owned(),
                by: Role::Admin,
            },
            &domain::command::CommandContext::system("test"),
        )
        .await
        .expect("blocked");
    let still_valid = session["access_token"].as_str().expect("a token");
    assert!(
        tests::eventually(Duration::from_secs(10), || async {
            get_with(&app, "/api/v1/auth/me", still_valid).await.0 == StatusCode::FORBIDDEN
        })
        .await,
        "a block counts at once, not when the access token lapses"
    );
    let (status, body) = post(
        &app,
        "/api/v1/auth/telegram",
        json!({ "init_data": init_data(777_030, "Жанна", &[]) }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let (status, _) = post(
        &app,
        "/api/v1/auth/refresh",
        json!({ "refresh_token": session["refresh_token"] }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;

    let unconfigured = spawn_app(context.settings(), Parts::ALL).await;
    let (status, body) = post(
        &unconfigured,
        "/api/v1/auth/telegram",
        json!({ "init_data": init_data(1, "A", &[]) }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "telegram_not_configured")
    );
    unconfigured.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn refresh_tokens_long_expired_are_pruned_and_current_ones_kept() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    sign_in(&app, init_data(777_040, "Зоя", &[])).await;
    sign_in(&app, init_data(777_041, "Яна", &[])).await;
    sqlx::query(
        "UPDATE auth_refresh_tokens SET expires_at = now() - interval '8 days' \
         WHERE user_id = (SELECT user_id FROM telegram_identities WHERE telegram_id = 777040)",
    )
    .execute(&context.pool)
    .await
    .expect("aged");
    let pruned = api::auth::tokens::prune_expired(&context.pool, Utc::now())
        .await
        .expect("pruned");
    assert_eq!(pruned, 1);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM auth_refresh_tokens")
        .fetch_one(&context.pool)
        .await
        .expect("count");
    assert_eq!(left, 1);
    app.stop().await;
    context.cleanup().await;
}
