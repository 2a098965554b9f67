//! Desktop sign-in with a login code, black-box: the desktop gets a code, a t.me
//! link and a QR code; staff confirm in the bot (the bot's call, made here as the
//! bot makes it); the desktop collects the tokens once with its secret.

use api::startup::Parts;
use base64::Engine;
use domain::permissions::Role;
use domain::use_cases::login_codes::LoginCodeError as ConfirmError;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{error_code, get_with, settings, signed_in, signed_in_as};
use tests::app::{TestApp, spawn_app};

async fn create(app: &TestApp) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/auth/telegram/login-codes"))
        .header("user-agent", "Firefox/140 on the salon's PC")
        .send()
        .await
        .expect("answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn collect(app: &TestApp, code: &str, secret: Option<&str>) -> (StatusCode, Value) {
    let mut request =
        reqwest::Client::new().get(app.url(&format!("/api/v1/auth/telegram/login-codes/{code}")));
    if let Some(secret) = secret {
        request = request.header("x-login-secret", secret);
    }
    let response = request.send().await.expect("answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn staff_sign_in_on_a_desktop_by_confirming_a_code_in_the_bot() {
    let context = TestContext::new().await;
    let mut settings = settings(&context);
    settings.bot_username = Some("salon_crm_bot".to_owned());
    let app = spawn_app(settings, Parts::ALL).await;
    let (_, master) = signed_in_as(&app, &context.pool, 888_001, "Вера", Role::Support).await;
    signed_in(&app, 888_002, "Дарья").await;

    let (status, login) = create(&app).await;
    assert_eq!(status, StatusCode::CREATED, "{login}");
    let code = login["code"].as_str().expect("a code").to_owned();
    let secret = login["secret"].as_str().expect("a secret").to_owned();
    assert_eq!(
        login["deep_link"],
        format!("https://t.me/salon_crm_bot?start=login_{code}")
    );
    // The start parameter Telegram passes on: at most 64 of A-Z a-z 0-9 _ -.
    let start = format!("login_{code}");
    assert!(
        start.len() <= 64
            && start
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(login["qr_png_base64"].as_str().expect("a QR code"))
        .expect("base64");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let reader = decoder.read_info().expect("a PNG");
    let info = reader.info();
    assert_eq!(info.width, info.height);
    assert!(
        info.width >= 21 * 8,
        "a QR code of at least version 1 at 8 px a module"
    );

    // Waiting: the secret is required, and only the right one works.
    let (status, body) = collect(&app, &code, None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "login_secret_required")
    );
    let (status, _) = collect(&app, &code, Some("guessed")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, pending) = collect(&app, &code, Some(&secret)).await;
    assert_eq!(
        (status, &pending["status"]),
        (StatusCode::ACCEPTED, &json!("pending"))
    );

    // The bot's side: strangers and clients cannot confirm; staff can, once.
    let now = chrono::Utc::now();
    assert_eq!(
        app.state.core.confirm_login_code(&code, 999_999, now).await,
        Err(ConfirmError::NotRegistered)
    );
    assert_eq!(
        app.state.core.confirm_login_code(&code, 888_002, now).await,
        Err(ConfirmError::NotStaff)
    );
    assert_eq!(
        app.state
            .core
            .confirm_login_code("0000", 888_001, now)
            .await,
        Err(ConfirmError::Unknown)
    );
    let confirmed = app
        .state
        .core
        .confirm_login_code(&code, 888_001, now)
        .await
        .expect("confirmed");
    assert_eq!(confirmed.user_id.to_string(), master);
    assert!(
        confirmed.requested_from.contains("127.0.0.1")
            && confirmed.requested_from.contains("Firefox"),
        "{}",
        confirmed.requested_from
    );
    assert_eq!(
        app.state.core.confirm_login_code(&code, 888_001, now).await,
        Err(ConfirmError::AlreadyConfirmed)
    );

    // The desktop collects the tokens once; they are the staff member's.
    let (status, session) = collect(&app, &code, Some(&secret)).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let token = session["access_token"].as_str().expect("a token");
    let (status, me) = get_with(&app, "/api/v1/auth/me", token).await;
    assert_eq!(
        (status, &me["user_id"], &me["role"]),
        (StatusCode::OK, &json!(master), &json!("support"))
    );
    let (status, body) = collect(&app, &code, Some(&secret)).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::GONE, "login_code_used")
    );

    // Five minutes later a code is dead for both sides.
    let (_, late) = create(&app).await;
    let late_code = late["code"].as_str().expect("a code");
    let confirm_late = app
        .state
        .core
        .confirm_login_code(late_code, 888_001, now + chrono::Duration::minutes(6))
        .await;
    assert_eq!(confirm_late, Err(ConfirmError::Expired));
    sqlx::query("UPDATE auth_login_codes SET expires_at = now() - interval '1 second'")
        .execute(&context.pool)
        .await
        .expect("ages the codes");
    let (status, body) = collect(&app, late_code, late["secret"].as_str()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::GONE, "login_code_expired")
    );
}

#[tokio::test]
async fn without_the_bots_username_desktop_sign_in_is_unavailable() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (status, body) = create(&app).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "telegram_not_configured"),
        "{body}"
    );
}
