//! `POST /telegram/webhook`: where Telegram posts the bot's updates in webhook mode.
//! The bot's [`bot::Webhook`] checks the secret token and stores the update; only
//! then is 200 answered, so an update Telegram was told arrived is never lost. A
//! refusal is 401 (wrong secret), 400 (no update) or 503 (not stored: Telegram
//! sends it again).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bot::WebhookError;

use crate::http::AppState;
use crate::http::error::{ApiError, not_found};

pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let Some(webhook) = state.telegram_webhook.as_ref() else {
        return Err(not_found("webhook"));
    };
    let secret = headers
        .get(bot::webhook::SECRET_HEADER)
        .map(|value| value.as_bytes());
    match webhook.accept(&state.pool, secret, &body).await {
        Ok(()) => Ok(StatusCode::OK),
        Err(WebhookError::WrongSecret) => Err(ApiError::unauthorized(
            "wrong_secret",
            "the secret token is missing or wrong",
        )),
        Err(WebhookError::Unreadable(reason)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "not_an_update",
            format!("the body is no Telegram update: {reason}"),
        )),
        Err(WebhookError::Database(error)) => {
            tracing::warn!(%error, "a Telegram update could not be stored; Telegram will send it again");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the update could not be stored; try again",
            ))
        }
    }
}
