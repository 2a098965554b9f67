//! `/api/v1/orders` black-box over HTTP: a coursework order from placing to review,
//! each step by the person allowed to take it, the refusals (403, 404, 409, 422), the
//! lists by scope with paging, and internal notes kept from the customer.

use api::startup::Parts;
use chrono::{Duration, Utc};
use domain::command::{CommandContext, Commands};
use domain::money::Money;
use domain::order::OrderCommand;
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{error_code, get_with, post_with, settings, signed_in, signed_in_as};
use tests::app::spawn_app;
use uuid::Uuid;

fn brief(subject: &str) -> Value {
    json!({
        "subject": subject,
        "work_type": "курсовая",
        "volume": 25,
        "deadline": (Utc::now() + Duration::days(14)).to_rfc3339(),
        "files": ["brief.pdf"],
    })
}

fn shown(order: &Value) -> Value {
    let mut order = order.clone();
    for key in [
        "order_id",
        "customer_id",
        "executor_id",
        "placed_at",
        "updated_at",
        "deadline",
    ] {
        if !order[key].is_null() {
            order[key] = json!(format!("<{key}>"));
        }
    }
    order["details"]["deadline"] = json!("<deadline>");
    if let Some(lines) = order["timeline"].as_array_mut() {
        for line in lines {
            line["at"] = json!("<at>");
            if !line["actor_id"].is_null() {
                line["actor_id"] = json!("<actor>");
            }
            if let Some(summary) = line["summary"].as_str()
                && summary.contains("executor ")
            {
                line["summary"] = json!(
                    summary
                        .split("executor ")
                        .next()
                        .map(|head| format!("{head}executor <id>"))
                );
            }
        }
    }
    order
}

#[tokio::test]
async fn a_coursework_order_goes_from_placing_to_review_through_the_api() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let commands = Commands::over(context.pool.clone());
    let (client, _) = signed_in(&app, 999_001, "Дарья").await;
    let (stranger, _) = signed_in(&app, 999_002, "Олег").await;
    let (admin, _) = signed_in_as(&app, &context.pool, 999_003, "Анна", Role::Admin).await;
    let (executor, _) = signed_in_as(&app, &context.pool, 999_004, "Борис", Role::Executor).await;

    let (status, placed) = post_with(&app, "/api/v1/orders", &client, brief("Теория графов")).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    insta::assert_json_snapshot!("order_placed", shown(&placed));
    let id = placed["order_id"].as_str().expect("an id").to_owned();
    let path = |action: &str| format!("/api/v1/orders/{id}/{action}");

    let (status, _) = get_with(&app, &format!("/api/v1/orders/{id}"), &stranger).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "others' orders are not shown"
    );
    let (status, _) = post_with(
        &app,
        &format!("/api/v1/orders/{id}/accept-quote"),
        &stranger,
        json!({}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "nor acted on, nor their state told"
    );
    let (status, body) =
        post_with(&app, &path("quote"), &client, json!({ "price": "3000.00" })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{body}"
    );
    let (status, body) = post_with(&app, &path("quote"), &admin, json!({ "price": 3000 })).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "amounts are strings: {body}"
    );
    assert_eq!(body["error"]["details"]["field"], json!("price"));
    let step = |token: &str, action: &'static str, body: Value| {
        let app = &app;
        let path = path(action);
        let token = token.to_owned();
        async move {
            let (status, order) = post_with(app, &path, &token, body).await;
            assert_eq!(status, StatusCode::OK, "{action}: {order}");
            order["status"].as_str().unwrap_or_default().to_owned()
        }
    };
    assert_eq!(
        step(&admin, "quote", json!({ "price": "3000.00" })).await,
        "quoted"
    );
    assert_eq!(
        step(&client, "accept-quote", json!({})).await,
        "awaiting_payment"
    );
    let (status, body) = post_with(&app, &path("accept-quote"), &client, json!({})).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "invalid_state"),
        "{body}"
    );

    // Paid (the payments flow is its own issue; its reaction issues this command).
    commands
        .orders
        .execute(
            &id,
            OrderCommand::MarkPaid {
                payment_id: Uuid::now_v7(),
                amount: "3000.00".parse::<Money>().expect("money"),
            },
            &CommandContext::system("test"),
        )
        .await
        .expect("paid");
    let in_pool = |pool: &Value| {
        pool["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|order| order["order_id"] == json!(id)))
    };
    assert!(
        tests::eventually(std::time::Duration::from_secs(10), || async {
            in_pool(
                &get_with(&app, "/api/v1/orders?scope=pool", &executor)
                    .await
                    .1,
            )
        })
        .await,
        "the paid order waits in the pool"
    );
    let (status, _) = get_with(&app, "/api/v1/orders?scope=pool", &client).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    assert_eq!(step(&executor, "take", Value::Null).await, "assigned");
    assert_eq!(
        step(&admin, "notes", json!({ "text": "постоянный клиент" })).await,
        "assigned"
    );
    assert_eq!(step(&executor, "start", json!({})).await, "in_progress");
    assert_eq!(
        step(&executor, "submit", json!({ "files": ["draft.docx"] })).await,
        "submitted"
    );
    assert_eq!(
        step(
            &client,
            "request-revision",
            json!({ "reason": "нет выводов" })
        )
        .await,
        "revision_requested"
    );
    assert_eq!(step(&executor, "start", json!({})).await, "in_progress");
    assert_eq!(
        step(
            &executor,
            "submit",
            json!({ "files": ["final.docx"], "note": "готово" })
        )
        .await,
        "submitted"
    );
    assert_eq!(step(&client, "accept", json!({})).await, "accepted");
    assert_eq!(step(&admin, "complete", json!({})).await, "completed");
    assert_eq!(
        step(&client, "review", json!({ "stars": 5, "text": "спасибо" })).await,
        "completed"
    );

    let (_, seen_by_client) = get_with(&app, &format!("/api/v1/orders/{id}"), &client).await;
    insta::assert_json_snapshot!(
        "order_completed_as_the_customer_sees_it",
        shown(&seen_by_client)
    );
    let (_, seen_by_admin) = get_with(&app, &format!("/api/v1/orders/{id}"), &admin).await;
    let internal = |order: &Value| {
        order["timeline"].as_array().map(|lines| {
            lines
                .iter()
                .filter(|line| line["internal"] == json!(true))
                .count()
        })
    };
    assert_eq!(
        (internal(&seen_by_client), internal(&seen_by_admin)),
        (Some(0), Some(1))
    );

    let (status, body) = post_with(&app, &path("launch"), &client, json!({})).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, body) = get_with(&app, "/api/v1/orders/not-an-id", &client).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found"),
        "{body}"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn bad_orders_are_refused_naming_the_field_and_lists_page() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (client, _) = signed_in(&app, 999_101, "Егор").await;
    let (admin, _) = signed_in_as(&app, &context.pool, 999_102, "Анна", Role::Admin).await;

    let mut bad = brief("Матанализ");
    bad["volume"] = json!(0);
    let (status, body) = post_with(&app, "/api/v1/orders", &client, bad).await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("volume")),
        "{body}"
    );
    let mut bad = brief("Матанализ");
    bad.as_object_mut().expect("object").remove("subject");
    let (status, body) = post_with(&app, "/api/v1/orders", &client, bad).await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("subject"))
    );
    let mut bad = brief("Матанализ");
    bad["deadline"] = json!((Utc::now() - Duration::days(1)).to_rfc3339());
    let (status, body) = post_with(&app, "/api/v1/orders", &client, bad).await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("deadline"))
    );
    let mut bad = brief("");
    bad["subject"] = json!("");
    let (status, body) = post_with(&app, "/api/v1/orders", &client, bad).await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("subject")),
        "{body}"
    );

    for subject in ["Первая", "Вторая", "Третья"] {
        let (status, _) = post_with(&app, "/api/v1/orders", &client, brief(subject)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            None => "/api/v1/orders?limit=2".to_owned(),
            Some(cursor) => format!("/api/v1/orders?limit=2&before={}", urlencode(cursor)),
        };
        let (status, page) = get_with(&app, &query, &client).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for order in page["items"].as_array().expect("items") {
            seen.push(
                order["details"]["subject"]
                    .as_str()
                    .expect("subject")
                    .to_owned(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        vec!["Третья", "Вторая", "Первая"],
        "newest first, each once"
    );
    let (status, _) = get_with(&app, "/api/v1/orders?scope=all", &client).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, all) = get_with(&app, "/api/v1/orders?scope=all&status=placed", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["items"].as_array().map(Vec::len), Some(3));
    let (status, body) = get_with(&app, "/api/v1/orders?scope=everything", &client).await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("scope"))
    );
    app.stop().await;
    context.cleanup().await;
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B")
        .replace(':', "%3A")
        .replace('|', "%7C")
}

#[tokio::test]
async fn bookings_and_shop_orders_are_priced_from_the_shopfront_not_the_client() {
    use chrono::TimeZone;
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (client, client_id) = signed_in(&app, 424_201, "Вика").await;
    let (other, _) = signed_in(&app, 424_202, "Оля").await;
    let (_, master) =
        tests::api_client::signed_in_as(&app, &context.pool, 424_203, "Вера", Role::Executor).await;

    let (status, services) = get_with(&app, "/api/v1/bookings/services", &client).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        services["items"][0],
        json!({"id": "haircut", "name": "Стрижка", "duration_minutes": 60, "price": "1500.00"})
    );
    let (_, products) = get_with(&app, "/api/v1/shop/products", &client).await;
    assert_eq!(products["items"][0]["id"], "mug");

    // 12:00 in the salon (+03:00) a week ahead.
    let day = (Utc::now() + Duration::days(7)).date_naive();
    let at = |hour, minute| {
        Utc.from_utc_datetime(&day.and_hms_opt(hour, minute, 0).expect("a time"))
            .to_rfc3339()
    };
    let booking = |start: String, master: &str| json!({"kind": "booking", "service_id": "haircut", "master_id": master, "start": start});
    let (status, booked) =
        post_with(&app, "/api/v1/orders", &client, booking(at(9, 0), &master)).await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert_eq!(
        (
            &booked["kind"],
            &booked["status"],
            &booked["details"]["price"],
            &booked["details"]["slot"]["end"]
        ),
        (
            &json!("booking"),
            &json!("booked"),
            &json!("1500.00"),
            &json!(at(10, 0).replace("+00:00", "Z"))
        ),
        "{booked}"
    );
    let path =
        format!("/api/v1/bookings/free-slots?master_id={master}&date={day}&service_id=haircut");
    let (status, free) = get_with(&app, &path, &client).await;
    assert_eq!(status, StatusCode::OK, "{free}");
    let starts: Vec<&str> = free["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .filter_map(|s| s["start"].as_str())
        .collect();
    assert!(
        !starts
            .iter()
            .any(|start| start.starts_with(&format!("{day}T09:00"))),
        "{starts:?}"
    );
    assert!(
        starts
            .iter()
            .any(|start| start.starts_with(&format!("{day}T10:00"))),
        "{starts:?}"
    );

    let (status, body) =
        post_with(&app, "/api/v1/orders", &other, booking(at(9, 30), &master)).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "invalid_state"),
        "{body}"
    );
    for (body, field) in [
        (booking(at(12, 0), &client_id), "master_id"),
        (booking(at(16, 30), &master), "start"),
        (
            booking((Utc::now() - Duration::hours(1)).to_rfc3339(), &master),
            "start",
        ),
        (
            json!({"kind": "booking", "service_id": "massage", "master_id": master, "start": at(12, 0)}),
            "service_id",
        ),
        (
            json!({"kind": "booking", "service_id": "haircut", "master_id": master, "start": at(12, 0), "price": "1.00"}),
            "price",
        ),
        (json!({"kind": "rocket"}), "kind"),
    ] {
        let (status, answer) = post_with(&app, "/api/v1/orders", &client, body.clone()).await;
        assert_eq!(
            (status, &answer["error"]["details"]["field"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!(field)),
            "{body} → {answer}"
        );
    }

    let delivery =
        json!({"recipient": "Вика", "phone": "+79990000000", "address": "Москва, Тверская 1"});
    let (status, shop) = post_with(
        &app,
        "/api/v1/orders",
        &client,
        json!({"kind": "shop", "items": [{"product_id": "mug", "quantity": 2}, {"product_id": "tshirt", "quantity": 1}], "delivery": delivery}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{shop}");
    assert_eq!(shop["details"]["total"], "2270.00", "490.00 × 2 + 1290.00");
    assert_eq!(shop["details"]["lines"][0]["unit_price"], "490.00");
    for (items, field) in [
        (
            json!([{"product_id": "yacht", "quantity": 1}]),
            "items[0].product_id",
        ),
        (
            json!([{"product_id": "mug", "quantity": 1}, {"product_id": "mug", "quantity": 0}]),
            "items[1].quantity",
        ),
        (json!([]), "items"),
    ] {
        let (status, answer) = post_with(
            &app,
            "/api/v1/orders",
            &client,
            json!({"kind": "shop", "items": items, "delivery": delivery}),
        )
        .await;
        assert_eq!(
            (status, &answer["error"]["details"]["field"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!(field)),
            "{answer}"
        );
    }
}
