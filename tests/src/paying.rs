//! Paying against the YooKassa-compatible test server: an app in live mode pointed at
//! it, a shop order with its payment, YooKassa taking the money.

use std::time::Duration;

use api::startup::Parts;
use reqwest::StatusCode;
use serde_json::json;

use crate::TestContext;
use crate::api_client::{get_with, post, post_with, settings};
use crate::app::{TestApp, spawn_app};
use crate::yookassa_fake::FakeYooKassa;

pub const WEBHOOK: &str = "/api/v1/payments/yookassa/webhook";

/// The app in live mode with the test's YooKassa (a live shop), notifications
/// accepted from `notification_ips`.
pub async fn live_app(context: &TestContext, notification_ips: &str) -> (TestApp, FakeYooKassa) {
    let (fake, url) = FakeYooKassa::start().await;
    let mut settings = settings(context);
    settings.payments.credentials = Some(("100500".to_owned(), "live_secret".to_owned()));
    settings.payments.mode = Some(api::config::PaymentMode::Live);
    settings.payments.api_url = url;
    settings.payments.notification_ips = Some(notification_ips.to_owned());
    settings.payments.timeout = Duration::from_millis(700);
    (spawn_app(settings, Parts::ALL).await, fake)
}

/// A shop order of one mug (490.00) and its payment at YooKassa, started with `key`.
pub struct ShopOrder {
    pub order_id: String,
    pub payment_id: String,
    pub provider_payment_id: String,
}

pub async fn shop_order_with_payment(app: &TestApp, buyer: &str, key: &str) -> ShopOrder {
    let (status, order) = post_with(
        app,
        "/api/v1/orders",
        buyer,
        json!({"kind": "shop", "items": [{"product_id": "mug", "quantity": 1}],
               "delivery": {"recipient": "Костя", "phone": "+79990000001", "address": "Тверь"}}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let order_id = order["order_id"].as_str().expect("an order").to_owned();
    let (status, payment) = post_with(
        app,
        "/api/v1/payments",
        buyer,
        json!({"purpose": {"kind": "order", "order_id": order_id}, "idempotence_key": key}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{payment}");
    ShopOrder {
        order_id,
        payment_id: payment["payment_id"].as_str().expect("an id").to_owned(),
        provider_payment_id: payment["provider_payment_id"]
            .as_str()
            .expect("YooKassa's id")
            .to_owned(),
    }
}

/// YooKassa takes the money and says so.
pub async fn pays(app: &TestApp, fake: &FakeYooKassa, provider_payment_id: &str) {
    fake.succeed(provider_payment_id, "476.28");
    let (status, _) = post(
        app,
        WEBHOOK,
        fake.notification("payment.succeeded", provider_payment_id),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// A shop order YooKassa was paid for, once the order shows it.
pub async fn paid_shop_order(
    app: &TestApp,
    fake: &FakeYooKassa,
    buyer: &str,
    key: &str,
) -> ShopOrder {
    let order = shop_order_with_payment(app, buyer, key).await;
    pays(app, fake, &order.provider_payment_id).await;
    let path = format!("/api/v1/orders/{}", order.order_id);
    assert!(
        crate::eventually(Duration::from_secs(30), || async {
            get_with(app, &path, buyer).await.1["status"] == "paid"
        })
        .await,
        "the order is paid"
    );
    order
}

/// Clicks "pay" (or "cancel") on the sandbox's checkout page, as a customer would.
pub async fn checkout(app: &TestApp, confirmation_url: &str, action: &str) {
    let path = confirmation_url
        .split_once("/sandbox/")
        .map(|(_, rest)| format!("/sandbox/{rest}/{action}"))
        .expect("a sandbox checkout link");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let page = client.get(confirmation_url).send().await.expect("the page");
    assert!(page.text().await.expect("html").contains("SANDBOX"));
    let answer = client.post(app.url(&path)).send().await.expect("the click");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "back to the shop");
}
