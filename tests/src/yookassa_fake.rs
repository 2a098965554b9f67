//! The one YooKassa-compatible server of the tests, speaking the documented API
//! (`POST/GET /payments`, `POST/GET /refunds`, Basic auth, `Idempotence-Key`), that
//! the test controls: it can fail the next creates with 500 or answer too late, the
//! test decides when a payment succeeds or what the API reports, and a script can
//! take over every answer (the client's tests: status, body, delay) while every
//! request is recorded as it came.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

#[derive(Default)]
pub struct Books {
    /// Payments by id, as the API reports them.
    pub payments: HashMap<String, Value>,
    /// The payment each Idempotence-Key made.
    pub payment_keys: HashMap<String, String>,
    pub refunds: HashMap<String, Value>,
    pub refund_keys: HashMap<String, String>,
    /// Every POST's Idempotence-Key, in order.
    pub keys_seen: Vec<String>,
    /// Creates to answer with 500 before succeeding.
    pub fail_next: u32,
    /// Creates to answer only after this long.
    pub delay_next: Option<Duration>,
    /// Answers that replace the API's, in order; the last one repeats.
    pub script: VecDeque<Scripted>,
    /// Every request, as it came.
    pub seen: Vec<SeenRequest>,
    /// While true every request is answered 503, as in an outage.
    pub down: bool,
    /// Payments are made in a test shop (`"test": true`); a live shop's by default.
    pub test_shop: bool,
    /// The status new refunds get (`succeeded` when unset; `pending`, `canceled`).
    pub refund_status: Option<&'static str>,
    /// Refund creates are answered this long after the refund was made (an answer
    /// the caller may never get).
    pub refund_delay: Option<Duration>,
    next_id: u64,
}

/// One answer of a script.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

impl Scripted {
    pub fn new(status: u16, body: &str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }
}

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub idempotence_key: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

#[derive(Clone, Default)]
pub struct FakeYooKassa {
    pub books: Arc<Mutex<Books>>,
}

impl FakeYooKassa {
    /// Serves on a random port; returns the server and its API base URL.
    pub async fn start() -> (Self, String) {
        let fake = Self::default();
        let app = Router::new()
            .route("/v3/payments", post(create_payment))
            .route("/v3/payments/{id}", get(get_payment))
            .route("/v3/refunds", post(create_refund))
            .route("/v3/refunds/{id}", get(get_refund))
            .layer(axum::middleware::from_fn_with_state(fake.clone(), record))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address: SocketAddr = listener.local_addr().expect("an address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (fake, format!("http://{address}/v3"))
    }

    pub fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().expect("the books")
    }

    /// From now on every request is answered by `steps`, in order, the last repeated.
    pub fn script(&self, steps: Vec<Scripted>) {
        self.books().script = steps.into();
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.books().seen.clone()
    }

    /// The payment succeeds at YooKassa (captured, with YooKassa's income after 2.8 %).
    pub fn succeed(&self, id: &str, income: &str) {
        let mut books = self.books();
        let payment = books.payments.get_mut(id).expect("a payment");
        payment["status"] = json!("succeeded");
        payment["paid"] = json!(true);
        payment["captured_at"] = json!("2026-11-23T10:00:00.000Z");
        payment["income_amount"] = json!({"value": income, "currency": "RUB"});
        payment["refunded_amount"] = json!({"value": "0.00", "currency": "RUB"});
        payment["refundable"] = json!(true);
    }

    /// Refund `id` reaches `status` at YooKassa (`succeeded` or `canceled`).
    pub fn settle_refund(&self, id: &str, status: &str) {
        let mut books = self.books();
        let refund = books.refunds.get_mut(id).expect("a refund");
        refund["status"] = json!(status);
        if status == "canceled" {
            refund["cancellation_details"] =
                json!({"party": "yoo_money", "reason": "rejected_by_payee"});
        }
    }

    /// The POSTs to `/v3/refunds`, with their Idempotence-Keys.
    pub fn refund_requests(&self) -> Vec<SeenRequest> {
        self.seen()
            .into_iter()
            .filter(|request| request.method == "POST" && request.path.ends_with("/refunds"))
            .collect()
    }

    /// The notification YooKassa would send about a payment, as it stands now.
    pub fn notification(&self, event: &str, id: &str) -> Value {
        let object = self.books().payments.get(id).cloned().expect("a payment");
        json!({"type": "notification", "event": event, "object": object})
    }
}

/// Records the request; answers it from the script when there is one.
async fn record(State(fake): State<FakeYooKassa>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let scripted = {
        let mut books = fake.books();
        books.seen.push(SeenRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            authorization: header("authorization"),
            idempotence_key: header("idempotence-key"),
            content_type: header("content-type"),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        });
        if books.down {
            Some(Scripted::new(
                503,
                r#"{"type": "error", "id": "down", "code": "internal_server_error", "description": "outage"}"#,
            ))
        } else if books.script.len() > 1 {
            books.script.pop_front()
        } else {
            books.script.front().cloned()
        }
    };
    match scripted {
        Some(step) => {
            tokio::time::sleep(step.delay).await;
            (
                StatusCode::from_u16(step.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                step.body,
            )
                .into_response()
        }
        None => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
    }
}

fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("Basic "))
}

fn key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotence-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn refusal(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"type": "error", "id": "e1", "code": code, "description": description})),
    )
        .into_response()
}

async fn create_payment(
    State(fake): State<FakeYooKassa>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let Some(key) = key(&headers).filter(|_| authorised(&headers)) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "auth and key required",
        );
    };
    let delay = {
        let mut books = fake.books();
        books.keys_seen.push(key.clone());
        if books.fail_next > 0 {
            books.fail_next -= 1;
            return refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_server_error",
                "try again",
            );
        }
        books.delay_next.take()
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let mut books = fake.books();
    if let Some(id) = books.payment_keys.get(&key).cloned() {
        return axum::Json(books.payments[&id].clone()).into_response();
    }
    books.next_id += 1;
    let id = format!("2db9930f-000f-5000-9000-{:012x}", books.next_id);
    let payment = json!({
        "id": id,
        "status": "pending",
        "paid": false,
        "amount": request["amount"],
        "confirmation": {"type": "redirect", "confirmation_url": format!("https://yoomoney.ru/checkout/payments/v2/contract?orderId={id}"), "return_url": request["confirmation"]["return_url"]},
        "created_at": "2026-11-23T09:59:00.000Z",
        "description": request["description"],
        "metadata": request["metadata"],
        "recipient": {"account_id": "100500", "gateway_id": "100700"},
        "refundable": false,
        "test": books.test_shop,
    });
    books.payments.insert(id.clone(), payment.clone());
    books.payment_keys.insert(key, id);
    axum::Json(payment).into_response()
}

async fn get_payment(
    State(fake): State<FakeYooKassa>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorised(&headers) {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "auth required",
        );
    }
    match fake.books().payments.get(&id) {
        Some(payment) => axum::Json(payment.clone()).into_response(),
        None => refusal(StatusCode::NOT_FOUND, "not_found", "payment not found"),
    }
}

async fn create_refund(
    State(fake): State<FakeYooKassa>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let Some(key) = key(&headers).filter(|_| authorised(&headers)) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "auth and key required",
        );
    };
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let (refund, delay) = {
        let mut books = fake.books();
        books.keys_seen.push(key.clone());
        if let Some(id) = books.refund_keys.get(&key).cloned() {
            (books.refunds[&id].clone(), None)
        } else {
            books.next_id += 1;
            let id = format!("216749f7-0016-50be-b000-{:012x}", books.next_id);
            let refund = json!({
                "id": id,
                "payment_id": request["payment_id"],
                "status": books.refund_status.unwrap_or("succeeded"),
                "amount": request["amount"],
                "created_at": "2026-11-23T11:00:00.000Z",
            });
            books.refunds.insert(id.clone(), refund.clone());
            books.refund_keys.insert(key, id);
            (refund, books.refund_delay)
        }
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    axum::Json(refund).into_response()
}

async fn get_refund(
    State(fake): State<FakeYooKassa>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorised(&headers) {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "auth required",
        );
    }
    match fake.books().refunds.get(&id) {
        Some(refund) => axum::Json(refund.clone()).into_response(),
        None => refusal(StatusCode::NOT_FOUND, "not_found", "refund not found"),
    }
}
