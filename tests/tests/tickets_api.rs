//! `/api/v1/tickets` black-box over HTTP: a customer opens a ticket, support answers
//! and leaves an internal note the customer never sees, assigns, resolves; the
//! customer edits their message and rates; lists filter and count; refusals.

use api::startup::Parts;
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{error_code, get_with, post_with, settings, signed_in, signed_in_as};
use tests::app::{TestApp, spawn_app};

async fn patch_with(app: &TestApp, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .patch(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_ticket_is_answered_assigned_resolved_and_rated_through_the_api() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (customer, _) = signed_in(&app, 666_001, "Дарья").await;
    let (stranger, _) = signed_in(&app, 666_002, "Олег").await;
    let (agent, agent_id) = signed_in_as(&app, &context.pool, 666_003, "Глеб", Role::Support).await;

    let (status, opened) = post_with(
        &app,
        "/api/v1/tickets",
        &customer,
        json!({ "category": "payments", "title": "Не пришли кредиты", "description": "Оплатила пакет XL" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["ticket_id"].as_str().expect("id").to_owned();
    assert_eq!(
        (opened["status"].as_str(), opened["priority"].as_str()),
        (Some("open"), Some("NORMAL"))
    );
    let (status, _) = get_with(&app, &format!("/api/v1/tickets/{id}"), &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let path = |tail: &str| format!("/api/v1/tickets/{id}{tail}");
    let (status, _) = post_with(
        &app,
        &path("/messages"),
        &agent,
        json!({ "text": "проверить в ЮKassa", "internal": true }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, answered) = post_with(
        &app,
        &path("/messages"),
        &agent,
        json!({ "text": "Начислили, проверьте" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        answered["first_response_at"].is_string(),
        "the first visible answer counts: {answered}"
    );
    let (status, body) = post_with(
        &app,
        &path("/messages"),
        &customer,
        json!({ "text": "секрет", "internal": true }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let (status, with_reply) = post_with(
        &app,
        &path("/messages"),
        &customer,
        json!({ "text": "Вижу, спасиб" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let texts = |ticket: &Value| -> Vec<String> {
        ticket["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        texts(&with_reply),
        vec!["Оплатила пакет XL", "Начислили, проверьте", "Вижу, спасиб"],
        "no internal note for the customer"
    );
    let mine = with_reply["messages"][2]["message_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (status, edited) = patch_with(
        &app,
        &path(&format!("/messages/{mine}")),
        &customer,
        json!({ "text": "Вижу, спасибо!" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(texts(&edited)[2], "Вижу, спасибо!");
    let (status, body) = patch_with(
        &app,
        &path(&format!("/messages/{mine}")),
        &agent,
        json!({ "text": "подмена" }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, as_agent) = get_with(&app, &path(""), &agent).await;
    assert_eq!(texts(&as_agent).len(), 4, "staff see the internal note");

    let (status, body) = post_with(
        &app,
        &path("/assign"),
        &customer,
        json!({ "assignee_id": agent_id }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, assigned) = post_with(
        &app,
        &path("/assign"),
        &agent,
        json!({ "assignee_id": agent_id }),
    )
    .await;
    assert_eq!(
        (status, &assigned["assignee_id"]),
        (StatusCode::OK, &json!(agent_id))
    );
    let (status, body) = post_with(
        &app,
        &path("/priority"),
        &agent,
        json!({ "priority": "URGENT" }),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("priority"))
    );
    let (status, _) = post_with(
        &app,
        &path("/priority"),
        &agent,
        json!({ "priority": "HIGH" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, resolved) = post_with(
        &app,
        &path("/status"),
        &agent,
        json!({ "status": "resolved" }),
    )
    .await;
    assert_eq!(
        (status, resolved["status"].as_str()),
        (StatusCode::OK, Some("resolved"))
    );
    assert!(resolved["resolved_at"].is_string());
    let (status, rated) = post_with(&app, &path("/rating"), &customer, json!({ "stars": 5 })).await;
    assert_eq!(
        (status, &rated["rating"]),
        (StatusCode::OK, &json!(5)),
        "{rated}"
    );

    // Lists and counts.
    let (status, other) = post_with(
        &app,
        "/api/v1/tickets",
        &stranger,
        json!({ "category": "orders", "title": "Где исполнитель?", "description": "Жду три дня" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let (_, all) = get_with(&app, "/api/v1/tickets", &agent).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(2));
    let (_, own) = get_with(&app, "/api/v1/tickets", &customer).await;
    assert_eq!(own["items"].as_array().map(Vec::len), Some(1));
    let (_, found) = get_with(
        &app,
        "/api/v1/tickets?q=%D0%B8%D1%81%D0%BF%D0%BE%D0%BB%D0%BD%D0%B8%D1%82%D0%B5%D0%BB%D1%8C",
        &agent,
    )
    .await;
    assert_eq!(
        found["items"][0]["title"],
        json!("Где исполнитель?"),
        "{found}"
    );
    let (_, high) = get_with(
        &app,
        "/api/v1/tickets?priority=high&status=resolved",
        &agent,
    )
    .await;
    assert_eq!(high["items"].as_array().map(Vec::len), Some(1));
    let (status, counts) = get_with(&app, "/api/v1/tickets/counts", &agent).await;
    assert_eq!(
        (status, counts),
        (StatusCode::OK, json!({ "open": 1, "resolved": 1 }))
    );
    let (status, _) = get_with(&app, "/api/v1/tickets/counts", &customer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = post_with(
        &app,
        "/api/v1/tickets",
        &customer,
        json!({ "category": "orders", "title": "", "description": "x" }),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("title")),
        "{body}"
    );
    app.stop().await;
    context.cleanup().await;
}

async fn delete_with(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn admins_manage_ticket_categories_and_tickets_must_name_an_offered_one() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (customer, _) = signed_in(&app, 666_101, "Дарья").await;
    let (admin, _) =
        tests::api_client::signed_in_as(&app, &context.pool, 666_102, "Анна", Role::Admin).await;
    let categories = "/api/v1/tickets/categories";
    let payments = json!({ "code": "payments", "name": "Оплата", "icon": "💳", "colour": "#2E7D32", "position": 10 });

    // Before any category exists, any code is taken.
    let open = |category: &str| json!({ "category": category, "title": "Вопрос", "description": "Подробности" });
    let (status, _) = post_with(&app, "/api/v1/tickets", &customer, open("anything")).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, body) = post_with(&app, categories, &customer, payments.clone()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let (status, created) = post_with(&app, categories, &admin, payments.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (&created["code"], &created["active"], &created["icon"]),
        (&json!("payments"), &json!(true), &json!("💳"))
    );
    let (status, body) = post_with(&app, categories, &admin, payments).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "invalid_state"),
        "{body}"
    );
    for (bad, field) in [
        (
            json!({ "code": "Оплата", "name": "x", "colour": "#000000" }),
            "code",
        ),
        (
            json!({ "code": "orders", "name": "Заказы", "colour": "green" }),
            "colour",
        ),
        (
            json!({ "code": "orders", "name": "", "colour": "#000000" }),
            "name",
        ),
        (json!({ "code": "orders", "colour": "#000000" }), "name"),
    ] {
        let (status, body) = post_with(&app, categories, &admin, bad).await;
        assert_eq!(
            (status, &body["error"]["details"]["field"]),
            (StatusCode::UNPROCESSABLE_ENTITY, &json!(field)),
            "{body}"
        );
    }
    let (status, _) = post_with(
        &app,
        categories,
        &admin,
        json!({ "code": "orders", "name": "Заказы", "colour": "#1565C0", "position": 5, "active": false }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // Customers see the active ones; admins can ask for all, in position order.
    let (_, listed) = get_with(&app, categories, &customer).await;
    let codes = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["code"].as_str().expect("code").to_owned())
            .collect()
    };
    assert_eq!(codes(&listed), ["payments"]);
    let (status, _) = get_with(&app, &format!("{categories}?all=true"), &customer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, all) = get_with(&app, &format!("{categories}?all=true"), &admin).await;
    assert_eq!(codes(&all), ["orders", "payments"]);

    // A ticket must now name an active category.
    let (status, body) = post_with(&app, "/api/v1/tickets", &customer, open("anything")).await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("category"))
    );
    let (status, _) = post_with(&app, "/api/v1/tickets", &customer, open("orders")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post_with(&app, "/api/v1/tickets", &customer, open("payments")).await;
    assert_eq!(status, StatusCode::CREATED);

    // Changes keep what they do not name; null clears the icon.
    let (status, changed) = patch_with(
        &app,
        &format!("{categories}/orders"),
        &admin,
        json!({ "active": true, "icon": null }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (
            &changed["active"],
            &changed["icon"],
            &changed["name"],
            &changed["position"]
        ),
        (&json!(true), &Value::Null, &json!("Заказы"), &json!(5))
    );
    let (status, body) = patch_with(
        &app,
        &format!("{categories}/orders"),
        &admin,
        json!({ "colour": "blue" }),
    )
    .await;
    assert_eq!(
        (status, &body["error"]["details"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("colour"))
    );
    let (status, _) = patch_with(
        &app,
        &format!("{categories}/nothing"),
        &admin,
        json!({ "active": true }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = delete_with(&app, &format!("{categories}/orders"), &customer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = delete_with(&app, &format!("{categories}/orders"), &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = delete_with(&app, &format!("{categories}/orders"), &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = get_with(&app, categories, &customer).await;
    assert_eq!(codes(&listed), ["payments"]);
}

#[tokio::test]
async fn the_desk_deletes_a_message_which_stays_in_the_thread_without_its_text() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (customer, _) = signed_in(&app, 666_201, "Дарья").await;
    let (agent, _) = signed_in_as(&app, &context.pool, 666_202, "Глеб", Role::Support).await;
    let (_, opened) = post_with(
        &app,
        "/api/v1/tickets",
        &customer,
        json!({ "category": "orders", "title": "Заказ", "description": "Где заказ?" }),
    )
    .await;
    let id = opened["ticket_id"].as_str().expect("id").to_owned();
    let (status, posted) = post_with(
        &app,
        &format!("/api/v1/tickets/{id}/messages"),
        &customer,
        json!({ "text": "мой паспорт 4510 123456" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let message = posted["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["text"] == "мой паспорт 4510 123456")
        .expect("the message")["message_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let path = format!("/api/v1/tickets/{id}/messages/{message}");

    let (status, body) = delete_with(&app, &path, &customer).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{body}"
    );
    let (status, after) = delete_with(&app, &path, &agent).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    let (_, seen) = get_with(&app, &format!("/api/v1/tickets/{id}"), &customer).await;
    let shown = seen["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["message_id"] == message.as_str())
        .expect("still in the thread")
        .clone();
    assert_eq!(shown["text"], "");
    assert!(shown["deleted_at"].is_string(), "{shown}");
    // Again: nothing changes. Unknown message: 404. The author cannot edit it now.
    let (status, _) = delete_with(&app, &path, &agent).await;
    assert_eq!(status, StatusCode::OK);
    let unknown = format!("/api/v1/tickets/{id}/messages/{}", uuid::Uuid::now_v7());
    let (status, _) = delete_with(&app, &unknown, &agent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = patch_with(&app, &path, &customer, json!({ "text": "исправлено" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_thread_names_its_message_count_and_its_messages_once() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (customer, _) = signed_in(&app, 666_101, "Дарья").await;
    let (status, opened) = post_with(
        &app,
        "/api/v1/tickets",
        &customer,
        json!({ "category": "payments", "title": "Не пришли кредиты", "description": "Оплатила пакет XL" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["ticket_id"].as_str().expect("id").to_owned();
    let (status, _) = post_with(
        &app,
        &format!("/api/v1/tickets/{id}/messages"),
        &customer,
        json!({ "text": "Жду ответа" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // The JSON as served: a repeated key would be lost by any parser.
    let text = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/tickets/{id}")))
        .bearer_auth(&customer)
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("a body");
    assert_eq!(text.matches("\"messages\":").count(), 1, "{text}");
    let mut thread: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(thread["message_count"], json!(2), "{thread}");
    for key in ["ticket_id", "customer_id", "opened_at", "updated_at"] {
        thread[key] = json!(format!("<{key}>"));
    }
    for message in thread["messages"].as_array_mut().expect("messages") {
        for key in ["message_id", "author_id", "posted_at"] {
            message[key] = json!(format!("<{key}>"));
        }
    }
    insta::assert_json_snapshot!("ticket_thread", thread);

    app.stop().await;
    context.cleanup().await;
}
