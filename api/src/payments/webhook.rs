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
use chrono::Utc;
use domain::command::{CommandContext, CommandError, ErrorKind};
use domain::payment::{PaymentCommand, RefundOutcome};
use serde_json::json;
use tracing::{error, info, warn};
use uuid::Uuid;

use super::PaymentGateway;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::limits::ClientIp;
use crate::yookassa::{
    Notification, PaymentObject, PaymentStatus, RefundObject, RefundStatus, YooKassaError,
};

/// What became of one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Done,
    /// Not ours, or nothing to do: acknowledged and logged.
    Ignored,
}

/// Why a notification could not be applied now.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("YooKassa could not be reached: {0}")]
    Provider(YooKassaError),
    #[error("the store could not be reached: {0}")]
    Store(String),
}

#[utoipa::path(
    post,
    path = "/api/v1/payments/yookassa/webhook",
    tag = "payments",
    operation_id = "payments_yookassa_webhook",
    summary = "YooKassa's notifications (for YooKassa only)",
    description = "Accepted from YooKassa's published addresses only. The object is read \
        again from YooKassa's API before it is applied.",
    request_body = Object,
    responses(
        (status = 200, description = "Applied, or acknowledged and logged"),
        (status = 400, description = "Not a notification", body = ErrorBody),
        (status = 403, description = "Not from YooKassa's addresses", body = ErrorBody),
        (status = 503, description = "Try again later", body = ErrorBody),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let gateway = state.payments.clone();
    if let Some(allowlist) = &gateway.allowlist
        && !allowlist.contains(ip)
    {
        warn!(%ip, "a payment notification from outside YooKassa's addresses was refused");
        return Err(ApiError::forbidden(
            "notifications are accepted from YooKassa's addresses only",
        ));
    }
    let notification: Notification = serde_json::from_slice(&body).map_err(|cause| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_notification",
            format!("not a YooKassa notification: {cause}"),
        )
    })?;
    let outcome = match notification.event.as_str() {
        "payment.succeeded" | "payment.canceled" | "payment.waiting_for_capture" => {
            match notification.object_id() {
                Some(id) => payment(&state, &gateway, id).await,
                None => Ok(Applied::Ignored),
            }
        }
        "refund.succeeded" => match notification.object_id() {
            Some(id) => refund(&state, &gateway, id).await,
            None => Ok(Applied::Ignored),
        },
        other => {
            info!(
                event = other,
                "a YooKassa notification of an event we do not use"
            );
            Ok(Applied::Ignored)
        }
    };
    match outcome {
        Ok(applied) => Ok((
            StatusCode::OK,
            axum::Json(json!({"applied": applied == Applied::Done})),
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

async fn payment(
    state: &AppState,
    gateway: &PaymentGateway,
    id: &str,
) -> Result<Applied, WebhookError> {
    let object = match gateway.client.get_payment(id).await {
        Ok(object) => object,
        Err(YooKassaError::NotFound) => {
            warn!(
                provider_payment = id,
                "YooKassa does not know a payment it notified about"
            );
            return Ok(Applied::Ignored);
        }
        Err(cause) if cause.is_retryable() => return Err(WebhookError::Provider(cause)),
        Err(cause) => {
            warn!(provider_payment = id, %cause, "YooKassa refused to show a payment");
            return Err(WebhookError::Provider(cause));
        }
    };
    apply_payment(state, gateway, &object).await
}

/// Applies YooKassa's version of a payment.
pub async fn apply_payment(
    state: &AppState,
    gateway: &PaymentGateway,
    object: &PaymentObject,
) -> Result<Applied, WebhookError> {
    let ours = match object
        .metadata_str("payment_id")
        .and_then(|id| Uuid::parse_str(id).ok())
    {
        Some(id) => Some(id.to_string()),
        None => {
            sqlx::query_scalar("SELECT payment_id FROM rm_payments WHERE provider_payment_id = $1")
                .bind(&object.id)
                .fetch_optional(&state.pool)
                .await
                .map_err(|cause| WebhookError::Store(cause.to_string()))?
        }
    };
    let Some(payment_id) = ours else {
        warn!(provider_payment = %object.id, "a YooKassa payment that is not ours");
        return Ok(Applied::Ignored);
    };
    let command = match object.status {
        PaymentStatus::Succeeded => PaymentCommand::Succeed {
            provider_payment_id: object.id.clone(),
            amount_received: object.amount.value,
            currency: object.amount.currency.clone(),
            provider_fee: gateway.fee_of(object),
            paid_at: object.captured_at.unwrap_or_else(Utc::now),
        },
        PaymentStatus::Canceled => PaymentCommand::Cancel {
            reason: object
                .cancellation_details
                .as_ref()
                .map(|details| format!("{}: {}", details.party, details.reason))
                .unwrap_or_else(|| "canceled at YooKassa".to_owned()),
        },
        // Payments are created with capture: true; nothing to do until they settle.
        PaymentStatus::Pending | PaymentStatus::WaitingForCapture => return Ok(Applied::Ignored),
    };
    execute(state, &payment_id, command).await
}

async fn refund(
    state: &AppState,
    gateway: &PaymentGateway,
    id: &str,
) -> Result<Applied, WebhookError> {
    let object = match gateway.client.get_refund(id).await {
        Ok(object) => object,
        Err(YooKassaError::NotFound) => {
            warn!(
                provider_refund = id,
                "YooKassa does not know a refund it notified about"
            );
            return Ok(Applied::Ignored);
        }
        Err(cause) => return Err(WebhookError::Provider(cause)),
    };
    apply_refund(state, &object).await
}

/// Applies YooKassa's version of a refund, if it is one of ours.
pub async fn apply_refund(
    state: &AppState,
    object: &RefundObject,
) -> Result<Applied, WebhookError> {
    let ours: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT payment_id, refund_id FROM yookassa_refunds WHERE provider_refund_id = $1",
    )
    .bind(&object.id)
    .fetch_optional(&state.pool)
    .await
    .map_err(|cause| WebhookError::Store(cause.to_string()))?;
    let Some((payment_id, refund_id)) = ours else {
        // Of one of our payments: the executor has not written its mapping yet (the
        // notification overtook YooKassa's answer). Deliver again.
        let our_payment: Option<String> =
            sqlx::query_scalar("SELECT payment_id FROM rm_payments WHERE provider_payment_id = $1")
                .bind(&object.payment_id)
                .fetch_optional(&state.pool)
                .await
                .map_err(|cause| WebhookError::Store(cause.to_string()))?;
        if our_payment.is_some() {
            return Err(WebhookError::Store(format!(
                "refund {} of our payment is not mapped yet",
                object.id
            )));
        }
        warn!(provider_refund = %object.id, "a YooKassa refund that is not ours");
        return Ok(Applied::Ignored);
    };
    let outcome = match object.status {
        RefundStatus::Succeeded => RefundOutcome::Succeeded {
            provider_refund_id: object.id.clone(),
            refunded_at: object.created_at,
        },
        RefundStatus::Canceled => RefundOutcome::Failed {
            reason: object
                .cancellation_details
                .as_ref()
                .map(|details| format!("{}: {}", details.party, details.reason))
                .unwrap_or_else(|| "canceled at YooKassa".to_owned()),
        },
        RefundStatus::Pending => return Ok(Applied::Ignored),
    };
    execute(
        state,
        &payment_id.to_string(),
        PaymentCommand::RecordRefundResult { refund_id, outcome },
    )
    .await
}

async fn execute(
    state: &AppState,
    payment_id: &str,
    command: PaymentCommand,
) -> Result<Applied, WebhookError> {
    let context = CommandContext::system("yookassa");
    match state
        .commands
        .payments
        .execute(payment_id, command, &context)
        .await
    {
        Ok(_) => Ok(Applied::Done),
        Err(CommandError {
            kind: ErrorKind::Unavailable | ErrorKind::Conflict,
            message,
        }) => Err(WebhookError::Store(message)),
        // A refusal will not change on redelivery: acknowledged, and loud.
        Err(refused) => {
            error!(payment = payment_id, reason = %refused.message, "a YooKassa notification was refused by the payment");
            Ok(Applied::Ignored)
        }
    }
}
