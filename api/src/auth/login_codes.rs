//! Desktop sign-in for staff (the salon CRM on a computer without Telegram's Mini
//! App): the desktop asks for a login code, shows it as a `t.me/<bot>?start=login_<code>`
//! link and a QR code, the staff member opens it and confirms in the bot, and the
//! desktop collects the tokens once.
//!
//! - `POST /api/v1/auth/telegram/login-codes` → the code, the link, the QR code
//!   (PNG, base64), when it expires, and a `secret` only the desktop gets;
//! - the bot calls [`confirm`] when the staff member confirms;
//! - `GET /api/v1/auth/telegram/login-codes/{code}` with header
//!   `X-Login-Secret: <secret>` → 202 while waiting, 200 with the tokens once, then
//!   410. Someone who only saw the QR code over a shoulder cannot collect the
//!   tokens: they lack the secret.
//!
//! Codes live five minutes and work once. Codes and secrets are stored as SHA-256
//! digests.

use std::io::Cursor;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use domain::permissions::Role;
use qrcode::{Color, QrCode};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;
use uuid::Uuid;

use super::routes::{me, session};
use super::tokens::{digest_of, random_hex};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiPath, ErrorBody};
use crate::http::limits::ClientIp;

/// How long a code may be confirmed and collected.
pub const LOGIN_CODE_LIFETIME: Duration = Duration::minutes(5);
/// The `start` parameter prefix the bot recognises.
pub const START_PREFIX: &str = "login_";
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
    path = "/api/v1/auth/telegram/login-codes",
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
    let code = random_hex::<16>()?;
    let secret = random_hex::<32>()?;
    let now = Utc::now();
    let expires_at = now + LOGIN_CODE_LIFETIME;
    let browser = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .map(|agent| agent.chars().take(80).collect::<String>())
        .unwrap_or_else(|| "an unknown browser".to_owned());
    sqlx::query(
        "INSERT INTO auth_login_codes (code_hash, secret_hash, requested_from, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(digest_of(&code))
    .bind(digest_of(&secret))
    .bind(format!("{ip}, {browser}"))
    .bind(now)
    .bind(expires_at)
    .execute(&state.pool)
    .await?;
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

/// (secret_hash, expires_at, confirmed_by, consumed_at)
type CodeRow = (Vec<u8>, DateTime<Utc>, Option<Uuid>, Option<DateTime<Utc>>);

/// `GET /api/v1/auth/telegram/login-codes/{code}`: 202 while unconfirmed, 200 with
/// the tokens once confirmed (once), 410 when used or expired.
#[utoipa::path(
    get,
    path = "/api/v1/auth/telegram/login-codes/{code}",
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
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such login code");
    let row: Option<CodeRow> = sqlx::query_as(
        "SELECT secret_hash, expires_at, confirmed_by, consumed_at FROM auth_login_codes WHERE code_hash = $1",
    )
    .bind(digest_of(&code))
    .fetch_optional(&state.pool)
    .await?;
    let (secret_hash, expires_at, confirmed_by, consumed_at) = row.ok_or_else(not_found)?;
    if digest_of(secret) != secret_hash {
        return Err(not_found());
    }
    let now = Utc::now();
    if consumed_at.is_some() {
        return Err(gone(
            "login_code_used",
            "this login code was used; ask for a new one",
        ));
    }
    if expires_at <= now {
        return Err(gone(
            "login_code_expired",
            "this login code expired; ask for a new one",
        ));
    }
    if confirmed_by.is_none() {
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
    let Some(user_id) = confirmed_by else {
        return Err(not_found());
    };
    // Everything that can refuse comes before the code is spent, so a refusal or an
    // outage leaves it collectable.
    let (user, version) = state.commands.users.load(&user_id.to_string()).await?;
    if user.is_blocked() {
        return Err(ApiError::forbidden(
            "this account is blocked; write to support",
        ));
    }
    if !user.role().is_staff() {
        return Err(ApiError::forbidden("desktop sign-in is for staff"));
    }
    let telegram_id: Option<i64> =
        sqlx::query_scalar("SELECT telegram_id FROM telegram_identities WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&state.pool)
            .await?;
    let telegram_id = telegram_id.ok_or_else(not_found)?;
    let profile = me(&state, user_id, version).await?;
    // Exactly one collector wins.
    let taken: Option<Uuid> = sqlx::query_scalar(
        "UPDATE auth_login_codes SET consumed_at = $2 \
         WHERE code_hash = $1 AND consumed_at IS NULL AND confirmed_by = $3 AND expires_at > $2 \
         RETURNING confirmed_by",
    )
    .bind(digest_of(&code))
    .bind(now)
    .bind(user_id)
    .fetch_optional(&state.pool)
    .await?;
    if taken.is_none() {
        return Err(gone(
            "login_code_used",
            "this login code was used; ask for a new one",
        ));
    }
    Ok(
        session(&state, user_id, user.role(), telegram_id, None, profile)
            .await?
            .into_response(),
    )
}

fn gone(code: &'static str, message: &'static str) -> ApiError {
    ApiError::new(StatusCode::GONE, code, message)
}

/// Why the bot could not confirm a code; each is a sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfirmError {
    #[error("this login link is unknown; open the newest one from your computer")]
    Unknown,
    #[error("this login link expired; ask your computer for a new one")]
    Expired,
    #[error("this login link was already confirmed")]
    AlreadyConfirmed,
    #[error("open the Mini App once first, so we know you")]
    NotRegistered,
    #[error("desktop sign-in is for staff; use the Mini App")]
    NotStaff,
    #[error("this account is blocked; write to support")]
    Blocked,
    #[error("something went wrong on our side; try again")]
    Database(String),
}

impl From<sqlx::Error> for ConfirmError {
    fn from(error: sqlx::Error) -> Self {
        ConfirmError::Database(error.to_string())
    }
}

/// What the bot shows once a code is confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    pub user_id: Uuid,
    /// The desktop's address and browser, as it asked for the code.
    pub requested_from: String,
}

/// The bot's half: the Telegram user `telegram_id` confirms `code` (the `start`
/// parameter without its `login_` prefix). Only registered, unblocked staff may.
pub async fn confirm(
    pool: &PgPool,
    code: &str,
    telegram_id: i64,
    now: DateTime<Utc>,
) -> Result<Confirmed, ConfirmError> {
    let found: Option<(Uuid, Option<String>, Option<bool>)> = sqlx::query_as(
        "SELECT t.user_id, u.role, u.blocked FROM telegram_identities t \
         LEFT JOIN rm_users u ON u.user_id = t.user_id::text WHERE t.telegram_id = $1",
    )
    .bind(telegram_id)
    .fetch_optional(pool)
    .await?;
    let Some((user_id, role, blocked)) = found else {
        return Err(ConfirmError::NotRegistered);
    };
    if blocked == Some(true) {
        return Err(ConfirmError::Blocked);
    }
    let staff = role
        .as_deref()
        .and_then(super::role_named)
        .is_some_and(Role::is_staff);
    if !staff {
        return Err(ConfirmError::NotStaff);
    }
    let confirmed: Option<String> = sqlx::query_scalar(
        "UPDATE auth_login_codes SET confirmed_by = $2, confirmed_at = $3 \
         WHERE code_hash = $1 AND confirmed_by IS NULL AND expires_at > $3 \
         RETURNING requested_from",
    )
    .bind(digest_of(code))
    .bind(user_id)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    if let Some(requested_from) = confirmed {
        return Ok(Confirmed {
            user_id,
            requested_from,
        });
    }
    let state: Option<(DateTime<Utc>, Option<Uuid>)> = sqlx::query_as(
        "SELECT expires_at, confirmed_by FROM auth_login_codes WHERE code_hash = $1",
    )
    .bind(digest_of(code))
    .fetch_optional(pool)
    .await?;
    Err(match state {
        None => ConfirmError::Unknown,
        Some((_, Some(_))) => ConfirmError::AlreadyConfirmed,
        Some(_) => ConfirmError::Expired,
    })
}

/// Deletes codes that expired over a day ago.
pub async fn prune_expired(pool: &PgPool, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM auth_login_codes WHERE expires_at < $1")
            .bind(now - Duration::days(1))
            .execute(pool)
            .await?
            .rows_affected(),
    )
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
