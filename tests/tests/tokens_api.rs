//! Tokens under attack, black-box over HTTP: a spent refresh token replayed within
//! the retry grace leaves the successor the client already has valid (one of the
//! siblings may be used, a second use revokes the family), and the role an access
//! token claims is never trusted, not even for a user the users read model lacks.

use std::time::Duration;

use api::auth::tokens::TokenKeys;
use api::startup::Parts;
use chrono::Utc;
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{JWT_SECRET, error_code, get_with, init_data, post, settings, sign_in};
use tests::app::{TestApp, spawn_app};
use uuid::Uuid;

/// `POST /api/v1/auth/refresh` with `token`: (status, body).
async fn refresh(app: &TestApp, token: &str) -> (StatusCode, Value) {
    post(
        app,
        "/api/v1/auth/refresh",
        json!({ "refresh_token": token }),
    )
    .await
}

fn refresh_token_of(session: &Value) -> String {
    session["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned()
}

#[tokio::test]
async fn a_retried_refresh_leaves_the_first_successor_valid_and_one_sibling_may_be_used() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;

    // The client refreshes; a copy of its spent token is replayed within the grace.
    let spent = refresh_token_of(&sign_in(&app, init_data(777_020, "Вера", &[])).await);
    let (status, clients) = refresh(&app, &spent).await;
    assert_eq!(status, StatusCode::OK, "{clients}");
    let (status, copys) = refresh(&app, &spent).await;
    assert_eq!(status, StatusCode::OK, "{copys}");
    // The client's successor still works: the replay did not sign the client out.
    let (status, next) = refresh(&app, &refresh_token_of(&clients)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the client's successor survives: {next}"
    );
    // Its sibling is then a copy: using it revokes the family, the client's chain too.
    let (status, body) = refresh(&app, &refresh_token_of(&copys)).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_refresh_token")
    );
    let (status, _) = refresh(&app, &refresh_token_of(&next)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the family is revoked");

    // The other way round: the retry was the client's own (the first answer was
    // lost), so its successor is used and the lost one never is.
    let spent = refresh_token_of(&sign_in(&app, init_data(777_021, "Глеб", &[])).await);
    let (status, lost) = refresh(&app, &spent).await;
    assert_eq!(status, StatusCode::OK, "{lost}");
    let (status, retried) = refresh(&app, &spent).await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    let (status, next) = refresh(&app, &refresh_token_of(&retried)).await;
    assert_eq!(status, StatusCode::OK, "{next}");
    let (status, next) = refresh(&app, &refresh_token_of(&next)).await;
    assert_eq!(status, StatusCode::OK, "the chain goes on: {next}");
    // Once a successor was used, a replay of the spent token is a copy's, even
    // within the grace.
    let (status, _) = refresh(&app, &spent).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = refresh(&app, &refresh_token_of(&next)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the family is revoked");

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn the_role_a_token_claims_is_never_trusted_even_for_users_the_read_model_lacks() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let keys = TokenKeys::new(
        JWT_SECRET.as_bytes(),
        Duration::from_secs(60),
        Duration::from_secs(60),
    );
    let claiming_owner = |user: Uuid, telegram_id: i64| {
        keys.issue_access(user, Role::Owner, telegram_id, Utc::now())
            .expect("a token")
    };
    let session = sign_in(&app, init_data(777_030, "Лев", &[])).await;
    let client: Uuid = session["user"]["user_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("a user id");
    let token = claiming_owner(client, 777_030);
    let (status, body) = get_with(&app, "/api/v1/users", &token).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the read model's role: {body}"
    );

    // The users read model loses the row (a rebuild): the role comes from the store.
    sqlx::query("DELETE FROM rm_users WHERE user_id = $1")
        .bind(client.to_string())
        .execute(&context.pool)
        .await
        .expect("the row goes");
    let (status, body) = get_with(&app, "/api/v1/users", &token).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "the store's role, not the token's: {body}"
    );
    // A user nobody knows is no caller at all.
    let (status, body) = get_with(&app, "/api/v1/users", &claiming_owner(Uuid::now_v7(), 1)).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_token"),
        "{body}"
    );

    app.stop().await;
    context.cleanup().await;
}
