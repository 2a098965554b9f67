//! `POST /api/v1/payments/{id}/refunds`: staff give money back, in full or in part.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::command::{CommandContext, ErrorKind};
use domain::money::Money;
use domain::order::OrderStatus;
use domain::payment::{PaymentCommand, PaymentPurpose, PaymentStatus};
use domain::permissions::Action;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::create::{PaymentView, read_back};
use super::executor::{ExecuteError, RefundState, execute_refund};
use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiJson, ApiPath, ErrorBody};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Roubles as a string ("100.00"); left out: everything still refundable.
    #[schema(value_type = Option<String>, examples("100.00"))]
    pub amount: Option<Money>,
    /// Makes a repeat of this request ask once (1–40 characters).
    pub idempotence_key: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundAnswer {
    pub refund_id: String,
    /// Roubles as a string.
    pub amount: String,
    /// succeeded | pending (YooKassa's notification settles it) | failed
    pub status: &'static str,
    pub payment: PaymentView,
}

#[utoipa::path(
    post,
    path = "/api/v1/payments/{id}/refunds",
    tag = "payments",
    operation_id = "payments_refund",
    summary = "Refund a payment, in full or in part (staff)",
    description = "The tax ledger gets a correcting line; a refunded pack or plan takes back \
        its share of what is left of its credits; an order records the money returned. A \
        paid order that is still running is refunded in full by cancelling it \
        (`POST /orders/{id}/cancel` with a refund).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The payment's id")),
    request_body = RefundRequest,
    responses(
        (status = 201, description = "The refund and where it stands", body = RefundAnswer),
        (status = 403, description = "The caller may not refund", body = ErrorBody),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 409, description = "Not refundable now", body = ErrorBody),
        (status = 422, description = "More than is left to refund", body = ErrorBody),
        (status = 503, description = "YooKassa could not be reached; the refund is made when it can be", body = ErrorBody),
    )
)]
pub async fn refund(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<RefundRequest>,
) -> Result<(StatusCode, Json<RefundAnswer>), ApiError> {
    caller.require(Action::RefundPayment)?;
    let payment_id = id.to_string();
    let (payment, _) = state.commands.payments.load(&payment_id).await?;
    if payment.status() == PaymentStatus::New {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such payment",
        ));
    }
    let amount = request.amount.unwrap_or_else(|| payment.refundable());
    if let Some(PaymentPurpose::Order { order_id }) = payment.purpose() {
        let (order, _) = state.commands.orders.load(&order_id.to_string()).await?;
        let running = !matches!(
            order.status(),
            OrderStatus::Completed | OrderStatus::Cancelled
        );
        if running && amount == payment.amount() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "cancel_the_order",
                format!("order {order_id} is still running: cancel it with a refund instead"),
            ));
        }
    }
    let key = match request.idempotence_key.as_deref().map(str::trim) {
        None => Uuid::now_v7().to_string(),
        Some(key)
            if (1..=40).contains(&key.len())
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            key.to_owned()
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "idempotence_key",
                "1 to 40 letters, digits, - or _",
            ));
        }
    };
    let refund_id = format!("refund-{key}");
    let context = CommandContext::user(caller.user_id, caller.role);
    state
        .commands
        .payments
        .execute(
            &payment_id,
            PaymentCommand::RequestRefund {
                refund_id: refund_id.clone(),
                amount,
            },
            &context,
        )
        .await
        .map_err(|error| match error.kind {
            ErrorKind::InvalidInput => ApiError::invalid_field("amount", error.message),
            _ => ApiError::from(error),
        })?;
    let outcome = execute_refund(
        &state.commands,
        &state.pool,
        &state.payments,
        &payment_id,
        &refund_id,
    )
    .await;
    let status = match outcome {
        Ok(RefundState::Succeeded | RefundState::Settled) => "succeeded",
        Ok(RefundState::Pending) => "pending",
        Ok(RefundState::Failed) => "failed",
        Err(ExecuteError::Provider(_)) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "payment_provider_unavailable",
                "the refund is recorded; YooKassa could not be reached, it is asked again shortly",
            ));
        }
        Err(other) => return Err(ApiError::internal(other)),
    };
    let (_, version) = state.commands.payments.load(&payment_id).await?;
    let view = read_back(&state, &payment_id, version).await?;
    Ok((
        StatusCode::CREATED,
        Json(RefundAnswer {
            refund_id,
            amount: amount.to_string(),
            status,
            payment: view,
        }),
    ))
}
