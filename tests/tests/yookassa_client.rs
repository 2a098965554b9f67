//! The YooKassa client against the tests' YooKassa-compatible server: retries with
//! one Idempotence-Key and the same body, timeouts, YooKassa's refusals and error
//! bodies, Basic auth, ids that could change the path refused before sending, and
//! logs without the secret.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api::yookassa::client::{IDEMPOTENCE_KEY_HEADER, MAX_ID_LEN};
use api::yookassa::{
    Amount, ConfirmationRequest, NewPayment, NewRefund, PaymentStatus, RefundStatus,
    YooKassaClient, YooKassaError, YooKassaSettings,
};
use base64::Engine;
use domain::money::Money;
use tests::yookassa_fake::{FakeYooKassa, Scripted};

const SECRET: &str = "test_SECRET-do-not-log";

const PAYMENT: &str = r#"{
  "id": "23d93cac-000f-5000-8000-126628f15141",
  "status": "pending",
  "paid": false,
  "amount": {"value": "100.00", "currency": "RUB"},
  "confirmation": {"type": "redirect", "confirmation_url": "https://yoomoney.ru/x"},
  "created_at": "2019-01-22T14:30:45.129Z",
  "description": "Заказ №1",
  "metadata": {"order_id": "37"},
  "recipient": {"account_id": "100500", "gateway_id": "100700"},
  "refundable": false,
  "test": false
}"#;

const REFUND: &str = r#"{
  "id": "216749f7-0016-50be-b000-078d43a63ae4",
  "status": "succeeded",
  "amount": {"value": "2.00", "currency": "RUB"},
  "created_at": "2017-10-04T19:27:51.407Z",
  "payment_id": "23d93cac-000f-5000-8000-126628f15141"
}"#;

const DUPLICATED_KEY: &str = r#"{
  "type": "error",
  "id": "ab5a11cd-13cc-4e33-af8b-75a74e18dd09",
  "code": "invalid_request",
  "description": "Idempotence key duplicated",
  "parameter": "Idempotence-Key"
}"#;

const INTERNAL_ERROR: &str = r#"{
  "type": "error",
  "id": "e1f2",
  "code": "internal_server_error",
  "description": "Internal server error"
}"#;

/// One answer of the script.
fn step(status: u16, body: &str) -> Scripted {
    Scripted::new(status, body)
}

/// The tests' YooKassa answering `steps`; returns its API URL (`…/v3`).
async fn serve(steps: Vec<Scripted>) -> (String, FakeYooKassa) {
    let (fake, url) = FakeYooKassa::start().await;
    fake.script(steps);
    (url, fake)
}

fn settings(api_url: &str) -> YooKassaSettings {
    YooKassaSettings {
        shop_id: "100500".to_owned(),
        secret_key: SECRET.to_owned(),
        api_url: api_url.to_owned(),
        timeout: Duration::from_secs(5),
        attempts: 3,
        retry_delay: Duration::from_millis(10),
    }
}

fn client(api_url: &str) -> YooKassaClient {
    YooKassaClient::new(settings(api_url)).expect("a client")
}

fn rub(text: &str) -> Amount {
    Amount::rub(text.parse::<Money>().expect("money"))
}

fn new_payment() -> NewPayment {
    NewPayment {
        amount: rub("100.00"),
        capture: true,
        confirmation: ConfirmationRequest::redirect("https://shop.example/done"),
        description: "Заказ №1".to_owned(),
        metadata: BTreeMap::from([("order_id".to_owned(), "37".to_owned())]),
        receipt: None,
    }
}

fn new_refund() -> NewRefund {
    NewRefund {
        payment_id: "23d93cac-000f-5000-8000-126628f15141".to_owned(),
        amount: rub("2.00"),
        description: None,
    }
}

#[tokio::test]
async fn a_500_is_retried_with_the_same_idempotence_key_and_body() {
    let (url, script) = serve(vec![step(500, INTERNAL_ERROR), step(200, PAYMENT)]).await;
    let payment = client(&url)
        .create_payment(&new_payment(), "key-0001")
        .await
        .expect("the second try succeeds");
    assert_eq!(payment.id, "23d93cac-000f-5000-8000-126628f15141");
    assert_eq!(payment.status, PaymentStatus::Pending);

    let seen = script.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for request in &seen {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v3/payments");
        assert_eq!(request.idempotence_key.as_deref(), Some("key-0001"));
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        let body: NewPayment = serde_json::from_str(&request.body).expect("a new payment");
        assert_eq!(body, new_payment());
    }
    assert_eq!(seen[0].body, seen[1].body, "the same data on the retry");
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let slow = Scripted {
        delay: Duration::from_secs(3),
        ..step(200, PAYMENT)
    };
    let (url, script) = serve(vec![slow, step(200, PAYMENT)]).await;
    let client = YooKassaClient::new(YooKassaSettings {
        timeout: Duration::from_millis(300),
        ..settings(&url)
    })
    .expect("a client");
    let started = Instant::now();
    let payment = client
        .get_payment("23d93cac-000f-5000-8000-126628f15141")
        .await
        .expect("the second try succeeds");
    assert_eq!(payment.amount, rub("100.00"));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not wait it out"
    );
    let seen = script.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(
        |r| r.method == "GET" && r.path == "/v3/payments/23d93cac-000f-5000-8000-126628f15141"
    ));
}

#[tokio::test]
async fn a_400_is_rejected_with_yookassas_code_and_not_retried() {
    let (url, script) = serve(vec![step(400, DUPLICATED_KEY)]).await;
    let error = client(&url)
        .create_refund(&new_refund(), "key-0002")
        .await
        .expect_err("rejected");
    match &error {
        YooKassaError::Rejected {
            status,
            code,
            description,
            parameter,
        } => {
            assert_eq!(*status, 400);
            assert_eq!(code, "invalid_request");
            assert_eq!(description, "Idempotence key duplicated");
            assert_eq!(parameter.as_deref(), Some("Idempotence-Key"));
        }
        other => panic!("not rejected: {other:?}"),
    }
    assert!(!error.is_retryable());
    assert_eq!(error.code(), Some("invalid_request"));
    let message = error.to_string();
    assert!(message.contains("Idempotence key duplicated"), "{message}");
    assert!(message.contains("Idempotence-Key"), "{message}");
    assert_eq!(script.seen().len(), 1, "a 4xx is not retried");
}

#[tokio::test]
async fn a_4xx_without_an_error_body_is_rejected_with_a_made_up_code() {
    let (url, script) = serve(vec![step(401, "<html>Unauthorized</html>")]).await;
    let error = client(&url)
        .get_refund("216749f7-0016-50be-b000-078d43a63ae4")
        .await
        .expect_err("rejected");
    match error {
        YooKassaError::Rejected {
            status,
            code,
            description,
            parameter,
        } => {
            assert_eq!(status, 401);
            assert_eq!(code, "invalid_credentials");
            assert!(description.contains("Unauthorized"), "{description}");
            assert_eq!(parameter, None);
        }
        other => panic!("not rejected: {other:?}"),
    }
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test]
async fn a_404_is_not_found_and_not_retried() {
    let (url, script) = serve(vec![step(
        404,
        r#"{"type":"error","code":"not_found","description":"Payment doesn't exist"}"#,
    )])
    .await;
    let error = client(&url)
        .get_payment("no-such-payment")
        .await
        .expect_err("not found");
    assert!(matches!(error, YooKassaError::NotFound), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test]
async fn requests_carry_basic_auth_and_only_posts_carry_a_key() {
    let (url, script) = serve(vec![step(200, REFUND)]).await;
    let client = client(&url);
    let refund = client
        .create_refund(&new_refund(), "refund-key")
        .await
        .expect("a refund");
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert_eq!(refund.amount, rub("2.00"));
    client
        .get_refund("216749f7-0016-50be-b000-078d43a63ae4")
        .await
        .expect("a refund");

    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("100500:{SECRET}"))
    );
    let seen = script.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.authorization.as_deref(), Some(expected.as_str()));
    }
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v3/refunds");
    assert_eq!(seen[0].idempotence_key.as_deref(), Some("refund-key"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&seen[0].body).expect("json"),
        serde_json::json!({
            "payment_id": "23d93cac-000f-5000-8000-126628f15141",
            "amount": {"value": "2.00", "currency": "RUB"}
        })
    );
    assert_eq!(seen[1].method, "GET");
    assert_eq!(
        seen[1].path,
        "/v3/refunds/216749f7-0016-50be-b000-078d43a63ae4"
    );
    assert_eq!(seen[1].idempotence_key, None);
    assert_eq!(seen[1].body, "");
}

#[tokio::test]
async fn it_is_unavailable_after_every_attempt_failed() {
    let (url, script) = serve(vec![step(503, "")]).await;
    let error = client(&url)
        .create_payment(&new_payment(), "key-0003")
        .await
        .expect_err("unavailable");
    match &error {
        YooKassaError::Unavailable { attempts, reason } => {
            assert_eq!(*attempts, 3);
            assert!(reason.contains("503"), "{reason}");
        }
        other => panic!("not unavailable: {other:?}"),
    }
    assert!(error.is_retryable());
    let seen = script.seen();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|r| r.idempotence_key.as_deref() == Some("key-0003"))
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_unavailable() {
    // A port nobody listens on any more.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = listener.local_addr().expect("an address");
    drop(listener);
    let client = YooKassaClient::new(YooKassaSettings {
        attempts: 2,
        ..settings(&format!("http://{address}/v3"))
    })
    .expect("a client");
    let error = client
        .get_payment("23d93cac-000f-5000-8000-126628f15141")
        .await
        .expect_err("unavailable");
    match error {
        YooKassaError::Unavailable { attempts, reason } => {
            assert_eq!(attempts, 2);
            assert!(!reason.contains("127.0.0.1"), "no URL in {reason}");
            assert!(reason.contains("connect"), "{reason}");
        }
        other => panic!("not unavailable: {other:?}"),
    }
}

#[tokio::test]
async fn a_success_with_an_unreadable_body_is_malformed_and_not_retried() {
    let (url, script) = serve(vec![step(200, r#"{"id": "x", "status": "paid"}"#)]).await;
    let error = client(&url).get_payment("x").await.expect_err("malformed");
    assert!(matches!(error, YooKassaError::Malformed(_)), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(script.seen().len(), 1);
}

#[tokio::test]
async fn ids_that_could_change_the_path_are_refused_before_sending() {
    let (url, script) = serve(vec![step(200, PAYMENT)]).await;
    let client = client(&url);
    let long = "a".repeat(MAX_ID_LEN + 1);
    for id in [
        "",
        "../refunds",
        "a/b",
        "a?b=c",
        "a#b",
        "a%2Fb",
        "a b",
        "ид",
        "a.b",
        long.as_str(),
    ] {
        for error in [
            client.get_payment(id).await.expect_err(id),
            client.get_refund(id).await.expect_err(id),
        ] {
            match error {
                YooKassaError::Rejected {
                    status,
                    code,
                    parameter,
                    ..
                } => {
                    assert_eq!(status, 400, "{id}");
                    assert_eq!(code, "invalid_request", "{id}");
                    assert_eq!(parameter.as_deref(), Some("id"));
                }
                other => panic!("{id:?}: {other:?}"),
            }
        }
    }
    for key in ["", "two words", "ключ", "a\nb"] {
        let error = client
            .create_payment(&new_payment(), key)
            .await
            .expect_err(key);
        assert!(
            matches!(&error, YooKassaError::Rejected { parameter: Some(p), .. } if p == IDEMPOTENCE_KEY_HEADER),
            "{key:?}: {error:?}"
        );
    }
    assert!(script.seen().is_empty(), "nothing was sent");
    client
        .get_payment("Az09-_")
        .await
        .expect("a safe id is sent");
    assert_eq!(script.seen().len(), 1);
}

/// A writer the test's subscriber logs into.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn retries_are_logged_without_the_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (url, _script) = serve(vec![step(500, INTERNAL_ERROR), step(200, PAYMENT)]).await;
    client(&url)
        .create_payment(&new_payment(), "key-0004")
        .await
        .expect("the second try succeeds");

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains("retrying"), "{logs}");
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("POST"), "{logs}");
    assert!(logs.contains("/payments"), "{logs}");
    assert!(logs.contains("attempt=1"), "{logs}");
    assert!(logs.contains("500"), "{logs}");
    assert!(!logs.contains(SECRET), "the secret was logged: {logs}");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("100500:{SECRET}"));
    assert!(
        !logs.contains(&basic),
        "the Authorization header was logged"
    );
    assert!(
        !logs.contains("Basic "),
        "the Authorization header was logged"
    );
}
