//! `POST /api/v1/payments` and `GET /api/v1/payments/{id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::money::tax::PayerKind;
use domain::use_cases::Written;
use domain::use_cases::payments::{PaymentOrder, PurposeRequest as PurposeOfPayment};
use projections::read_models::payments::PaymentView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody, found, visible};
use crate::http::extract::{ApiJson, ApiPath};

/// What is being paid for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PurposeRequest {
    /// The caller's order waiting for its payment.
    Order { order_id: Uuid },
    /// A credit pack of the catalogue.
    CreditPack { pack: String },
    /// A plan of the catalogue.
    Subscription { plan: String },
}

/// `POST /api/v1/payments`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    pub purpose: PurposeRequest,
    /// The client's own key for this payment (1–64 characters): repeating the request
    /// with it returns the same payment.
    pub idempotence_key: String,
    /// `individual` (default) or `legal_entity`: the tax rate depends on it.
    #[schema(value_type = Option<String>)]
    pub payer_kind: Option<PayerKind>,
    /// For a 54-FZ receipt, when the shop sends them: an e-mail or a phone.
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
}

/// The answer to `POST /api/v1/payments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentStarted {
    #[serde(flatten)]
    pub payment: PaymentView,
    /// Send the customer here to pay.
    pub confirmation_url: Option<String>,
    /// True when no money moves: the built-in sandbox takes the payment.
    pub sandbox: bool,
}

/// `POST /api/v1/payments`: 201 with a new payment and where to pay it; the same
/// idempotence key again: 200 with the same payment.
#[utoipa::path(
    post,
    path = "/payments",
    tag = "payments",
    operation_id = "payments_create",
    summary = "Pay for an order, a credit pack or a plan",
    description = "Creates the payment at YooKassa (or the sandbox) and answers where the \
        customer confirms it. Repeating the request with the same `idempotence_key` returns \
        the same payment; if YooKassa could not be reached, the repeat finishes the job.",
    security(("bearer" = [])),
    request_body = PayRequest,
    responses(
        (status = 201, description = "A new payment", body = PaymentStarted),
        (status = 200, description = "The payment this key already made", body = PaymentStarted),
        (status = 404, description = "No such order of the caller's", body = ErrorBody),
        (status = 409, description = "The order is not waiting for a payment", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
        (status = 502, description = "YooKassa refused the payment", body = ErrorBody),
        (status = 503, description = "YooKassa could not be reached; repeat the request", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(request): ApiJson<PayRequest>,
) -> Result<(StatusCode, Json<PaymentStarted>), ApiError> {
    let purpose = match request.purpose {
        PurposeRequest::Order { order_id } => PurposeOfPayment::Order { order_id },
        PurposeRequest::CreditPack { pack } => PurposeOfPayment::CreditPack { pack },
        PurposeRequest::Subscription { plan } => PurposeOfPayment::Subscription { plan },
    };
    let started = state
        .core
        .start_payment(
            caller.caller(),
            PaymentOrder {
                purpose,
                idempotence_key: request.idempotence_key,
                payer_kind: request.payer_kind,
                customer_email: request.customer_email,
                customer_phone: request.customer_phone,
            },
        )
        .await?;
    let written = Written::new(started.payment_id.to_string(), started.sequence);
    let view = read_back(&state, &caller, &written).await?;
    let status = if started.created_now {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(PaymentStarted {
            payment: view,
            confirmation_url: started.confirmation_url,
            sandbox: started.sandbox,
        }),
    ))
}

/// The payment once the payments read model shows `written`.
pub(super) async fn read_back(
    state: &AppState,
    caller: &AuthUser,
    written: &Written,
) -> Result<PaymentView, ApiError> {
    let payment = state
        .reads
        .payment(caller.caller(), &written.aggregate_id, Some(written))
        .await?;
    visible(payment, "saved; the payment shows in a moment")
}

/// `GET /api/v1/payments/{id}`: the payer's, or any for staff who refund.
#[utoipa::path(
    get,
    path = "/payments/{id}",
    tag = "payments",
    operation_id = "payments_get",
    summary = "One payment",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The payment's id")),
    responses(
        (status = 200, description = "The payment", body = PaymentView),
        (status = 404, description = "No such payment of the caller's", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<PaymentView>, ApiError> {
    let payment = state
        .reads
        .payment(caller.caller(), &id.to_string(), None)
        .await?;
    Ok(Json(found(payment, "payment")?))
}
