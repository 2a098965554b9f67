//! The schemas of the OpenAPI document against what the API really takes and serves,
//! black-box over HTTP: every kind of real order satisfies exactly one branch of the
//! order's body (and what the API refuses, none), no composed schema has two
//! properties of one name (a served object would repeat the key), and the refusals
//! the API gives are declared by their operations. (scripts/schemathesis.sh checks
//! the whole document against the running API.)

use std::collections::BTreeSet;

use api::startup::Parts;
use domain::permissions::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{post_with, settings, signed_in, signed_in_as};
use tests::app::spawn_app;
use tests::openapi::{document, property_names, resolved, satisfies};
use uuid::Uuid;

/// Only HTTP: none of these tests needs the relay or the projection workers.
const HTTP_ONLY: Parts = Parts {
    relay: false,
    workers: false,
    bot: false,
};

#[tokio::test]
async fn every_kind_of_real_order_satisfies_exactly_one_branch_of_the_documented_body() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), HTTP_ONLY).await;
    let document = document(&app).await;
    let body = resolved(
        &document,
        &document["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"],
    )
    .clone();

    let coursework = json!({
        "subject": "Матанализ",
        "work_type": "курсовая",
        "volume": 25,
        "deadline": "2030-01-01T10:00:00Z",
        "files": ["brief.pdf"],
    });
    let mut named = coursework.clone();
    named["kind"] = "coursework".into();
    let booking = json!({
        "kind": "booking",
        "service_id": "haircut",
        "master_id": Uuid::now_v7(),
        "start": "2030-01-01T10:00:00Z",
    });
    let shop = json!({
        "kind": "shop",
        "items": [{ "product_id": "mug", "quantity": 2 }],
        "delivery": { "recipient": "Аня", "phone": "+79990000000", "address": "Москва" },
    });
    for order in [&coursework, &named, &booking, &shop] {
        assert!(
            satisfies(&document, &body, order),
            "{order} satisfies exactly one branch of {body}"
        );
    }
    // And the document still refuses what the API refuses.
    let mut wrong_kind = booking.clone();
    wrong_kind["kind"] = "shop".into();
    let mut stray = shop.clone();
    stray["subject"] = "x".into();
    for order in [&wrong_kind, &stray, &json!({ "kind": "booking" })] {
        assert!(!satisfies(&document, &body, order), "{order} is refused");
    }

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn no_composed_schema_has_two_properties_of_one_name() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), HTTP_ONLY).await;
    let document = document(&app).await;

    let schemas = document["components"]["schemas"]
        .as_object()
        .expect("schemas");
    let composed: Vec<&String> = schemas
        .iter()
        .filter(|(_, schema)| schema["allOf"].is_array())
        .map(|(name, _)| name)
        .collect();
    assert!(
        composed.iter().any(|name| *name == "TicketWithMessages"),
        "{composed:?}"
    );
    for name in composed {
        let mut seen = BTreeSet::new();
        for part in schemas[name]["allOf"].as_array().expect("parts") {
            for property in property_names(&document, part) {
                assert!(
                    seen.insert(property.clone()),
                    "{name} has {property} twice: a served object would repeat the key"
                );
            }
        }
    }

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn the_refusals_the_api_gives_are_the_ones_the_document_declares() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let document = document(&app).await;
    let (owner, _) = signed_in_as(&app, &context.pool, 882_001, "Ева", Role::Owner).await;
    let (client, client_id) = signed_in(&app, 882_002, "Фёдор").await;
    let (status, ticket) = post_with(
        &app,
        "/api/v1/tickets",
        &client,
        json!({ "category": "payments", "title": "Вопрос", "description": "Текст" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let ticket_id = ticket["ticket_id"].as_str().expect("an id");
    let opening = ticket["messages"][0]["message_id"].as_str().expect("an id");

    let client_http = reqwest::Client::new();
    let cases = [
        // Unblocking someone who is not blocked.
        (
            Method::POST,
            format!("/api/v1/users/{client_id}/unblock"),
            "/api/v1/users/{id}/unblock",
            &owner,
            None,
            StatusCode::CONFLICT,
        ),
        // A query parameter of the wrong form.
        (
            Method::GET,
            "/api/v1/tickets/categories?all=maybe".to_owned(),
            "/api/v1/tickets/categories",
            &owner,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // The thread's opening message is there, and stays as written.
        (
            Method::PATCH,
            format!("/api/v1/tickets/{ticket_id}/messages/{opening}"),
            "/api/v1/tickets/{id}/messages/{message_id}",
            &client,
            Some(json!({ "text": "другой" })),
            StatusCode::CONFLICT,
        ),
        // More credits than an int64 holds is not a number the document allows.
        (
            Method::POST,
            "/api/v1/credits/spend".to_owned(),
            "/api/v1/credits/spend",
            &client,
            Some(
                json!({ "amount": 9_223_372_036_854_775_808_u64, "reason": "r", "operation_id": "o" }),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // A notification whose object is not an object.
        (
            Method::POST,
            "/api/v1/payments/yookassa/webhook".to_owned(),
            "/api/v1/payments/yookassa/webhook",
            &client,
            Some(json!({ "type": "notification", "event": "payment.succeeded", "object": [] })),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (method, path, template, token, body, expected) in cases {
        let mut request = client_http
            .request(method.clone(), app.url(&path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the API answers");
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, expected, "{method} {path}: {answer}");
        let responses = &document["paths"][template][method.as_str().to_lowercase()]["responses"];
        assert!(
            responses.get(status.as_str()).is_some(),
            "{method} {template} declares its {status}: {responses}"
        );
    }

    app.stop().await;
    context.cleanup().await;
}
