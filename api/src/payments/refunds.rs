//! `POST /api/v1/payments/{id}/refunds`: staff give money back, in full or in part.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::money::Money;
use domain::use_cases::Written;
use domain::use_cases::payments::RefundState;
use projections::read_models::payments::PaymentView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::create::read_back;
use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};

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
    path = "/payments/{id}/refunds",
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
    let done = state
        .core
        .refund_payment(
            caller.caller(),
            id,
            request.amount,
            request.idempotence_key.as_deref(),
        )
        .await?;
    let status = match done.state {
        RefundState::Succeeded | RefundState::Settled => "succeeded",
        RefundState::Pending => "pending",
        RefundState::Failed => "failed",
    };
    let written = Written::new(id.to_string(), done.payment_sequence);
    let view = read_back(&state, &caller, &written).await?;
    Ok((
        StatusCode::CREATED,
        Json(RefundAnswer {
            refund_id: done.refund_id,
            amount: done.amount.to_string(),
            status,
            payment: view,
        }),
    ))
}
