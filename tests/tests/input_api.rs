//! Bad input never reaches the store, black-box over HTTP: a NUL character (U+0000),
//! which Postgres can keep in neither `text` nor `jsonb`, is refused at every entry
//! point (JSON bodies, query strings, path segments, YooKassa's notifications) with
//! 422 in the API's error shape, `details.field` naming where it was; and bodies are
//! JSON objects, never arrays read as positional fields.

use api::startup::Parts;
use chrono::{Duration, Utc};
use domain::permissions::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{error_code, post_with, settings, signed_in, signed_in_as};
use tests::app::{TestApp, spawn_app};

/// `method path` with `token` (if any) and a JSON `body` (if any): (status, body).
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Asserts a 422 with `code`, naming `field`.
fn refused_as(code: &str, answer: (StatusCode, Value), field: &str, what: &str) {
    let (status, body) = answer;
    assert_eq!(
        (
            status,
            error_code(&body),
            &body["error"]["details"]["field"]
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, code, &json!(field)),
        "{what}: {body}"
    );
}

/// Asserts a 422 `invalid_input` naming `field`.
fn refused(answer: (StatusCode, Value), field: &str, what: &str) {
    refused_as("invalid_input", answer, field, what);
}

/// Asserts a 422 `nul_character` (the code the command service gives it too)
/// naming `field`.
fn nul_refused(answer: (StatusCode, Value), field: &str, what: &str) {
    refused_as("nul_character", answer, field, what);
}

fn brief(subject: &str) -> Value {
    json!({
        "subject": subject,
        "work_type": "курсовая",
        "volume": 25,
        "deadline": (Utc::now() + Duration::days(14)).to_rfc3339(),
    })
}

/// How many events the store holds.
async fn events(context: &TestContext) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&context.pool)
        .await
        .expect("counts")
}

#[tokio::test]
async fn a_nul_character_is_refused_at_every_entry_point_naming_the_field() {
    let context = TestContext::new().await;
    let mut settings = settings(&context);
    // Notifications from anywhere: this test's address is not YooKassa's.
    settings.payments.notification_ips = None;
    let app = spawn_app(settings, Parts::ALL).await;
    let (client, _) = signed_in(&app, 881_001, "Нина").await;
    let (admin, _) = signed_in_as(&app, &context.pool, 881_002, "Ада", Role::Admin).await;
    let (status, order) = post_with(&app, "/api/v1/orders", &client, brief("Матанализ")).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let order_id = order["order_id"].as_str().expect("an id").to_owned();
    let before = events(&context).await;
    let nul = "a\u{0}b";

    // JSON bodies: the field's path, however deep.
    let bodies = [
        (
            Method::POST,
            "/api/v1/credits/spend".to_owned(),
            json!({ "amount": 1, "reason": "генерация", "operation_id": nul }),
            "operation_id",
        ),
        (
            Method::POST,
            format!("/api/v1/orders/{order_id}/cancel"),
            json!({ "reason": nul }),
            "reason",
        ),
        (
            Method::POST,
            "/api/v1/tickets".to_owned(),
            json!({ "category": "order", "title": nul, "description": "текст" }),
            "title",
        ),
        (
            Method::PATCH,
            "/api/v1/auth/me".to_owned(),
            json!({ "first_name": nul }),
            "first_name",
        ),
        (
            Method::POST,
            "/api/v1/orders".to_owned(),
            brief(nul),
            "subject",
        ),
        (
            Method::POST,
            "/api/v1/orders".to_owned(),
            json!({
                "kind": "shop",
                "items": [{ "product_id": "mug", "quantity": 1 }, { "product_id": nul, "quantity": 1 }],
                "delivery": { "recipient": "Нина", "phone": "+79990000000", "address": "Москва" },
            }),
            "items[1].product_id",
        ),
    ];
    for (method, path, body, field) in bodies {
        let what = format!("{method} {path}");
        nul_refused(
            send(&app, method, &path, Some(&client), Some(body)).await,
            field,
            &what,
        );
    }

    // Query strings and path segments: the parameter.
    for (path, token, field) in [
        ("/api/v1/orders?kind=%00", &client, "kind"),
        ("/api/v1/tickets?q=a%00", &client, "q"),
        ("/api/v1/users?q=%00", &admin, "q"),
        ("/api/v1/orders?scope=all&before=%00", &admin, "before"),
    ] {
        nul_refused(
            send(&app, Method::GET, path, Some(token), None).await,
            field,
            path,
        );
    }
    nul_refused(
        send(
            &app,
            Method::PATCH,
            "/api/v1/tickets/categories/a%00b",
            Some(&admin),
            Some(json!({ "title": "Оплата" })),
        )
        .await,
        "code",
        "a category's code",
    );
    nul_refused(
        send(
            &app,
            Method::DELETE,
            "/api/v1/tickets/categories/a%00b",
            Some(&admin),
            None,
        )
        .await,
        "code",
        "a category's code",
    );

    // YooKassa's notifications: the object's id.
    nul_refused(
        send(
            &app,
            Method::POST,
            "/api/v1/payments/yookassa/webhook",
            None,
            Some(json!({
                "type": "notification",
                "event": "payment.succeeded",
                "object": { "id": nul },
            })),
        )
        .await,
        "object.id",
        "a notification",
    );

    assert_eq!(events(&context).await, before, "nothing was written");
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn bodies_are_json_objects_never_arrays_read_as_positional_fields() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (client, _) = signed_in(&app, 881_011, "Ольга").await;
    let (status, me) = send(&app, Method::GET, "/api/v1/auth/me", Some(&client), None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["last_name"], json!("Тестова"));

    // `[null, null]` would be (first_name: keep, last_name: clear).
    refused(
        send(
            &app,
            Method::PATCH,
            "/api/v1/auth/me",
            Some(&client),
            Some(json!([null, null])),
        )
        .await,
        "body",
        "an array for a profile change",
    );
    for body in [json!(["x", "y", "z"]), json!("text"), json!(42)] {
        refused(
            send(
                &app,
                Method::POST,
                "/api/v1/credits/spend",
                Some(&client),
                Some(body.clone()),
            )
            .await,
            "body",
            &format!("{body} for a spend"),
        );
    }
    let (status, me) = send(&app, Method::GET, "/api/v1/auth/me", Some(&client), None).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["last_name"], json!("Тестова"), "nothing was cleared");

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_language_is_measured_in_characters_as_the_document_says() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (client, _) = signed_in(&app, 881_021, "Юля").await;
    let change = |language: &str| {
        send(
            &app,
            Method::PATCH,
            "/api/v1/auth/me",
            Some(&client),
            Some(json!({ "language": language })),
        )
    };
    // 2 to 10 characters, whatever their bytes: "русский" is 7 characters, 14 bytes.
    let (status, me) = change("русский").await;
    assert_eq!(
        (status, &me["language"]),
        (StatusCode::OK, &json!("русский")),
        "{me}"
    );
    // One character of two bytes is still one character.
    refused(change("я").await, "language", "one character");
    refused(change("абвгдеёжзий").await, "language", "eleven characters");

    app.stop().await;
    context.cleanup().await;
}
