//! What the Mini App reads that other clients did not need: the salon's masters,
//! analytics per day, the caller's permissions, and the steps an order offers
//! (shipping to staff, confirming delivery to its customer).

use api::startup::Parts;
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::json;
use tests::TestContext;
use tests::api_client::{get_with, post_with, settings, signed_in, signed_in_as};
use tests::app::spawn_app;
use tests::paying::{live_app, paid_shop_order};

#[tokio::test]
async fn masters_permissions_and_analytics_per_day() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (client, _) = signed_in(&app, 930_001, "Клиент").await;
    let (_, master) = signed_in_as(&app, &context.pool, 930_002, "Оля", Role::Executor).await;
    let (admin, _) = signed_in_as(&app, &context.pool, 930_003, "Админ", Role::Admin).await;
    signed_in_as(&app, &context.pool, 930_004, "Саша", Role::Support).await;

    let (status, masters) = get_with(&app, "/api/v1/bookings/masters", &client).await;
    assert_eq!(status, StatusCode::OK, "{masters}");
    assert_eq!(
        masters,
        json!([{"master_id": master, "first_name": "Оля"}]),
        "executors only, id and first name"
    );

    let (_, me) = get_with(&app, "/api/v1/auth/me", &client).await;
    let client_may = me["permissions"].as_array().cloned().unwrap_or_default();
    assert!(
        client_may.contains(&json!("place_order")) && !client_may.contains(&json!("view_users")),
        "{me}"
    );
    let (_, me) = get_with(&app, "/api/v1/auth/me", &admin).await;
    let admin_may = me["permissions"].as_array().cloned().unwrap_or_default();
    assert!(
        admin_may.contains(&json!("view_users")) && admin_may.contains(&json!("view_reports")),
        "{me}"
    );
    assert!(
        !admin_may.contains(&json!("view_tax_ledger")),
        "the tax ledger is the owner's: {me}"
    );

    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(2);
    let (status, summary) = get_with(
        &app,
        &format!("/api/v1/reports/analytics?from={from}&to={today}"),
        &admin,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    let days = summary["days"].as_array().expect("days");
    assert_eq!(days.len(), 3, "every day of the range: {summary}");
    assert_eq!(days[0]["day"], from.to_string(), "oldest first");
    assert_eq!(
        days[0]["revenue"], "0.00",
        "a quiet day has zeros: {summary}"
    );
    assert_eq!(
        summary["revenue"], "0.00",
        "roubles with two places: {summary}"
    );
    assert_eq!(days[2]["day"], today.to_string());
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_paid_shop_order_offers_shipping_to_staff_and_confirming_to_its_customer() {
    let context = TestContext::new().await;
    let (app, fake) = live_app(&context, "127.0.0.1/32,::1").await;
    let (buyer, _) = signed_in(&app, 931_001, "Покупатель").await;
    let (admin, _) = signed_in_as(&app, &context.pool, 931_002, "Склад", Role::Admin).await;
    let order = paid_shop_order(&app, &fake, &buyer, "ship-offer").await;
    let path = format!("/api/v1/orders/{}", order.order_id);
    let (_, seen) = get_with(&app, &path, &admin).await;
    assert!(
        seen["actions"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("ship"))),
        "{seen}"
    );
    let (_, seen) = get_with(&app, &path, &buyer).await;
    assert!(
        !seen["actions"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("ship"))),
        "{seen}"
    );
    let (status, shipped) = post_with(
        &app,
        &format!("{path}/ship"),
        &admin,
        json!({"tracking": "RA1RU"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{shipped}");
    let (_, seen) = get_with(&app, &path, &buyer).await;
    assert!(
        seen["actions"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("confirm-delivery"))),
        "{seen}"
    );
    app.stop().await;
    context.cleanup().await;
}
