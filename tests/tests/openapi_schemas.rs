//! The schemas of the OpenAPI document against what the API really takes and serves,
//! black-box over HTTP: every kind of real order satisfies exactly one branch of the
//! order's body (and what the API refuses, none), and no composed schema has two
//! properties of one name (a served object would repeat the key).

use std::collections::BTreeSet;

use api::startup::Parts;
use serde_json::json;
use tests::TestContext;
use tests::api_client::settings;
use tests::app::spawn_app;
use tests::openapi::{document, property_names, resolved, satisfies};
use uuid::Uuid;

/// Only HTTP: none of these tests needs the relay or the projection workers.
const HTTP_ONLY: Parts = Parts {
    relay: false,
    workers: false,
};

#[tokio::test]
async fn every_kind_of_real_order_satisfies_exactly_one_branch_of_the_documented_body() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), HTTP_ONLY).await;
    let document = document(&app).await;
    let body = resolved(
        &document,
        &document["paths"]["/api/v1/orders"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"],
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
