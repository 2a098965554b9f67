//! Money YooKassa took either pays for something or goes back, once: against a
//! YooKassa-compatible server the test controls (a live shop, so payments are income),
//! black-box through the HTTP API with the workers running. A payment that succeeds
//! after its order was cancelled, a partial refund before a cancellation, refunds that
//! stay pending, are canceled, meet 503s or time out, two payments started at once for
//! one order.

use std::time::Duration;

use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{get_with, post_with, signed_in, signed_in_as};
use tests::app::TestApp;
use tests::paying::{ShopOrder, live_app, paid_shop_order, pays, shop_order_with_payment};

const LOOPBACK: &str = "127.0.0.1/32,::1";

async fn settles(what: &str, check: impl AsyncFn() -> bool) {
    tests::settles(what, Duration::from_secs(30), check).await;
}

async fn payment(app: &TestApp, token: &str, payment_id: &str) -> Value {
    get_with(app, &format!("/api/v1/payments/{payment_id}"), token)
        .await
        .1
}

async fn notices(context: &TestContext, template: &str) -> Vec<Value> {
    sqlx::query_scalar(
        "SELECT params FROM rm_notifications WHERE template = $1 ORDER BY created_at",
    )
    .bind(template)
    .fetch_all(&context.pool)
    .await
    .expect("notifications")
}

async fn tax_lines(context: &TestContext, payment_id: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT kind, amount::text FROM rm_tax_lines WHERE payment_id = $1 ORDER BY kind",
    )
    .bind(payment_id)
    .fetch_all(&context.pool)
    .await
    .expect("tax lines")
}

async fn nothing_parked(context: &TestContext) {
    let parked: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM projection_parked) + (SELECT count(*) FROM refund_calls WHERE parked_at IS NOT NULL)",
    )
    .fetch_one(&context.pool)
    .await
    .expect("parked");
    assert_eq!(parked, 0, "nothing parked");
}

#[tokio::test]
async fn a_payment_that_succeeds_after_its_order_was_cancelled_is_refunded_once() {
    let context = TestContext::new().await;
    let (app, fake) = live_app(&context, LOOPBACK).await;
    let (buyer, _) = signed_in(&app, 993_001, "Костя").await;
    let ShopOrder {
        order_id,
        payment_id,
        provider_payment_id: provider_id,
    } = shop_order_with_payment(&app, &buyer, "k-1").await;

    // The customer cancels while the checkout is open: our payment is cancelled.
    let (status, body) = post_with(
        &app,
        &format!("/api/v1/orders/{order_id}/cancel"),
        &buyer,
        json!({"reason": "передумал"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    settles("the open payment is cancelled", async || {
        payment(&app, &buyer, &payment_id).await["status"] == "canceled"
    })
    .await;

    // YooKassa takes the money all the same; its notification comes three times.
    for _ in 0..3 {
        pays(&app, &fake, &provider_id).await;
    }
    settles("the money went back", async || {
        payment(&app, &buyer, &payment_id).await["refunded_amount"] == "490.00"
    })
    .await;
    let refunds = fake.refund_requests();
    assert_eq!(refunds.len(), 1, "asked once: {refunds:?}");
    assert_eq!(
        refunds[0].idempotence_key.as_deref(),
        Some(format!("payment-{payment_id}-returned").as_str())
    );
    assert_eq!(fake.books().refunds.len(), 1);
    let told = notices(&context, "refund_requested").await;
    assert_eq!(
        told,
        vec![json!({"payment_id": payment_id, "amount": "490.00", "cause": "paid_for_nothing"})]
    );
    settles("the tax ledger has income and refund", async || {
        tax_lines(&context, &payment_id).await.len() == 2
    })
    .await;
    assert_eq!(
        tax_lines(&context, &payment_id).await,
        vec![
            ("income".to_owned(), "490.00".to_owned()),
            ("refund".to_owned(), "-490.00".to_owned())
        ]
    );
    let (_, order) = get_with(&app, &format!("/api/v1/orders/{order_id}"), &buyer).await;
    assert_eq!(order["status"], "cancelled", "{order}");
    nothing_parked(&context).await;
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn two_payments_started_at_once_for_one_order_make_one_at_yookassa() {
    let context = TestContext::new().await;
    let (app, fake) = live_app(&context, LOOPBACK).await;
    let (buyer, _) = signed_in(&app, 993_101, "Костя").await;
    let (_, order) = post_with(
        &app,
        "/api/v1/orders",
        &buyer,
        json!({"kind": "shop", "items": [{"product_id": "mug", "quantity": 1}],
               "delivery": {"recipient": "Костя", "phone": "+79990000001", "address": "Тверь"}}),
    )
    .await;
    let order_id = order["order_id"].as_str().expect("an order");
    let start = |key: &'static str| {
        post_with(
            &app,
            "/api/v1/payments",
            &buyer,
            json!({"purpose": {"kind": "order", "order_id": order_id}, "idempotence_key": key}),
        )
    };
    let (first, second) = tokio::join!(start("tab-1"), start("tab-2"));
    let statuses = [first.0, second.0];
    assert!(
        statuses.contains(&StatusCode::CREATED) && statuses.contains(&StatusCode::CONFLICT),
        "one started, one refused: {first:?} {second:?}"
    );
    assert_eq!(fake.books().payments.len(), 1, "one payment at YooKassa");
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_partial_refund_then_a_cancellation_refunds_the_rest() {
    let context = TestContext::new().await;
    let (app, fake) = live_app(&context, LOOPBACK).await;
    let (buyer, _) = signed_in(&app, 993_201, "Костя").await;
    let (admin, _) = signed_in_as(&app, &context.pool, 993_202, "Анна", Role::Admin).await;
    let ShopOrder {
        order_id,
        payment_id,
        ..
    } = paid_shop_order(&app, &fake, &buyer, "k-1").await;
    let (status, first) = post_with(
        &app,
        &format!("/api/v1/payments/{payment_id}/refunds"),
        &admin,
        json!({"amount": "100.00"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    settles("the order knows of the refund", async || {
        get_with(&app, &format!("/api/v1/orders/{order_id}"), &buyer)
            .await
            .1["refunded_amount"]
            == "100.00"
    })
    .await;
    // The whole price is no longer refundable: the order says what is left.
    let cancel = format!("/api/v1/orders/{order_id}/cancel");
    let (status, body) = post_with(
        &app,
        &cancel,
        &admin,
        json!({"reason": "нет в наличии", "refund": "490.00"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("390.00")),
        "{body}"
    );
    let (status, body) = post_with(
        &app,
        &cancel,
        &admin,
        json!({"reason": "нет в наличии", "refund": "390.00"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    settles("everything went back", async || {
        payment(&app, &buyer, &payment_id).await["refunded_amount"] == "490.00"
    })
    .await;
    let amounts: Vec<Value> = notices(&context, "refund_requested")
        .await
        .into_iter()
        .map(|params| params["amount"].clone())
        .collect();
    assert_eq!(amounts, vec![json!("100.00"), json!("390.00")]);
    nothing_parked(&context).await;
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_cancellation_refunds_what_is_left_after_a_refund_still_pending() {
    let context = TestContext::new().await;
    let (app, fake) = live_app(&context, LOOPBACK).await;
    let (buyer, _) = signed_in(&app, 993_301, "Костя").await;
    let (admin, _) = signed_in_as(&app, &context.pool, 993_302, "Анна", Role::Admin).await;
    let ShopOrder {
        order_id,
        payment_id,
        ..
    } = paid_shop_order(&app, &fake, &buyer, "k-1").await;
    // A partial refund YooKassa keeps pending: the order does not know of it yet.
    fake.books().refund_status = Some("pending");
    let (status, first) = post_with(
        &app,
        &format!("/api/v1/payments/{payment_id}/refunds"),
        &admin,
        json!({"amount": "100.00"}),
    )
    .await;
    assert_eq!(
        (status, &first["status"]),
        (StatusCode::CREATED, &json!("pending")),
        "{first}"
    );
    fake.books().refund_status = None;
    let (status, body) = post_with(
        &app,
        &format!("/api/v1/orders/{order_id}/cancel"),
        &admin,
        json!({"reason": "нет в наличии", "refund": "490.00"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The cancellation asks only for what is not promised already.
    settles("the rest is requested", async || {
        notices(&context, "refund_requested").await.len() == 2
    })
    .await;
    let amounts: Vec<Value> = notices(&context, "refund_requested")
        .await
        .into_iter()
        .map(|params| params["amount"].clone())
        .collect();
    assert_eq!(amounts, vec![json!("100.00"), json!("390.00")]);
    // The pending one is re-read until YooKassa has a verdict.
    let pending = fake
        .books()
        .refunds
        .iter()
        .find(|(_, refund)| refund["status"] == "pending")
        .map(|(id, _)| id.clone())
        .expect("a pending refund");
    fake.settle_refund(&pending, "succeeded");
    sqlx::query("UPDATE refund_calls SET due_at = now()")
        .execute(&context.pool)
        .await
        .expect("the re-read is due");
    settles("both refunds succeeded", async || {
        payment(&app, &buyer, &payment_id).await["refunded_amount"] == "490.00"
    })
    .await;
    assert_eq!(fake.refund_requests().len(), 2, "each refund created once");
    let reads = fake
        .seen()
        .iter()
        .filter(|request| request.method == "GET" && request.path.contains("/refunds/"))
        .count();
    assert!(reads >= 1, "the pending refund was re-read");
    nothing_parked(&context).await;
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn refunds_that_meet_503s_timeouts_or_a_cancel_at_yookassa_end_with_its_verdict() {
    let context = TestContext::new().await;
    let (app, fake) = live_app(&context, LOOPBACK).await;
    let (buyer, _) = signed_in(&app, 993_401, "Костя").await;
    let (admin, _) = signed_in_as(&app, &context.pool, 993_402, "Анна", Role::Admin).await;
    let ShopOrder { payment_id, .. } = paid_shop_order(&app, &fake, &buyer, "k-1").await;
    let refunds = format!("/api/v1/payments/{payment_id}/refunds");

    // YooKassa answers 503 to everything: the refund is recorded and asked again later.
    fake.books().down = true;
    let (status, body) = post_with(&app, &refunds, &admin, json!({"amount": "100.00"})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    settles("asked again while it is down", async || {
        let attempts: Option<i32> = sqlx::query_scalar("SELECT max(attempts) FROM refund_calls")
            .fetch_one(&context.pool)
            .await
            .expect("calls");
        attempts.is_some_and(|attempts| attempts >= 2)
    })
    .await;
    fake.books().down = false;
    sqlx::query("UPDATE refund_calls SET due_at = now()")
        .execute(&context.pool)
        .await
        .expect("due");
    settles("made once it is back", async || {
        payment(&app, &buyer, &payment_id).await["refunded_amount"] == "100.00"
    })
    .await;
    assert_eq!(fake.books().refunds.len(), 1, "one refund at YooKassa");

    // Too slow to answer (past the client's timeout): the refund is made at YooKassa
    // but its answer is lost; asked again under the same key, YooKassa's one refund is
    // what comes back.
    fake.books().refund_delay = Some(Duration::from_millis(1_500));
    let (status, body) = post_with(&app, &refunds, &admin, json!({"amount": "20.00"})).await;
    fake.books().refund_delay = None;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::CREATED, &json!("succeeded")),
        "{body}"
    );
    let refund_id = body["refund_id"].as_str().expect("a refund id");
    let asks = fake
        .refund_requests()
        .into_iter()
        .filter(|ask| ask.idempotence_key.as_deref() == Some(refund_id))
        .count();
    assert!(asks >= 2, "asked again after the timeout: {asks}");
    assert_eq!(fake.books().refunds.len(), 2, "one more refund at YooKassa");
    settles("both refunds counted", async || {
        payment(&app, &buyer, &payment_id).await["refunded_amount"] == "120.00"
    })
    .await;

    // A refund YooKassa cancels: the amount is refundable again, staff are told.
    fake.books().refund_status = Some("canceled");
    let (status, body) = post_with(&app, &refunds, &admin, json!({"amount": "50.00"})).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::CREATED, &json!("failed")),
        "{body}"
    );
    settles("staff are told", async || {
        !notices(&context, "staff_refund_failed").await.is_empty()
    })
    .await;
    let calls: i64 = sqlx::query_scalar("SELECT count(*) FROM refund_calls")
        .fetch_one(&context.pool)
        .await
        .expect("calls");
    settles("no call left to make", async || {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM refund_calls")
            .fetch_one(&context.pool)
            .await
            .is_ok_and(|left| left == 0)
    })
    .await;
    assert!(calls <= 1);
    nothing_parked(&context).await;
    app.stop().await;
    context.cleanup().await;
}
