//! `POST /api/v1/payments/yookassa/webhook`: YooKassa's notifications.
//!
//! Notifications carry no signature: the sender's address is checked against
//! YooKassa's published ranges, and the body is never trusted — the object is read
//! again from YooKassa's API, and that version is applied. Applying is idempotent
//! (the domain ignores a repeat), so YooKassa's redeliveries change nothing. The
//! answer is 200 once applied, or for anything we will never be able to apply
//! (unknown events, unknown payments: logged); 503 when YooKassa or our store could
//! not be reached, so YooKassa delivers again.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::use_cases::payments::Settled;
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::refuse_nul;
use crate::http::limits::ClientIp;
use crate::yookassa::Notification;

/// A notification's body as YooKassa sends it, or the 400 (not a notification) or 422
/// (a NUL in a text) that answers it.
pub(crate) fn parse_notification(body: &[u8]) -> Result<Notification, ApiError> {
    let not_a_notification = |cause: serde_json::Error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_notification",
            format!("not a YooKassa notification: {cause}"),
        )
    };
    let body: Value = serde_json::from_slice(body).map_err(not_a_notification)?;
    refuse_nul(&body)?;
    serde_json::from_value(body).map_err(not_a_notification)
}

#[utoipa::path(
    post,
    path = "/payments/yookassa/webhook",
    tag = "payments",
    operation_id = "payments_yookassa_webhook",
    summary = "YooKassa's notifications (for YooKassa only)",
    description = "Accepted from YooKassa's published addresses only. The object is read \
        again from YooKassa's API before it is applied.",
    request_body = Notification,
    responses(
        (status = 200, description = "Applied, or acknowledged and logged"),
        (status = 400, description = "Not a notification (`malformed_notification`)", body = ErrorBody),
        (status = 422, description = "A text holds a NUL character (`details.field` names it)", body = ErrorBody),
        (status = 403, description = "Not from YooKassa's addresses", body = ErrorBody),
        (status = 503, description = "Try again later", body = ErrorBody),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    if let Some(allowlist) = &state.payments.allowlist
        && !allowlist.contains(ip)
    {
        warn!(%ip, "a payment notification from outside YooKassa's addresses was refused");
        return Err(ApiError::forbidden(
            "notifications are accepted from YooKassa's addresses only",
        ));
    }
    let notification = parse_notification(&body)?;
    let outcome = match (notification.event.as_str(), notification.object_id()) {
        ("payment.succeeded" | "payment.canceled" | "payment.waiting_for_capture", Some(id)) => {
            state.core.settle_provider_payment(id).await
        }
        ("refund.succeeded", Some(id)) => state.core.settle_provider_refund(id).await,
        (
            "payment.succeeded"
            | "payment.canceled"
            | "payment.waiting_for_capture"
            | "refund.succeeded",
            None,
        ) => Ok(Settled::Ignored),
        (other, _) => {
            info!(
                event = other,
                "a YooKassa notification of an event we do not use"
            );
            Ok(Settled::Ignored)
        }
    };
    match outcome {
        Ok(applied) => Ok((
            StatusCode::OK,
            axum::Json(json!({"applied": applied == Settled::Applied})),
        )
            .into_response()),
        Err(cause) => {
            warn!(%cause, event = %notification.event, "a YooKassa notification waits for its redelivery");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "try_again",
                "the notification could not be applied now; deliver it again",
            ))
        }
    }
}
