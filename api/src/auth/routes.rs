//! `/api/v1/auth/*`: sign in with Mini App initData, refresh, sign out, and the
//! signed-in user's own profile.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::command::CommandError;
use domain::use_cases::Written;
use domain::use_cases::identity::{Standing, blocked};
use domain::use_cases::users::ProfileChange as ChangeOfProfile;
use projections::read_models::users::Me;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AuthUser;
use super::tokens::revoke_family;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, present_or_null};
use crate::telegram::init_data::{InitDataError, validate};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TelegramSignIn {
    /// `Telegram.WebApp.initData`, exactly as the Mini App has it.
    pub init_data: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Tokens and the user they are for.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(examples("Bearer"))]
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// Trade it at `POST /api/v1/auth/refresh` for a new pair; it works once.
    pub refresh_token: String,
    pub user: Me,
}

/// `POST /api/v1/auth/telegram`
#[utoipa::path(
    post,
    path = "/auth/telegram",
    tag = "auth",
    operation_id = "auth_telegram",
    summary = "Sign in with the Mini App's initData",
    description = "Checks `Telegram.WebApp.initData` (signed for this bot, not too old), \
        registers the Telegram user on first sign-in (a `start_param` of `ref_<code>` names \
        the referrer) and answers with an access token and a refresh token.",
    request_body = TelegramSignIn,
    responses(
        (status = 200, description = "Signed in", body = Session),
        (status = 401, description = "initData is expired (`init_data_expired`) or not \
            signed for this bot (`init_data_invalid`)", body = ErrorBody),
        (status = 403, description = "The account is blocked", body = ErrorBody),
        (status = 422, description = "initData is malformed or has no user \
            (`details.field` is `init_data`)", body = ErrorBody),
        (status = 503, description = "Telegram sign-in is not configured \
            (`telegram_not_configured`), or the profile is still being prepared \
            (`not_ready`, retry in a second)", body = ErrorBody),
    )
)]
pub async fn telegram(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<TelegramSignIn>,
) -> Result<Json<Session>, ApiError> {
    let Some(bot_token) = state.auth.bot_token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "telegram_not_configured",
            "Telegram sign-in is not configured on this server (LEDGERBOT_BOT_TOKEN)",
        ));
    };
    let now = Utc::now();
    let data = validate(
        &request.init_data,
        bot_token,
        now,
        Some(state.auth.init_data_max_age),
    )
    .map_err(init_data_error)?;
    let telegram = data.user.ok_or_else(|| {
        ApiError::invalid_field(
            "init_data",
            "initData has no user: open the Mini App from a chat with the bot",
        )
    })?;
    let signed_in = state
        .core
        .sign_in(&telegram.profile(), data.start_param.as_deref(), now)
        .await?;
    let user = me(&state, signed_in.user_id, signed_in.user_version).await?;
    session(
        &state,
        signed_in.user_id,
        signed_in.role,
        telegram.id,
        None,
        user,
    )
    .await
}

/// `POST /api/v1/auth/refresh`: a new access token and a new refresh token; the old
/// refresh token stops working.
#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    operation_id = "auth_refresh",
    summary = "Trade a refresh token for a new pair",
    description = "The old refresh token stops working. Used again within 10 seconds (a \
        client retrying a lost answer) it gives a sibling pair and the first sibling used wins; \
        used again later, or a second sibling used, every token of its family is revoked.",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access token and refresh token", body = Session),
        (status = 401, description = "The refresh token is unknown, expired, revoked or \
            used before (`invalid_refresh_token`)", body = ErrorBody),
        (status = 403, description = "The account is blocked; the family is revoked", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Json<Session>, ApiError> {
    let now = Utc::now();
    let (user_id, refresh_token) = state
        .auth
        .keys
        .rotate_refresh(&state.pool, &request.refresh_token, now)
        .await?;
    let (caller, version) = match state.core.standing_of(user_id).await? {
        Standing::Active { caller, version } => (caller, version),
        Standing::Blocked => {
            // The tokens of a blocked account stop working, all of them.
            revoke_family(&state.pool, &request.refresh_token, now).await?;
            return Err(blocked().into());
        }
        Standing::Unknown => return Err(ApiError::from(CommandError::not_found("no such user"))),
    };
    let telegram_id = state
        .core
        .telegram_of_user(user_id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("user {user_id} has no Telegram account")))?;
    let me = me(&state, user_id, version).await?;
    session(
        &state,
        user_id,
        caller.role,
        telegram_id,
        Some(refresh_token),
        me,
    )
    .await
}

/// `POST /api/v1/auth/logout`: the refresh token and every one it was replaced by
/// stop working. Access tokens already issued lapse by themselves (minutes).
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    operation_id = "auth_logout",
    summary = "Sign out: revoke a refresh token and its family",
    description = "Access tokens already issued lapse by themselves (minutes). An unknown \
        token is not an error.",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out"),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    revoke_family(&state.pool, &request.refresh_token, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/auth/me`
#[utoipa::path(
    get,
    path = "/auth/me",
    tag = "auth",
    operation_id = "auth_get_me",
    summary = "The signed-in user's profile",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's profile", body = Me),
        (status = 503, description = "The profile is still being prepared (`not_ready`)", body = ErrorBody),
    )
)]
pub async fn get_me(State(state): State<AppState>, caller: AuthUser) -> Result<Json<Me>, ApiError> {
    Ok(Json(me(&state, caller.user_id, 0).await?))
}

/// Fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    pub first_name: Option<String>,
    /// `null` clears it; leaving it out keeps it.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    /// A language code like `ru` or `en`; `null` clears it; leaving it out keeps it.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<String>, min_length = 2, max_length = 10)]
    pub language: Option<Option<String>>,
}

/// `PATCH /api/v1/auth/me`: change one's name or language; fields left out stay.
#[utoipa::path(
    patch,
    path = "/auth/me",
    tag = "auth",
    operation_id = "auth_patch_me",
    summary = "Change one's name or language",
    description = "Fields left out stay; `null` clears `last_name` or `language`.",
    security(("bearer" = [])),
    request_body = ProfileChange,
    responses(
        (status = 200, description = "The changed profile", body = Me),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 422, description = "A field is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn patch_me(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(change): ApiJson<ProfileChange>,
) -> Result<Json<Me>, ApiError> {
    let change = ChangeOfProfile {
        first_name: change.first_name,
        last_name: change.last_name,
        language: change.language,
    };
    let written = state
        .core
        .update_profile(caller.caller(), change, Utc::now())
        .await?;
    Ok(Json(me(&state, caller.user_id, written.sequence).await?))
}

pub(super) async fn session(
    state: &AppState,
    user_id: Uuid,
    role: domain::permissions::Role,
    telegram_id: i64,
    refresh_token: Option<String>,
    user: Me,
) -> Result<Json<Session>, ApiError> {
    let now = Utc::now();
    let keys = &state.auth.keys;
    // A new sign-in starts a new family of refresh tokens; a refresh brings its successor.
    let refresh_token = match refresh_token {
        Some(token) => token,
        None => {
            keys.issue_refresh(&state.pool, user_id, Uuid::now_v7(), now)
                .await?
        }
    };
    Ok(Json(Session {
        access_token: keys.issue_access(user_id, role, telegram_id, now)?,
        token_type: "Bearer",
        expires_in: keys.access_ttl().num_seconds(),
        refresh_token,
        user,
    }))
}

/// The user's row once the users read model has their events up to `version`.
pub(super) async fn me(state: &AppState, user_id: Uuid, version: usize) -> Result<Me, ApiError> {
    let written = Written::new(user_id.to_string(), version);
    let row = state.reads.me(user_id, Some(&written)).await?;
    row.ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "your profile is still being prepared; try again in a moment",
        )
        .with_details(json!({ "retry_after_seconds": 1 }))
    })
}

fn init_data_error(error: InitDataError) -> ApiError {
    match error {
        InitDataError::Expired { .. } | InitDataError::FromTheFuture(_) => {
            ApiError::unauthorized("init_data_expired", format!("{error}; reopen the Mini App"))
        }
        InitDataError::SignatureInvalid => {
            ApiError::unauthorized("init_data_invalid", "initData is not signed for this bot")
        }
        other => ApiError::invalid_field("init_data", other.to_string()),
    }
}
