//! The built-in YooKassa SANDBOX, for running Ledgerbot without YooKassa keys: the
//! same client talks to this YooKassa-compatible server in the same process. It
//! speaks the documented API (`POST/GET /v3/payments`, `POST/GET /v3/refunds`, Basic
//! auth, `Idempotence-Key`, error bodies), shows a checkout page with "pay" and
//! "cancel", and sends the documented notifications to the webhook. No money moves;
//! every page and log line says so. It is never used when keys are configured.
//!
//! Its state is in Postgres (`yookassa_sandbox_*`), so it survives restarts and is
//! shared by every process.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use domain::money::Money;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};
use sqlx::PgPool;
use tracing::{info, warn};
use uuid::Uuid;

use super::{
    Amount, CancellationDetails, Confirmation, NewPayment, NewRefund, PaymentObject, PaymentStatus,
    RefundObject, RefundStatus,
};

/// Where the sandbox's API is served (the client's base URL is this on our own address).
pub const API_PATH: &str = "/sandbox/yookassa/v3";
/// Where its checkout pages are.
pub const CHECKOUT_PATH: &str = "/sandbox/yookassa/checkout";

/// The sandbox's settings.
#[derive(Clone)]
pub struct Sandbox {
    pub pool: PgPool,
    /// Where notifications go: our own webhook.
    pub webhook_url: String,
    /// How browsers reach this server (for checkout links).
    pub public_url: String,
    /// The fee the sandbox keeps, as YooKassa would (`income_amount`).
    pub fee_percent: Decimal,
    http: reqwest::Client,
}

impl Sandbox {
    pub fn new(
        pool: PgPool,
        webhook_url: String,
        public_url: String,
        fee_percent: Decimal,
    ) -> Self {
        Self {
            pool,
            webhook_url,
            public_url,
            fee_percent,
            http: reqwest::Client::new(),
        }
    }

    /// The API under [`API_PATH`] and the checkout pages under [`CHECKOUT_PATH`].
    pub fn routes(self) -> (Router, Router) {
        let api = Router::new()
            .route("/payments", post(create_payment))
            .route("/payments/{id}", get(get_payment))
            .route("/refunds", post(create_refund))
            .route("/refunds/{id}", get(get_refund))
            .with_state(self.clone());
        let checkout = Router::new()
            .route("/{id}", get(checkout_page))
            .route("/{id}/pay", post(pay))
            .route("/{id}/cancel", post(cancel))
            .with_state(self);
        (api, checkout)
    }
}

fn error(status: StatusCode, code: &str, description: &str, parameter: Option<&str>) -> Response {
    (
        status,
        axum::Json(json!({
            "type": "error",
            "id": Uuid::now_v7().to_string(),
            "code": code,
            "description": description,
            "parameter": parameter,
        })),
    )
        .into_response()
}

/// Basic auth and an Idempotence-Key, as YooKassa asks of every POST.
/// A refusal ready to send (boxed: responses are large).
type Refused = Box<Response>;

fn check_request(headers: &HeaderMap, needs_key: bool) -> Result<Option<String>, Refused> {
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("Basic ") && value.len() > "Basic ".len());
    if !authorised {
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Basic authentication with the shop id and secret key is required",
            Some("Authorization"),
        )));
    }
    if !needs_key {
        return Ok(None);
    }
    match headers.get("idempotence-key").and_then(|v| v.to_str().ok()) {
        Some(key) if !key.is_empty() && key.len() <= 64 => Ok(Some(key.to_owned())),
        _ => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Idempotence-Key header is required",
            Some("Idempotence-Key"),
        ))),
    }
}

fn internal(cause: impl std::fmt::Display) -> Response {
    warn!(%cause, "the YooKassa sandbox failed");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_server_error",
        "sandbox failure",
        None,
    )
}

fn refused(cause: impl std::fmt::Display) -> Refused {
    Box::new(internal(cause))
}

async fn stored_payment(pool: &PgPool, id: &str) -> Result<Option<PaymentObject>, Refused> {
    let row: Option<(Value,)> =
        sqlx::query_as("SELECT object FROM yookassa_sandbox_payments WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(refused)?;
    row.map(|(object,)| serde_json::from_value(object).map_err(refused))
        .transpose()
}

async fn save_payment(pool: &PgPool, payment: &PaymentObject) -> Result<(), Refused> {
    sqlx::query("UPDATE yookassa_sandbox_payments SET object = $2 WHERE id = $1")
        .bind(&payment.id)
        .bind(serde_json::to_value(payment).map_err(refused)?)
        .execute(pool)
        .await
        .map_err(refused)?;
    Ok(())
}

async fn create_payment(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let key = match check_request(&headers, true) {
        Ok(key) => key.unwrap_or_default(),
        Err(response) => return *response,
    };
    let request: NewPayment = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(cause) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &cause.to_string(),
                None,
            );
        }
    };
    if !request.amount.is_rub() || request.amount.value.is_zero() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "amount must be a positive sum in RUB",
            Some("amount"),
        );
    }
    // The checkout sends the customer back here: only ever into this shop, so the
    // sandbox cannot be made an open redirect.
    if !crate::payments::is_under(&request.confirmation.return_url, &sandbox.public_url) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "confirmation.return_url must be under the shop's public URL",
            Some("confirmation.return_url"),
        );
    }
    let id = Uuid::now_v7().to_string();
    let payment = PaymentObject {
        id: id.clone(),
        status: PaymentStatus::Pending,
        paid: false,
        amount: request.amount,
        income_amount: None,
        refunded_amount: None,
        confirmation: Some(Confirmation {
            kind: "redirect".to_owned(),
            confirmation_url: Some(format!("{}{CHECKOUT_PATH}/{id}", sandbox.public_url)),
            return_url: Some(request.confirmation.return_url),
        }),
        created_at: Utc::now(),
        captured_at: None,
        description: Some(request.description),
        metadata: request
            .metadata
            .into_iter()
            .map(|(key, value)| (key, Value::String(value)))
            .collect(),
        cancellation_details: None,
        refundable: false,
        test: true,
    };
    let object = match serde_json::to_value(&payment) {
        Ok(object) => object,
        Err(cause) => return internal(cause),
    };
    // The same key returns the first payment, as YooKassa does.
    let stored: Result<(Value,), sqlx::Error> = sqlx::query_as(
        "WITH inserted AS ( \
           INSERT INTO yookassa_sandbox_payments (id, idempotence_key, object, created_at) \
           VALUES ($1, $2, $3, now()) ON CONFLICT (idempotence_key) DO NOTHING RETURNING object) \
         SELECT object FROM inserted \
         UNION ALL SELECT object FROM yookassa_sandbox_payments WHERE idempotence_key = $2 \
         LIMIT 1",
    )
    .bind(&id)
    .bind(&key)
    .bind(object)
    .fetch_one(&sandbox.pool)
    .await;
    match stored {
        Ok((object,)) => {
            info!(payment = %id, "SANDBOX payment created: no money moves");
            (StatusCode::OK, axum::Json(object)).into_response()
        }
        Err(cause) => internal(cause),
    }
}

async fn get_payment(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = check_request(&headers, false) {
        return *response;
    }
    match stored_payment(&sandbox.pool, &id).await {
        Ok(Some(payment)) => axum::Json(payment).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "payment not found",
            Some("payment_id"),
        ),
        Err(response) => *response,
    }
}

async fn create_refund(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let key = match check_request(&headers, true) {
        Ok(key) => key.unwrap_or_default(),
        Err(response) => return *response,
    };
    let request: NewRefund = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(cause) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &cause.to_string(),
                None,
            );
        }
    };
    let existing: Result<Option<(Value,)>, sqlx::Error> =
        sqlx::query_as("SELECT object FROM yookassa_sandbox_refunds WHERE idempotence_key = $1")
            .bind(&key)
            .fetch_optional(&sandbox.pool)
            .await;
    match existing {
        Ok(Some((object,))) => return axum::Json(object).into_response(),
        Ok(None) => {}
        Err(cause) => return internal(cause),
    }
    let mut payment = match stored_payment(&sandbox.pool, &request.payment_id).await {
        Ok(Some(payment)) => payment,
        Ok(None) => {
            return error(
                StatusCode::NOT_FOUND,
                "not_found",
                "payment not found",
                Some("payment_id"),
            );
        }
        Err(response) => return *response,
    };
    let refunded = payment
        .refunded_amount
        .as_ref()
        .map(|amount| amount.value)
        .unwrap_or(Money::ZERO);
    let left = payment
        .amount
        .value
        .checked_sub(refunded)
        .unwrap_or(Money::ZERO);
    if payment.status != PaymentStatus::Succeeded
        || request.amount.value.is_zero()
        || request.amount.value > left
    {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "only a succeeded payment can be refunded, up to what is left of it",
            Some("amount"),
        );
    }
    let refund = RefundObject {
        id: Uuid::now_v7().to_string(),
        payment_id: payment.id.clone(),
        status: RefundStatus::Succeeded,
        amount: request.amount.clone(),
        created_at: Utc::now(),
        description: request.description,
        cancellation_details: None,
    };
    let total = refunded
        .checked_add(request.amount.value)
        .unwrap_or(payment.amount.value);
    payment.refunded_amount = Some(Amount::rub(total));
    payment.refundable = total < payment.amount.value;
    let object = match serde_json::to_value(&refund) {
        Ok(object) => object,
        Err(cause) => return internal(cause),
    };
    let inserted = sqlx::query(
        "INSERT INTO yookassa_sandbox_refunds (id, idempotence_key, payment_id, object, created_at) \
         VALUES ($1, $2, $3, $4, now()) ON CONFLICT (idempotence_key) DO NOTHING",
    )
    .bind(&refund.id)
    .bind(&key)
    .bind(&refund.payment_id)
    .bind(&object)
    .execute(&sandbox.pool)
    .await;
    match inserted {
        Ok(done) if done.rows_affected() == 1 => {}
        // Someone raced us with the same key: theirs stands.
        Ok(_) => {
            return match sqlx::query_as::<_, (Value,)>(
                "SELECT object FROM yookassa_sandbox_refunds WHERE idempotence_key = $1",
            )
            .bind(&key)
            .fetch_one(&sandbox.pool)
            .await
            {
                Ok((object,)) => axum::Json(object).into_response(),
                Err(cause) => internal(cause),
            };
        }
        Err(cause) => return internal(cause),
    }
    if let Err(response) = save_payment(&sandbox.pool, &payment).await {
        return *response;
    }
    sandbox.notify("refund.succeeded", object.clone());
    info!(refund = %refund.id, payment = %payment.id, "SANDBOX refund made: no money moves");
    axum::Json(object).into_response()
}

async fn get_refund(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = check_request(&headers, false) {
        return *response;
    }
    let row: Result<Option<(Value,)>, sqlx::Error> =
        sqlx::query_as("SELECT object FROM yookassa_sandbox_refunds WHERE id = $1")
            .bind(&id)
            .fetch_optional(&sandbox.pool)
            .await;
    match row {
        Ok(Some((object,))) => axum::Json(object).into_response(),
        Ok(None) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            "refund not found",
            Some("refund_id"),
        ),
        Err(cause) => internal(cause),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn checkout_page(State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Response {
    let payment = match stored_payment(&sandbox.pool, &id).await {
        Ok(Some(payment)) => payment,
        Ok(None) => {
            return (StatusCode::NOT_FOUND, Html("No such sandbox payment.")).into_response();
        }
        Err(response) => return *response,
    };
    let id = escape(&payment.id);
    let actions = if payment.status == PaymentStatus::Pending {
        format!(
            "<form method=\"post\" action=\"{CHECKOUT_PATH}/{id}/pay\"><button>Pay</button></form>\
             <form method=\"post\" action=\"{CHECKOUT_PATH}/{id}/cancel\"><button>Cancel</button></form>"
        )
    } else {
        format!("<p>This payment is {}.</p>", payment.status.as_str())
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>SANDBOX payment</title></head>\
         <body><p style=\"background:#b00020;color:#fff;padding:1em;font-weight:bold\">\
         SANDBOX — a test checkout of Ledgerbot's built-in YooKassa sandbox. No money moves.</p>\
         <h1>{amount}</h1><p>{description}</p>{actions}</body></html>",
        amount = escape(&payment.amount.to_string()),
        description = escape(payment.description.as_deref().unwrap_or("")),
    ))
    .into_response()
}

async fn settle(sandbox: &Sandbox, id: &str, pay: bool) -> Response {
    let mut payment = match stored_payment(&sandbox.pool, id).await {
        Ok(Some(payment)) => payment,
        Ok(None) => {
            return (StatusCode::NOT_FOUND, Html("No such sandbox payment.")).into_response();
        }
        Err(response) => return *response,
    };
    let back = payment
        .confirmation
        .as_ref()
        .and_then(|confirmation| confirmation.return_url.clone())
        .filter(|url| crate::payments::is_under(url, &sandbox.public_url))
        .unwrap_or_else(|| sandbox.public_url.clone());
    if payment.status != PaymentStatus::Pending {
        return Redirect::to(&back).into_response();
    }
    let event = if pay {
        let fee = (payment.amount.value.amount() * sandbox.fee_percent / Decimal::from(100))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        let income =
            Money::new(payment.amount.value.amount() - fee).unwrap_or(payment.amount.value);
        payment.status = PaymentStatus::Succeeded;
        payment.paid = true;
        payment.captured_at = Some(Utc::now());
        payment.income_amount = Some(Amount::rub(income));
        payment.refunded_amount = Some(Amount::rub(Money::ZERO));
        payment.refundable = true;
        "payment.succeeded"
    } else {
        payment.status = PaymentStatus::Canceled;
        payment.cancellation_details = Some(CancellationDetails {
            party: "yoo_money".to_owned(),
            reason: "expired_on_confirmation".to_owned(),
        });
        "payment.canceled"
    };
    if let Err(response) = save_payment(&sandbox.pool, &payment).await {
        return *response;
    }
    match serde_json::to_value(&payment) {
        Ok(object) => sandbox.notify(event, object),
        Err(cause) => return internal(cause),
    }
    info!(payment = %payment.id, event, "SANDBOX checkout: no money moves");
    Redirect::to(&back).into_response()
}

async fn pay(State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Response {
    settle(&sandbox, &id, true).await
}

async fn cancel(State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Response {
    settle(&sandbox, &id, false).await
}

impl Sandbox {
    /// Sends a notification the way YooKassa does: POST the envelope, and try again
    /// (a few times here, for 24 hours there) until it gets a 200.
    fn notify(&self, event: &'static str, object: Value) {
        let body = json!({"type": "notification", "event": event, "object": object});
        let http = self.http.clone();
        let url = self.webhook_url.clone();
        tokio::spawn(async move {
            for attempt in 1..=5u32 {
                match http.post(&url).json(&body).send().await {
                    Ok(response) if response.status() == StatusCode::OK => return,
                    Ok(response) => {
                        warn!(event, attempt, status = %response.status(), "the webhook refused a SANDBOX notification");
                    }
                    Err(cause) => {
                        warn!(event, attempt, %cause, "a SANDBOX notification did not arrive")
                    }
                }
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
        });
    }
}
