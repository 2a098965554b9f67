//! Files of a coursework order over HTTP: the brief's materials and the result's
//! files are uploaded for coursework and attached by id; whoever may see the order
//! (its customer, the executors the pool offers it to, its executor, the desk) lists
//! and reads them, a stranger is told there is no such order or file; a file goes to
//! one order only, for its own purpose, and a refused step leaves it free again.

use api::startup::Parts;
use chrono::{Duration, Utc};
use domain::command::{CommandContext, Commands};
use domain::money::Money;
use domain::order::OrderCommand;
use domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::TestContext;
use tests::api_client::{
    error_code, get_with, post_with, settings, signed_in, signed_in_as, upload_file,
};
use tests::app::{TestApp, spawn_app};
use uuid::Uuid;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

fn brief(attachments: &[&str]) -> Value {
    json!({
        "subject": "Теория вероятностей",
        "work_type": "курсовая",
        "volume": 20,
        "deadline": (Utc::now() + Duration::days(10)).to_rfc3339(),
        "attachments": attachments,
    })
}

async fn uploaded(app: &TestApp, token: &str, purpose: &str, name: &str) -> String {
    let (status, file) = upload_file(app, token, purpose, name, PDF).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    file["file_id"].as_str().expect("an id").to_owned()
}

/// The ids `token` is shown as the order's files, or the status when refused.
async fn listed(app: &TestApp, token: &str, order_id: &str) -> Result<Vec<String>, StatusCode> {
    let (status, body) = get_with(app, &format!("/api/v1/orders/{order_id}/files"), token).await;
    if status != StatusCode::OK {
        return Err(status);
    }
    Ok(body["files"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|file| file["file_id"].as_str().expect("an id").to_owned())
        .collect())
}

async fn fetched(app: &TestApp, token: &str, file_id: &str) -> StatusCode {
    reqwest::Client::new()
        .get(app.url(&format!("/api/v1/files/{file_id}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("the API answers")
        .status()
}

#[tokio::test]
async fn a_briefs_materials_and_its_result_are_read_by_the_orders_people_alone() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (customer, _) = signed_in(&app, 997_001, "Вера").await;
    let (stranger, _) = signed_in(&app, 997_002, "Глеб").await;
    let (admin, _) = signed_in_as(&app, &context.pool, 997_003, "Инна", Role::Admin).await;
    let (executor, _) = signed_in_as(&app, &context.pool, 997_004, "Юра", Role::Executor).await;

    // Only the customer's own coursework uploads can be a brief's materials.
    let material = uploaded(&app, &customer, "coursework", "задание.pdf").await;
    let for_a_ticket = uploaded(&app, &customer, "ticket", "скан.pdf").await;
    let strangers = uploaded(&app, &stranger, "coursework", "чужое.pdf").await;
    for (file, why) in [
        (&for_a_ticket, "uploaded for tickets"),
        (&strangers, "someone else's"),
    ] {
        let (status, body) = post_with(&app, "/api/v1/orders", &customer, brief(&[file])).await;
        assert_eq!(
            (status, body["error"]["details"]["field"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("attachments[0]")),
            "{why}: {body}"
        );
    }
    // A brief the Order refuses leaves its files free for the next try.
    let mut too_long = brief(&[&material]);
    too_long["subject"] = json!("т".repeat(300));
    let (status, body) = post_with(&app, "/api/v1/orders", &customer, too_long).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, placed) = post_with(&app, "/api/v1/orders", &customer, brief(&[&material])).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let order_id = placed["order_id"].as_str().expect("an id").to_owned();
    assert_eq!(placed["details"]["attachments"], json!([material]));
    let (status, body) = post_with(&app, "/api/v1/orders", &customer, brief(&[&material])).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a file belongs to one order: {body}"
    );

    assert_eq!(
        listed(&app, &customer, &order_id).await,
        Ok(vec![material.clone()])
    );
    assert_eq!(
        listed(&app, &admin, &order_id).await,
        Ok(vec![material.clone()])
    );
    assert_eq!(
        listed(&app, &stranger, &order_id).await,
        Err(StatusCode::NOT_FOUND)
    );
    assert_eq!(
        fetched(&app, &stranger, &material).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        listed(&app, &executor, &order_id).await,
        Err(StatusCode::NOT_FOUND),
        "not offered to executors before it is paid"
    );
    let missing = Uuid::now_v7();
    assert_eq!(
        listed(&app, &customer, &missing.to_string()).await,
        Err(StatusCode::NOT_FOUND)
    );

    // Priced, accepted and paid: the pool offers it, and its executors read the brief.
    let path = |action: &str| format!("/api/v1/orders/{order_id}/{action}");
    let (status, body) =
        post_with(&app, &path("quote"), &admin, json!({ "price": "2500.00" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post_with(&app, &path("accept-quote"), &customer, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Commands::over(context.pool.clone())
        .orders
        .execute(
            &order_id,
            OrderCommand::MarkPaid {
                payment_id: Uuid::now_v7(),
                amount: "2500.00".parse::<Money>().expect("money"),
            },
            &CommandContext::system("test"),
        )
        .await
        .expect("paid");
    assert!(
        tests::eventually(std::time::Duration::from_secs(10), || async {
            listed(&app, &executor, &order_id).await.is_ok()
        })
        .await,
        "the pool's executors see the paid order's files"
    );
    assert_eq!(fetched(&app, &executor, &material).await, StatusCode::OK);

    // A result handed in too early is refused and its file stays free for the real one.
    let (status, body) = post_with(&app, &path("take"), &executor, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = uploaded(&app, &executor, "coursework", "курсовая.pdf").await;
    let submit = json!({ "attachments": [result], "note": "готово" });
    let (status, body) = post_with(&app, &path("submit"), &executor, submit.clone()).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "invalid_state"),
        "not started: {body}"
    );
    let (status, body) = post_with(&app, &path("start"), &executor, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post_with(&app, &path("submit"), &executor, submit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Refused with a file already the order's: that file stays the order's.
    let (status, body) = post_with(
        &app,
        &path("submit"),
        &customer,
        json!({ "attachments": [material] }),
    )
    .await;
    assert!(status.is_client_error(), "not the customer's step: {body}");
    assert!(
        tests::eventually(std::time::Duration::from_secs(10), || async {
            listed(&app, &customer, &order_id).await == Ok(vec![material.clone(), result.clone()])
        })
        .await,
        "the customer lists the brief's file and the result's"
    );
    assert_eq!(fetched(&app, &customer, &result).await, StatusCode::OK);
    assert_eq!(
        fetched(&app, &stranger, &result).await,
        StatusCode::NOT_FOUND
    );
    let submitted: Value = sqlx::query_scalar(
        "SELECT payload FROM events WHERE aggregate_id = $1 AND event_type = 'ResultSubmitted'",
    )
    .bind(&order_id)
    .fetch_one(&context.pool)
    .await
    .expect("the result's event");
    assert_eq!(
        submitted["ResultSubmitted"]["attachments"],
        json!([result]),
        "the event names the file by id alone"
    );

    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn the_store_attaches_files_with_the_event_and_refuses_one_the_author_may_not_attach() {
    let context = TestContext::new().await;
    let app = spawn_app(settings(&context), Parts::ALL).await;
    let (customer, customer_id) = signed_in(&app, 997_101, "Лида").await;
    let (stranger, _) = signed_in(&app, 997_102, "Федя").await;
    let theirs = uploaded(&app, &stranger, "coursework", "чужое.pdf").await;
    let commands = std::sync::Arc::new(Commands::over(context.pool.clone()));
    let brief = |attachments: Vec<Uuid>| domain::order::Coursework {
        subject: "Статистика".into(),
        work_type: "реферат".into(),
        volume: 5,
        deadline: Utc::now() + Duration::days(5),
        files: vec![],
        attachments,
        max_revisions: 2,
    };
    let customer_uuid: Uuid = customer_id.parse().expect("a uuid");
    let place = |order_id: Uuid, attachments: Vec<Uuid>| {
        let commands = commands.clone();
        let brief = brief(attachments);
        async move {
            commands
                .orders
                .execute(
                    &order_id.to_string(),
                    OrderCommand::Place {
                        order_id,
                        customer_id: customer_uuid,
                        details: domain::order::OrderDetails::Coursework(brief),
                        terms: None,
                    },
                    &CommandContext::system("test"),
                )
                .await
        }
    };
    // Past the use case's check (as a request racing another would be): the store
    // refuses the event, and the file stays unattached.
    let refused = place(Uuid::now_v7(), vec![theirs.parse().expect("a uuid")])
        .await
        .expect_err("someone else's file");
    assert_eq!(refused.field.as_deref(), Some("attachments"), "{refused:?}");
    let (kind, orders): (Option<String>, i64) = sqlx::query_as(
        "SELECT (SELECT attached_kind FROM stored_files WHERE file_id = $1::uuid), \
                (SELECT count(*) FROM events WHERE aggregate_type = 'Order')",
    )
    .bind(&theirs)
    .fetch_one(&context.pool)
    .await
    .expect("reads");
    assert_eq!(
        (kind, orders),
        (None, 0),
        "nothing written, nothing attached"
    );

    // Two orders naming one file at once: the first written has it, the other is
    // refused.
    let mine: Uuid = uploaded(&app, &customer, "coursework", "моё.pdf")
        .await
        .parse()
        .expect("a uuid");
    let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
    let (a, b) = tokio::join!(place(first, vec![mine]), place(second, vec![mine]));
    assert!(a.is_ok() != b.is_ok(), "exactly one: {a:?} {b:?}");
    let winner = if a.is_ok() { first } else { second };
    let attached: Option<String> =
        sqlx::query_scalar("SELECT attached_id FROM stored_files WHERE file_id = $1")
            .bind(mine)
            .fetch_one(&context.pool)
            .await
            .expect("reads");
    assert_eq!(attached, Some(winner.to_string()));

    app.stop().await;
    context.cleanup().await;
}
