//! A client of the HTTP API for tests: settings with sign-in configured, Telegram
//! sign-in, and requests that return the status with the JSON body.

use api::config::Settings;
use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::TestContext;
use crate::app::TestApp;
use crate::telegram::{signed_init_data, user_json};

/// The bot token test servers check initData with.
pub const BOT_TOKEN: &str = "4242:TEST-bot-token";
/// The secret test servers sign access tokens with.
pub const JWT_SECRET: &str = "a-test-secret-of-at-least-32-characters";

pub fn settings(context: &TestContext) -> Settings {
    let mut settings = context.settings();
    settings.auth.bot_token = Some(BOT_TOKEN.to_owned());
    settings.auth.jwt_secret = Some(JWT_SECRET.to_owned());
    settings
}

pub fn init_data(telegram_id: i64, name: &str, extra: &[(&str, &str)]) -> String {
    let auth_date = Utc::now().timestamp().to_string();
    let user = user_json(telegram_id, name);
    let mut fields = vec![
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
        ("user", user.as_str()),
        ("auth_date", auth_date.as_str()),
    ];
    fields.extend_from_slice(extra);
    signed_init_data(&fields, BOT_TOKEN)
}

pub async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .expect("the API answers");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

pub async fn get_with(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("the API answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn sign_in(app: &TestApp, init_data: String) -> Value {
    let (status, body) = post(
        app,
        "/api/v1/auth/telegram",
        json!({ "init_data": init_data }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no code>")
}

/// Signs in a Telegram user and returns (access token, user id).
pub async fn signed_in(app: &TestApp, telegram_id: i64, name: &str) -> (String, String) {
    let session = sign_in(app, init_data(telegram_id, name, &[])).await;
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

/// Signs in a Telegram user, gives them `role` (as the owner would), and signs in
/// again so the token carries it. Returns (access token, user id).
pub async fn signed_in_as(
    app: &TestApp,
    pool: &sqlx::PgPool,
    telegram_id: i64,
    name: &str,
    role: domain::permissions::Role,
) -> (String, String) {
    let (_, user) = signed_in(app, telegram_id, name).await;
    domain::command::Commands::over(pool.clone())
        .users
        .execute(
            &user,
            domain::user::UserCommand::ChangeRole {
                role,
                by: domain::permissions::Role::Owner,
            },
            &domain::command::CommandContext::system("test"),
        )
        .await
        .expect("the role changes");
    signed_in(app, telegram_id, name).await
}

/// `POST` with a bearer token.
pub async fn post_with(app: &TestApp, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    send_with(app, reqwest::Method::POST, path, token, body).await
}

/// `PUT` with a bearer token.
pub async fn put_with(app: &TestApp, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    send_with(app, reqwest::Method::PUT, path, token, body).await
}

/// A JSON body sent with a bearer token; the status and the JSON answer (null if none).
async fn send_with(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("the API answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Uploads `bytes` as `name` for `purpose` (`POST /api/v1/files`, multipart).
pub async fn upload_file(
    app: &TestApp,
    token: &str,
    purpose: &str,
    name: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let boundary = "lbt-boundary-7d3f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let response = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/files?purpose={purpose}")))
        .bearer_auth(token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("the API answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}
