//! Desktop sign-in for staff over HTTP (the use case is
//! `domain::use_cases::login_codes`): the desktop asks for a code and gets it as a
//! `t.me/<bot>?start=login_<code>` link and a QR code; a staff member confirms it in
//! the bot; the desktop collects the tokens once with its secret.
//!
//! - `POST /api/v1/auth/telegram/login-codes` → the code, the link, the QR code
//!   (PNG, base64), when it expires, and a `secret` only the desktop gets;
//! - `GET /api/v1/auth/telegram/login-codes/{code}` with header
//!   `X-Login-Secret: <secret>` → 202 while waiting, 200 with the tokens once, then
//!   410.

use std::io::Cursor;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine;
use chrono::{DateTime, Utc};
use domain::use_cases::login_codes::{CollectError, Collected, LoginCodeError, START_PREFIX};
use qrcode::{Color, QrCode};
use serde::Serialize;
use utoipa::ToSchema;

use super::routes::{me, session};
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiPath;
use crate::http::limits::ClientIp;

/// The header the desktop proves it asked for the code with.
pub const SECRET_HEADER: &str = "x-login-secret";

/// A new login code, for the desktop.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginCode {
    pub code: String,
    /// Open in Telegram to confirm: `https://t.me/<bot>?start=login_<code>`.
    pub deep_link: String,
    /// The deep link as a QR code: a PNG image, base64.
    pub qr_png_base64: String,
    pub expires_at: DateTime<Utc>,
    /// Send back as `X-Login-Secret` when collecting the tokens; show it nowhere.
    pub secret: String,
}

/// `POST /api/v1/auth/telegram/login-codes`: 201 with a new code.
#[utoipa::path(
    post,
    path = "/auth/telegram/login-codes",
    tag = "auth",
    operation_id = "auth_login_code_create",
    summary = "Start a desktop sign-in (staff)",
    description = "A code, its `t.me/<bot>?start=login_<code>` link and that link as a QR code \
        (PNG, base64), valid 5 minutes, and a secret to collect the tokens with. A staff \
        member opens the link and confirms in the bot.",
    responses(
        (status = 201, description = "A new login code", body = LoginCode),
        (status = 503, description = "The bot's username is not configured", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<LoginCode>), ApiError> {
    let Some(bot) = state.bot_username.as_deref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "telegram_not_configured",
            "desktop sign-in needs the bot's username (LEDGERBOT_BOT_USERNAME)",
        ));
    };
    let browser = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|agent| agent.chars().take(80).collect::<String>())
        .unwrap_or_else(|| "an unknown browser".to_owned());
    let issued = state
        .core
        .issue_login_code(&format!("{ip}, {browser}"), Utc::now())
        .await?;
    let (code, secret, expires_at) = (issued.code, issued.secret, issued.expires_at);
    let deep_link = format!("https://t.me/{bot}?start={START_PREFIX}{code}");
    let qr_png_base64 = base64::engine::general_purpose::STANDARD.encode(qr_png(&deep_link)?);
    Ok((
        StatusCode::CREATED,
        Json(LoginCode {
            code,
            deep_link,
            qr_png_base64,
            expires_at,
            secret,
        }),
    ))
}

/// Where a code stands, for the desktop that is waiting.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pending {
    /// Always `pending`.
    pub status: &'static str,
    pub expires_at: DateTime<Utc>,
}

/// `GET /api/v1/auth/telegram/login-codes/{code}`: 202 while unconfirmed, 200 with
/// the tokens once confirmed (once), 410 when used or expired.
#[utoipa::path(
    get,
    path = "/auth/telegram/login-codes/{code}",
    tag = "auth",
    operation_id = "auth_login_code_collect",
    summary = "Collect the tokens of a confirmed desktop sign-in",
    description = "Poll every couple of seconds with the secret from the code's creation in \
        `X-Login-Secret`: 202 while unconfirmed, 200 with the tokens once (then 410).",
    params(
        ("code" = String, Path, description = "The login code"),
        ("X-Login-Secret" = String, Header, description = "The secret the code came with"),
    ),
    responses(
        (status = 200, description = "Confirmed: the session", body = crate::auth::routes::Session),
        (status = 202, description = "Not confirmed yet", body = Pending),
        (status = 400, description = "No secret sent (`login_secret_required`)", body = ErrorBody),
        (status = 404, description = "No such code, or the wrong secret", body = ErrorBody),
        (status = 410, description = "Used (`login_code_used`) or expired (`login_code_expired`)", body = ErrorBody),
    )
)]
pub async fn collect(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let secret = headers
        .get(SECRET_HEADER)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "login_secret_required",
                "send the secret you got with the code as X-Login-Secret",
            )
        })?;
    // The profile is read before the code is spent, so a lagging read model leaves it
    // collectable.
    let collected = state
        .core
        .collect_login_code(&code, secret, Utc::now(), |staff| {
            me(&state, staff.user_id, staff.user_version)
        })
        .await
        .map_err(|error| match error {
            CollectError::Refused(refused) => login_code_error(refused),
            CollectError::Preparing(error) => error,
        })?;
    let (staff, profile) = match collected {
        Collected::Pending { expires_at } => {
            let mut response = (
                StatusCode::ACCEPTED,
                Json(Pending {
                    status: "pending",
                    expires_at,
                }),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            return Ok(response);
        }
        Collected::SignedIn { staff, prepared } => (staff, prepared),
    };
    Ok(session(
        &state,
        staff.user_id,
        staff.role,
        staff.telegram_id,
        None,
        profile,
    )
    .await?
    .into_response())
}

/// The use case's refusals as the API's.
fn login_code_error(error: LoginCodeError) -> ApiError {
    let gone = |code, message| ApiError::new(StatusCode::GONE, code, message);
    match &error {
        LoginCodeError::Unknown => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such login code")
        }
        LoginCodeError::Used | LoginCodeError::AlreadyConfirmed => gone(
            "login_code_used",
            "this login code was used; ask for a new one",
        ),
        LoginCodeError::Expired => gone(
            "login_code_expired",
            "this login code expired; ask for a new one",
        ),
        LoginCodeError::Blocked => ApiError::forbidden("this account is blocked; write to support"),
        LoginCodeError::NotStaff | LoginCodeError::NotRegistered => {
            ApiError::forbidden("desktop sign-in is for staff")
        }
        LoginCodeError::Unavailable(cause) => {
            tracing::warn!(%cause, "collecting a login code failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the store could not be reached; try again",
            )
        }
    }
}

/// Pixels per QR module and the quiet zone around the code, in modules.
const MODULE_PIXELS: usize = 8;
const QUIET_ZONE: usize = 4;

/// `text` as a black-on-white QR code, a grayscale PNG.
pub fn qr_png(text: &str) -> Result<Vec<u8>, ApiError> {
    let code = QrCode::new(text.as_bytes()).map_err(ApiError::internal)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * MODULE_PIXELS;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x, y) = (index % modules + QUIET_ZONE, index / modules + QUIET_ZONE);
        for row in y * MODULE_PIXELS..(y + 1) * MODULE_PIXELS {
            let start = row * side + x * MODULE_PIXELS;
            pixels[start..start + MODULE_PIXELS].fill(0);
        }
    }
    let side_u32 = u32::try_from(side).map_err(ApiError::internal)?;
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(Cursor::new(&mut png), side_u32, side_u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(ApiError::internal)?;
        writer
            .write_image_data(&pixels)
            .map_err(ApiError::internal)?;
        writer.finish().map_err(ApiError::internal)?;
    }
    Ok(png)
}
