//! Payments through YooKassa, black-box: each purchase flow down to the balance, the
//! order, and never the tax ledger (against the built-in sandbox, clicking its checkout);
//! then, against a YooKassa-compatible server the test controls: retries with one
//! Idempotence-Key, notifications repeated and out of order, a forged body, an
//! address outside YooKassa's ranges, refunds in parts and too large.

use std::time::Duration;

use api::startup::Parts;
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{
    error_code, get_with, init_data, post, post_with, settings, sign_in, signed_in, signed_in_as,
};
use tests::app::{TestApp, spawn_app};
use tests::paying::checkout;

/// The monthly allowance every new user gets (the default programme).
const ALLOWANCE: i64 = 10;

fn pack(key: &str) -> Value {
    json!({"purpose": {"kind": "credit_pack", "pack": "M"}, "idempotence_key": key})
}

async fn balance(app: &TestApp, token: &str) -> i64 {
    get_with(app, "/api/v1/credits", token).await.1["balance"]
        .as_i64()
        .unwrap_or(-1)
}

async fn settles(what: &str, check: impl AsyncFn() -> bool) {
    tests::settles(what, Duration::from_secs(20), check).await;
}

#[tokio::test]
async fn purchases_through_the_sandbox_reach_balances_and_orders_but_never_the_tax_ledger() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (referrer, _) = signed_in(&app, 990_001, "Марина").await;
    let (_, me) = get_with(&app, "/api/v1/auth/me", &referrer).await;
    let code = me["referral_code"].as_str().expect("a code").to_owned();
    let start = format!("ref_{code}");
    let session = sign_in(
        &app,
        init_data(990_002, "Костя", &[("start_param", start.as_str())]),
    )
    .await;
    let buyer = session["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let (owner, _) = signed_in_as(&app, &context.pool, 990_003, "Ольга", Role::Owner).await;
    let (admin, _) = signed_in_as(&app, &context.pool, 990_004, "Анна", Role::Admin).await;

    // A credit pack: created, repeated with the same key, paid at the checkout.
    let (status, started) = post_with(&app, "/api/v1/payments", &buyer, pack("pack-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    assert_eq!(
        (&started["sandbox"], &started["amount"], &started["status"]),
        (&json!(true), &json!("1290.00"), &json!("pending"))
    );
    let (status, again) = post_with(&app, "/api/v1/payments", &buyer, pack("pack-1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["payment_id"], started["payment_id"]);
    assert_eq!(again["confirmation_url"], started["confirmation_url"]);
    let (status, body) = post_with(
        &app,
        "/api/v1/payments",
        &buyer,
        json!({"purpose": {"kind": "credit_pack", "pack": "XL"}, "idempotence_key": "pack-1"}),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("idempotence_key"))
    );
    let payment_id = started["payment_id"].as_str().expect("an id").to_owned();
    checkout(
        &app,
        started["confirmation_url"].as_str().expect("a link"),
        "pay",
    )
    .await;
    settles("300 credits on the balance", async || {
        balance(&app, &buyer).await == ALLOWANCE + 300
    })
    .await;
    settles("the referrer's bonus", async || {
        balance(&app, &referrer).await > 0
    })
    .await;
    let (_, paid) = get_with(&app, &format!("/api/v1/payments/{payment_id}"), &buyer).await;
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let (status, _) = get_with(&app, &format!("/api/v1/payments/{payment_id}"), &referrer).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "others' payments are not shown"
    );

    // A plan: the subscription with its credits.
    let (_, plan) = post_with(
        &app,
        "/api/v1/payments",
        &buyer,
        json!({"purpose": {"kind": "subscription", "plan": "pro"}, "idempotence_key": "plan-1"}),
    )
    .await;
    checkout(
        &app,
        plan["confirmation_url"].as_str().expect("a link"),
        "pay",
    )
    .await;
    settles("the plan's 300 credits", async || {
        balance(&app, &buyer).await == ALLOWANCE + 600
    })
    .await;

    // A shop order: paid, it moves on.
    let (_, order) = post_with(
        &app,
        "/api/v1/orders",
        &buyer,
        json!({"kind": "shop", "items": [{"product_id": "mug", "quantity": 1}],
               "delivery": {"recipient": "Костя", "phone": "+79990000001", "address": "Тверь"}}),
    )
    .await;
    let order_id = order["order_id"].as_str().expect("an order").to_owned();
    let (status, order_payment) = post_with(
        &app,
        "/api/v1/payments",
        &buyer,
        json!({"purpose": {"kind": "order", "order_id": order_id}, "idempotence_key": "order-1"}),
    )
    .await;
    let (second_status, second) = post_with(
        &app,
        "/api/v1/payments",
        &buyer,
        json!({"purpose": {"kind": "order", "order_id": order_id}, "idempotence_key": "order-1b"}),
    )
    .await;
    assert_eq!(
        (second_status, error_code(&second)),
        (StatusCode::CONFLICT, "payment_open"),
        "one open payment per order"
    );
    assert_eq!(
        (status, &order_payment["amount"]),
        (StatusCode::CREATED, &json!("490.00")),
        "{order_payment}"
    );
    checkout(
        &app,
        order_payment["confirmation_url"].as_str().expect("a link"),
        "pay",
    )
    .await;
    settles("the order is paid", async || {
        get_with(&app, &format!("/api/v1/orders/{order_id}"), &buyer)
            .await
            .1["status"]
            == "paid"
    })
    .await;
    let (status, body) = post_with(
        &app,
        "/api/v1/payments",
        &buyer,
        json!({"purpose": {"kind": "order", "order_id": order_id}, "idempotence_key": "order-2"}),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "invalid_state"),
        "paid once"
    );

    // A cancelled checkout: the payment is cancelled, nothing granted.
    let (_, abandoned) = post_with(&app, "/api/v1/payments", &buyer, pack("pack-2")).await;
    checkout(
        &app,
        abandoned["confirmation_url"].as_str().expect("a link"),
        "cancel",
    )
    .await;
    let abandoned_id = abandoned["payment_id"].as_str().expect("an id").to_owned();
    settles("the payment is cancelled", async || {
        get_with(&app, &format!("/api/v1/payments/{abandoned_id}"), &buyer)
            .await
            .1["status"]
            == "canceled"
    })
    .await;
    assert_eq!(balance(&app, &buyer).await, ALLOWANCE + 600);

    // Refunds: in parts that add up; more than is left is 422; a pack takes back its share.
    let refunds = format!("/api/v1/payments/{payment_id}/refunds");
    let (status, _) = post_with(&app, &refunds, &buyer, json!({"amount": "100.00"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "customers do not refund");
    let (status, first) = post_with(&app, &refunds, &admin, json!({"amount": "645.00"})).await;
    assert_eq!(
        (status, &first["status"]),
        (StatusCode::CREATED, &json!("succeeded")),
        "{first}"
    );
    let (status, body) = post_with(&app, &refunds, &admin, json!({"amount": "645.01"})).await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("amount")),
        "{body}"
    );
    let (status, second) = post_with(
        &app,
        &refunds,
        &admin,
        json!({"amount": "645.00", "idempotence_key": "second"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["payment"]["refunded_amount"], "1290.00");
    let (status, repeat) = post_with(
        &app,
        &refunds,
        &admin,
        json!({"amount": "645.00", "idempotence_key": "second"}),
    )
    .await;
    assert_eq!(
        (status, &repeat["refund_id"]),
        (StatusCode::CREATED, &second["refund_id"]),
        "a repeat asks once"
    );
    settles("the pack's 300 credits taken back", async || {
        balance(&app, &buyer).await == ALLOWANCE + 300
    })
    .await;

    // A running order is refunded by cancelling it; the refund follows by itself.
    let (status, body) = post_with(
        &app,
        &format!(
            "/api/v1/payments/{}/refunds",
            order_payment["payment_id"].as_str().expect("an id")
        ),
        &admin,
        json!({}),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "cancel_the_order"),
        "{body}"
    );
    let (status, cancelled) = post_with(
        &app,
        &format!("/api/v1/orders/{order_id}/cancel"),
        &admin,
        json!({"reason": "нет в наличии", "refund": "490.00"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    settles("the order shows the money returned", async || {
        get_with(&app, &format!("/api/v1/orders/{order_id}"), &buyer)
            .await
            .1["refunded_amount"]
            == "490.00"
    })
    .await;

    // No money moved: the sandbox's payments are marked as test payments, and the tax
    // ledger never counts them (nor their refunds) as income.
    let (_, pack) = get_with(&app, &format!("/api/v1/payments/{payment_id}"), &buyer).await;
    assert_eq!(pack["test"], json!(true), "{pack}");
    settles("the tax ledger saw every payment and refund", async || {
        let (applied, stored, test): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COALESCE(sum(sequence), 0)::bigint FROM projection_checkpoints WHERE projection = 'tax_ledger'), \
                    (SELECT count(*) FROM events WHERE aggregate_type = 'Payment'), \
                    (SELECT count(*) FROM rm_tax_payments WHERE test AND status = 'succeeded')",
        )
        .fetch_one(&context.pool)
        .await
        .expect("tax ledger progress");
        applied == stored && test == 3
    })
    .await;
    let month = chrono::Utc::now().format("%m").to_string();
    let year = chrono::Utc::now().format("%Y").to_string();
    let path = format!(
        "/api/v1/reports/tax-ledger?year={year}&month={}",
        month.trim_start_matches('0')
    );
    let (_, ledger) = get_with(&app, &path, &owner).await;
    assert_eq!(ledger["lines"], json!([]), "{ledger}");
}

#[tokio::test]
async fn yookassa_is_retried_with_one_key_and_notifications_apply_once_from_its_api() {
    let context = TestContext::new().await;
    let (app, fake) = tests::paying::live_app(&context, "127.0.0.1/32,::1").await;
    let (buyer, _) = signed_in(&app, 991_001, "Костя").await;

    // 500 twice, then an answer: one payment at YooKassa, asked three times with one key.
    fake.books().fail_next = 2;
    let (status, started) = post_with(&app, "/api/v1/payments", &buyer, pack("k-1")).await;
    assert_eq!(
        (status, &started["sandbox"]),
        (StatusCode::CREATED, &json!(false)),
        "{started}"
    );
    let payment_id = started["payment_id"].as_str().expect("an id").to_owned();
    {
        let books = fake.books();
        assert_eq!(books.payments.len(), 1);
        assert_eq!(books.keys_seen, vec![payment_id.clone(); 3]);
    }
    // Too slow once: asked again with the same key, still one payment.
    fake.books().delay_next = Some(Duration::from_secs(2));
    let (status, slow) = post_with(&app, "/api/v1/payments", &buyer, pack("k-2")).await;
    assert_eq!(status, StatusCode::CREATED, "{slow}");
    assert_eq!(fake.books().payments.len(), 2);
    let provider_id = started["provider_payment_id"]
        .as_str()
        .expect("YooKassa's id")
        .to_owned();

    settles("the allowance", async || {
        balance(&app, &buyer).await == ALLOWANCE
    })
    .await;
    let webhook = "/api/v1/payments/yookassa/webhook";
    // A forged body: "succeeded" while YooKassa says pending. Its API wins: nothing happens.
    let mut forged = fake.notification("payment.succeeded", &provider_id);
    forged["object"]["status"] = json!("succeeded");
    forged["object"]["amount"] = json!({"value": "99999.00", "currency": "RUB"});
    let (status, answer) = post(&app, webhook, forged).await;
    assert_eq!(
        (status, &answer["applied"]),
        (StatusCode::OK, &json!(false)),
        "{answer}"
    );
    assert_eq!(balance(&app, &buyer).await, ALLOWANCE);

    // Now it succeeds; the notification comes five times, with a stale one after.
    fake.succeed(&provider_id, "1253.88");
    let notice = fake.notification("payment.succeeded", &provider_id);
    let sends = (0..5).map(|_| post(&app, webhook, notice.clone()));
    for (status, _) in futures_util::future::join_all(sends).await {
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = post(&app, webhook, json!({"type": "notification", "event": "payment.waiting_for_capture", "object": {"id": provider_id}})).await;
    assert_eq!(status, StatusCode::OK);
    settles("credited once", async || {
        balance(&app, &buyer).await == ALLOWANCE + 300
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(balance(&app, &buyer).await, ALLOWANCE + 300, "exactly once");
    let (_, paid) = get_with(&app, &format!("/api/v1/payments/{payment_id}"), &buyer).await;
    assert_eq!(paid["status"], "succeeded");

    // A payment whose notification never comes is settled by the reconciliation.
    let (_, quiet) = post_with(&app, "/api/v1/payments", &buyer, pack("k-3")).await;
    let quiet_provider = quiet["provider_payment_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    fake.succeed(&quiet_provider, "1253.88");
    sqlx::query(
        "UPDATE rm_payments SET created_at = now() - interval '10 minutes' WHERE payment_id = $1",
    )
    .bind(quiet["payment_id"].as_str().expect("an id"))
    .execute(&context.pool)
    .await
    .expect("ages the payment");
    let settled = projections::housekeeping::reconcile_payments(&app.state.reads, &app.state.core)
        .await
        .expect("a round");
    assert_eq!(settled, 1);
    settles("the quiet payment's credits", async || {
        balance(&app, &buyer).await == ALLOWANCE + 600
    })
    .await;

    // Unknown payments and events are answered, and change nothing.
    let (status, _) = post(&app, webhook, json!({"type": "notification", "event": "payment.succeeded", "object": {"id": "22d6d597-000f-5000-9000-145f6df21d6f"}})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(
        &app,
        webhook,
        json!({"type": "notification", "event": "deal.closed", "object": {"id": "x"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post(&app, webhook, json!({"hello": "world"})).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "malformed_notification")
    );
}

#[tokio::test]
async fn notifications_from_outside_yookassas_addresses_are_refused() {
    let context = TestContext::new().await;
    // YooKassa's published ranges only: this test's 127.0.0.1 is outside them.
    let (app, fake) =
        tests::paying::live_app(&context, api::config::YOOKASSA_NOTIFICATION_IPS).await;
    let (buyer, _) = signed_in(&app, 992_001, "Костя").await;
    let (_, started) = post_with(&app, "/api/v1/payments", &buyer, pack("k-1")).await;
    let provider_id = started["provider_payment_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    fake.succeed(&provider_id, "1253.88");
    let (status, body) = post(
        &app,
        "/api/v1/payments/yookassa/webhook",
        fake.notification("payment.succeeded", &provider_id),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{body}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, payment) = get_with(
        &app,
        &format!(
            "/api/v1/payments/{}",
            started["payment_id"].as_str().expect("id")
        ),
        &buyer,
    )
    .await;
    assert_eq!(payment["status"], "pending", "nothing changed");
}
