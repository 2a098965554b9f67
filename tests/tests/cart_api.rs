//! The shop's cart over HTTP: kept on the server per user, priced from the
//! shopfront, checked out into a shop order of exactly the revision the customer
//! saw; a repeated checkout (a lost answer, or a run cut short before the cart was
//! emptied) finds the order it placed instead of placing a second.

use api::startup::Parts;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{error_code, get_with, post_with, put_with, settings, signed_in};
use tests::app::spawn_app;

fn delivery() -> Value {
    json!({"recipient": "Дмитрий Петров", "phone": "+79001234567", "address": "Москва, ул. Ленина, 1"})
}

#[tokio::test]
async fn a_cart_is_kept_per_user_and_checked_out_once() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (buyer, _) = signed_in(&app, 910_001, "Дима").await;
    let (other, _) = signed_in(&app, 910_002, "Сосед").await;

    let (status, empty) = get_with(&app, "/api/v1/cart", &buyer).await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert_eq!(empty, json!({"items": [], "total": "0.00", "revision": 0}));

    let (status, cart) = put_with(
        &app,
        "/api/v1/cart/items/mug",
        &buyer,
        json!({"quantity": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cart}");
    let (_, cart) = put_with(
        &app,
        "/api/v1/cart/items/tshirt",
        &buyer,
        json!({"quantity": 1}),
    )
    .await;
    assert_eq!(cart["total"], "2270.00", "{cart}");
    assert_eq!(
        cart["items"][0]["product_id"], "mug",
        "oldest line first: {cart}"
    );
    assert_eq!(cart["items"][0]["line_total"], "980.00", "{cart}");
    assert_eq!(cart["revision"], 2, "{cart}");

    // Another person's cart is their own.
    let (_, theirs) = get_with(&app, "/api/v1/cart", &other).await;
    assert_eq!(theirs["items"], json!([]), "{theirs}");

    // Refusals name the field.
    let (status, body) = put_with(
        &app,
        "/api/v1/cart/items/teapot",
        &buyer,
        json!({"quantity": 1}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("product_id")),
        "{body}"
    );
    let (status, body) = put_with(
        &app,
        "/api/v1/cart/items/mug",
        &buyer,
        json!({"quantity": 100}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("quantity")),
        "{body}"
    );

    // A checkout of a revision the customer no longer sees is refused.
    let (status, body) = post_with(
        &app,
        "/api/v1/cart/checkout",
        &buyer,
        json!({"revision": 1, "delivery": delivery()}),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "cart_changed"),
        "{body}"
    );

    let (status, order) = post_with(
        &app,
        "/api/v1/cart/checkout",
        &buyer,
        json!({"revision": 2, "delivery": delivery()}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["kind"], "shop");
    assert_eq!(order["price"], "2270.00", "{order}");
    assert_eq!(
        order["details"]["lines"].as_array().map(Vec::len),
        Some(2),
        "{order}"
    );
    assert!(
        order["actions"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("pay"))),
        "the customer is offered to pay: {order}"
    );

    // The answer was lost: the same checkout again is the same order, not a second.
    let (status, again) = post_with(
        &app,
        "/api/v1/cart/checkout",
        &buyer,
        json!({"revision": 2, "delivery": delivery()}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["order_id"], order["order_id"]);
    let (_, cart) = get_with(&app, "/api/v1/cart", &buyer).await;
    assert_eq!(
        cart["items"],
        json!([]),
        "the cart is empty after the checkout: {cart}"
    );
    let (_, mine) = get_with(&app, "/api/v1/orders?kind=shop", &buyer).await;
    assert_eq!(
        mine["items"].as_array().map(Vec::len),
        Some(1),
        "one order: {mine}"
    );

    // An empty cart cannot be checked out.
    let (_, cart) = put_with(
        &app,
        "/api/v1/cart/items/mug",
        &buyer,
        json!({"quantity": 0}),
    )
    .await;
    let (status, body) = post_with(
        &app,
        "/api/v1/cart/checkout",
        &buyer,
        json!({"revision": cart["revision"], "delivery": delivery()}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("items")),
        "{body}"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_checkout_cut_short_before_the_cart_was_emptied_places_no_second_order() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (buyer, buyer_id) = signed_in(&app, 910_101, "Ира").await;
    let (_, cart) = put_with(
        &app,
        "/api/v1/cart/items/mug",
        &buyer,
        json!({"quantity": 3}),
    )
    .await;
    let checkout = json!({"revision": cart["revision"], "delivery": delivery()});
    let (status, order) = post_with(&app, "/api/v1/cart/checkout", &buyer, checkout.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    reopen(&context, &buyer_id, 3).await;
    let (status, again) = post_with(&app, "/api/v1/cart/checkout", &buyer, checkout).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["order_id"], order["order_id"], "the same order");
    let placed = orders_placed(&context).await;
    assert_eq!(placed, 1, "one order placed");
    let (_, cart) = get_with(&app, "/api/v1/cart", &buyer).await;
    assert_eq!(cart["items"], json!([]), "{cart}");

    // Cut short again, and this time the customer changes the cart instead of
    // checking out again: what was bought leaves the cart before the change.
    let (_, cart) = put_with(
        &app,
        "/api/v1/cart/items/mug",
        &buyer,
        json!({"quantity": 2}),
    )
    .await;
    let (status, second) = post_with(
        &app,
        "/api/v1/cart/checkout",
        &buyer,
        json!({"revision": cart["revision"], "delivery": delivery()}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    reopen(&context, &buyer_id, 2).await;
    let (_, cart) = put_with(
        &app,
        "/api/v1/cart/items/tshirt",
        &buyer,
        json!({"quantity": 1}),
    )
    .await;
    assert_eq!(
        cart["items"].as_array().map(Vec::len),
        Some(1),
        "only the new line: {cart}"
    );
    assert_eq!(cart["items"][0]["product_id"], "tshirt", "{cart}");
    let (status, body) = post_with(
        &app,
        "/api/v1/cart/checkout",
        &buyer,
        json!({"revision": cart["revision"], "delivery": delivery()}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["details"]["lines"].as_array().map(Vec::len),
        Some(1),
        "the mugs are not bought twice: {body}"
    );
    app.stop().await;
    context.cleanup().await;
}

/// As if the process died after a checkout placed its order and before it closed
/// the cart: the checkout's mark is still set (the revision and the delivery), the
/// close never happened, and the cart holds `quantity` mugs again.
async fn reopen(context: &TestContext, user_id: &str, quantity: i32) {
    sqlx::query(
        "UPDATE shop_carts SET pending_revision = revision, pending_delivery = $2, \
         checked_out_revision = NULL, checked_out_order = NULL WHERE user_id = $1::uuid",
    )
    .bind(user_id)
    .bind(delivery())
    .execute(&context.pool)
    .await
    .expect("the cart is reopened");
    sqlx::query("INSERT INTO shop_cart_lines (user_id, product_id, quantity, added_at) VALUES ($1::uuid, 'mug', $2, now())")
        .bind(user_id)
        .bind(quantity)
        .execute(&context.pool)
        .await
        .expect("its line is back");
}

#[tokio::test]
async fn concurrent_checkouts_and_changes_take_turns_and_buy_once() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (buyer, _) = signed_in(&app, 910_201, "Спешащий").await;
    let (_, cart) = put_with(
        &app,
        "/api/v1/cart/items/mug",
        &buyer,
        json!({"quantity": 1}),
    )
    .await;
    let checkout = json!({"revision": cart["revision"], "delivery": delivery()});
    // Five checkouts of the same revision and a change, all at once.
    let checkouts = futures_util::future::join_all(
        (0..5).map(|_| post_with(&app, "/api/v1/cart/checkout", &buyer, checkout.clone())),
    );
    let change = put_with(
        &app,
        "/api/v1/cart/items/tshirt",
        &buyer,
        json!({"quantity": 1}),
    );
    let (answers, (change_status, _)) = tokio::join!(checkouts, change);
    assert_eq!(change_status, StatusCode::OK);
    let orders: std::collections::HashSet<String> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .map(|(_, order)| order["order_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(orders.len() <= 1, "one order at most: {answers:?}");
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::CREATED
                || (*status == StatusCode::CONFLICT && error_code(body) == "cart_changed"),
            "a checkout either got the order or was told the cart changed: {status} {body}"
        );
    }
    let placed = orders_placed(&context).await;
    assert_eq!(placed as usize, orders.len(), "no order without an answer");
    let (_, cart) = get_with(&app, "/api/v1/cart", &buyer).await;
    let lines: Vec<&str> = cart["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["product_id"].as_str())
        .collect();
    if orders.is_empty() {
        assert_eq!(
            lines,
            ["mug", "tshirt"],
            "nothing bought, both lines kept: {cart}"
        );
    } else {
        assert!(
            !lines.contains(&"mug"),
            "the mug was bought and left the cart: {cart}"
        );
    }
    app.stop().await;
    context.cleanup().await;
}

/// How many orders the store holds.
async fn orders_placed(context: &TestContext) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_type = 'Order' AND event_type = 'OrderPlaced'",
    )
    .fetch_one(&context.pool)
    .await
    .expect("events can be counted")
}
