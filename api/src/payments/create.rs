//! `POST /api/v1/payments` and `GET /api/v1/payments/{id}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::command::CommandContext;
use domain::money::Money;
use domain::money::tax::PayerKind;
use domain::payment::{PaymentCommand, PaymentPurpose};
use domain::permissions::{Action, is_allowed};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::PaymentGateway;
use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiJson, ApiPath, ErrorBody};
use crate::read_your_writes::READ_YOUR_WRITES_LIMIT;
use crate::yookassa::{
    Amount, ConfirmationRequest, NewPayment, Receipt, ReceiptCustomer, ReceiptItem, YooKassaError,
};

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

/// A payment as its payer sees it.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct PaymentView {
    pub payment_id: String,
    /// order | credit_pack | subscription
    pub purpose: String,
    pub order_id: Option<Uuid>,
    /// The pack or plan.
    pub product: Option<String>,
    /// Roubles, two decimals, as a string.
    pub amount: String,
    pub refunded_amount: String,
    /// pending | succeeded | canceled
    pub status: String,
    pub provider_payment_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
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

/// The columns of `rm_payments` a [`PaymentView`] is read from.
pub(crate) const PAYMENT_COLUMNS: &str = "payment_id, purpose, order_id, product, amount::text AS amount, \
     refunded_amount::text AS refunded_amount, status, provider_payment_id, created_at, paid_at";

/// `POST /api/v1/payments`: 201 with a new payment and where to pay it; the same
/// idempotence key again: 200 with the same payment.
#[utoipa::path(
    post,
    path = "/api/v1/payments",
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
    caller.require(Action::PayForSomething)?;
    let key = request.idempotence_key.trim().to_owned();
    if key.is_empty() || key.len() > 64 || key.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            "idempotence_key",
            "1 to 64 characters, unique to this payment on the client",
        ));
    }
    let gateway = state.payments.clone();
    if gateway.receipt_vat_code.is_some()
        && request.customer_email.is_none()
        && request.customer_phone.is_none()
    {
        return Err(ApiError::invalid_field(
            "customer_email",
            "this shop sends receipts: give an e-mail or a phone",
        ));
    }
    let (purpose, amount, description) = priced(&state, &caller, &request.purpose).await?;
    if let PaymentPurpose::Order { order_id } = &purpose {
        // One open payment per order: a second checkout link could be paid as well.
        let open: Option<(String,)> = sqlx::query_as(
            "SELECT p.payment_id FROM rm_payments p WHERE p.order_id = $1 AND p.status = 'pending' \
               AND NOT EXISTS (SELECT 1 FROM payment_requests r WHERE r.payer_user_id = $2 \
                               AND r.idempotence_key = $3 AND r.payment_id::text = p.payment_id)",
        )
        .bind(order_id)
        .bind(caller.user_id)
        .bind(&key)
        .fetch_optional(&state.pool)
        .await?;
        if let Some((open,)) = open {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "payment_open",
                format!("payment {open} for this order is open: pay or cancel it first"),
            ));
        }
    }
    let payer_kind = request.payer_kind.unwrap_or(PayerKind::Individual);
    let fingerprint = json!({"purpose": purpose, "amount": amount, "payer_kind": payer_kind});
    let new_id = Uuid::now_v7();
    let inserted = sqlx::query(
        "INSERT INTO payment_requests (payer_user_id, idempotence_key, payment_id, request, created_at) \
         VALUES ($1, $2, $3, $4, now()) ON CONFLICT DO NOTHING",
    )
    .bind(caller.user_id)
    .bind(&key)
    .bind(new_id)
    .bind(&fingerprint)
    .execute(&state.pool)
    .await?
    .rows_affected()
        == 1;
    let (payment_id, asked, confirmation_url): (Uuid, serde_json::Value, Option<String>) =
        sqlx::query_as(
            "SELECT payment_id, request, confirmation_url FROM payment_requests \
             WHERE payer_user_id = $1 AND idempotence_key = $2",
        )
        .bind(caller.user_id)
        .bind(&key)
        .fetch_one(&state.pool)
        .await?;
    if asked != fingerprint {
        return Err(ApiError::invalid_field(
            "idempotence_key",
            "this key was used for another payment; use a new key",
        ));
    }
    let id = payment_id.to_string();
    let context = CommandContext::user(caller.user_id, caller.role);
    let created = state
        .commands
        .payments
        .execute(
            &id,
            PaymentCommand::Create {
                purpose,
                amount,
                payer_kind,
                payer_user_id: caller.user_id,
                idempotence_key: key.clone(),
            },
            &context,
        )
        .await?;
    let mut sequence = created.sequence;
    let mut confirmation_url = confirmation_url;
    let (payment, _) = state.commands.payments.load(&id).await?;
    if payment.provider_payment_id().is_none() {
        let receipt = receipt(&gateway, &request, &description, amount);
        let at_provider = gateway
            .client
            .create_payment(
                &NewPayment {
                    amount: Amount::rub(amount),
                    capture: true,
                    confirmation: ConfirmationRequest::redirect(gateway.return_url.clone()),
                    description: description.clone(),
                    metadata: BTreeMap::from([("payment_id".to_owned(), id.clone())]),
                    receipt,
                },
                // Our payment id: one payment at YooKassa however often this runs.
                &id,
            )
            .await
            .map_err(provider_error)?;
        let url = at_provider
            .confirmation
            .as_ref()
            .and_then(|confirmation| confirmation.confirmation_url.clone())
            .unwrap_or_default();
        let recorded = state
            .commands
            .payments
            .execute(
                &id,
                PaymentCommand::RecordProviderPayment {
                    provider_payment_id: at_provider.id.clone(),
                    confirmation_url: url.clone(),
                },
                &context,
            )
            .await?;
        sequence = recorded.sequence;
        sqlx::query(
            "UPDATE payment_requests SET confirmation_url = $3 WHERE payer_user_id = $1 AND idempotence_key = $2",
        )
        .bind(caller.user_id)
        .bind(&key)
        .bind(&url)
        .execute(&state.pool)
        .await?;
        confirmation_url = Some(url);
    }
    let view = read_back(&state, &id, sequence).await?;
    let status = if inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(PaymentStarted {
            payment: view,
            confirmation_url: confirmation_url.filter(|url| !url.is_empty()),
            sandbox: gateway.sandbox,
        }),
    ))
}

/// What the purpose costs, from the order or the catalogue (never the client).
async fn priced(
    state: &AppState,
    caller: &AuthUser,
    purpose: &PurposeRequest,
) -> Result<(PaymentPurpose, Money, String), ApiError> {
    Ok(match purpose {
        PurposeRequest::Order { order_id } => {
            let (order, _) = state.commands.orders.load(&order_id.to_string()).await?;
            if order.customer_id() != Some(caller.user_id) {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "no such order",
                ));
            }
            let amount = order.amount_due().ok_or_else(|| {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "invalid_state",
                    "this order is not waiting for a payment",
                )
            })?;
            (
                PaymentPurpose::Order {
                    order_id: *order_id,
                },
                amount,
                format!("Order {order_id}"),
            )
        }
        PurposeRequest::CreditPack { pack } => {
            let pack = state.catalogue.pack(pack).ok_or_else(|| {
                ApiError::invalid_field(
                    "purpose.pack",
                    "not a pack of GET /api/v1/credits/catalogue",
                )
            })?;
            (
                PaymentPurpose::CreditPack {
                    pack: pack.id.clone(),
                    credits: pack.credits,
                },
                pack.price,
                format!("{} credits ({})", pack.credits, pack.id),
            )
        }
        PurposeRequest::Subscription { plan } => {
            let plan = state.catalogue.plan(plan).ok_or_else(|| {
                ApiError::invalid_field(
                    "purpose.plan",
                    "not a plan of GET /api/v1/credits/catalogue",
                )
            })?;
            (
                PaymentPurpose::Subscription {
                    plan: plan.id.clone(),
                    credits_per_period: plan.credits_per_period,
                    period_days: plan.period_days,
                },
                plan.price,
                format!(
                    "Plan {}: {} credits every {} days",
                    plan.id, plan.credits_per_period, plan.period_days
                ),
            )
        }
    })
}

fn receipt(
    gateway: &PaymentGateway,
    request: &PayRequest,
    description: &str,
    amount: Money,
) -> Option<Receipt> {
    let vat_code = gateway.receipt_vat_code?;
    Some(Receipt {
        customer: ReceiptCustomer {
            email: request.customer_email.clone(),
            phone: request.customer_phone.clone(),
        },
        items: vec![ReceiptItem {
            description: description.chars().take(128).collect(),
            quantity: "1.00".to_owned(),
            amount: Amount::rub(amount),
            vat_code,
            payment_mode: "full_payment".to_owned(),
            payment_subject: "service".to_owned(),
        }],
    })
}

/// YooKassa's failures as the API's: unreachable → 503 (repeat the request), refused
/// → 502 with its code.
pub(super) fn provider_error(error: YooKassaError) -> ApiError {
    match error {
        YooKassaError::Unavailable { attempts, reason } => {
            tracing::warn!(attempts, %reason, "YooKassa could not be reached");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "payment_provider_unavailable",
                "YooKassa could not be reached; repeat the request with the same key",
            )
        }
        other => {
            tracing::warn!(error = %other, "YooKassa refused a request");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "payment_provider_refused",
                format!("YooKassa refused: {other}"),
            )
        }
    }
}

/// The payment once the payments read model shows it up to `sequence`.
pub(super) async fn read_back(
    state: &AppState,
    id: &str,
    sequence: usize,
) -> Result<PaymentView, ApiError> {
    state
        .checkpoints
        .caught_up("payments", "Payment", id, sequence, READ_YOUR_WRITES_LIMIT)
        .await;
    sqlx::query_as(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM rm_payments WHERE payment_id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.pool)
    .await?
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_yet_visible",
            "saved; the payment shows in a moment",
        )
    })
}

/// `GET /api/v1/payments/{id}`: the payer's, or any for staff who refund.
#[utoipa::path(
    get,
    path = "/api/v1/payments/{id}",
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
    let row: Option<(Uuid,)> =
        sqlx::query_as("SELECT payer_id FROM rm_payments WHERE payment_id = $1")
            .bind(id.to_string())
            .fetch_optional(&state.pool)
            .await?;
    let mine = row.is_some_and(|(payer,)| payer == caller.user_id);
    if !(mine || row.is_some() && is_allowed(caller.role, Action::RefundPayment)) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such payment",
        ));
    }
    Ok(Json(read_back(&state, &id.to_string(), 0).await?))
}
