//! Inline read models (`domain::command::inline`): the read models a command's answer
//! is read from are applied in the command's own transaction, so the answer is right
//! with no relay and no worker running; an account the worker had not caught up on is
//! filled in from the store; a failing inline projection never fails the command; and
//! the worker, started later, skips what was applied inline and applies the rest.
//! Orders and tickets are answered the same way, and every inline apply, and every
//! one left to the worker, is counted.

use std::sync::Arc;

use api::startup::Parts;
use domain::command::inline::{AppendedEvent, InlineError, InlineFuture, InlineProjection};
use domain::command::{CommandContext, CommandService, Commands};
use domain::credit::{CreditAccount, CreditCommand, GrantReason};
use projections::worker::ProjectionMetrics;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgConnection;
use tests::TestContext;
use tests::api_client::{get_with, post_with, settings, signed_in};
use tests::app::spawn_app;

const NOTHING_DOWNSTREAM: Parts = Parts {
    relay: false,
    workers: false,
    bot: false,
};

fn grant(amount: u64, reference: &str) -> CreditCommand {
    CreditCommand::Grant {
        amount,
        reason: GrantReason::Admin,
        reference: reference.to_owned(),
        expires_at: None,
    }
}

async fn checkpoint(pool: &sqlx::PgPool, projection: &str, account: &str) -> Option<i64> {
    sqlx::query_scalar(
        "SELECT sequence FROM projection_checkpoints \
         WHERE projection = $1 AND aggregate_type = 'CreditAccount' AND aggregate_id = $2",
    )
    .bind(projection)
    .bind(account)
    .fetch_optional(pool)
    .await
    .expect("the checkpoint")
}

async fn stored_balance(pool: &sqlx::PgPool, account: &str) -> Option<i64> {
    sqlx::query_scalar("SELECT balance FROM rm_credit_balances WHERE account_id = $1")
        .bind(account)
        .fetch_optional(pool)
        .await
        .expect("the balance row")
}

#[tokio::test]
async fn a_spend_answers_from_its_own_transaction_and_the_worker_skips_it() {
    let context = TestContext::new().await;
    let mut settings = settings(&context);
    settings.programs.monthly_allowance = 0;
    // Sign in with everything running, then keep only the API: from here on no
    // relay and no worker can apply anything.
    let everything = spawn_app(settings.clone(), Parts::ALL).await;
    let (token, user) = signed_in(&everything, 889_001, "Инна").await;
    everything.stop().await;
    let api = spawn_app(settings.clone(), NOTHING_DOWNSTREAM).await;

    // A grant the workers never saw: the read model is behind by one event.
    Commands::over(context.pool.clone())
        .credits
        .execute(&user, grant(50, "behind"), &CommandContext::system("test"))
        .await
        .expect("granted");
    assert_eq!(stored_balance(&context.pool, &user).await, None);

    let spend = json!({ "amount": 20, "reason": "image generation", "operation_id": "inline-1" });
    let (status, answer) = post_with(&api, "/api/v1/credits/spend", &token, spend).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["balance"], json!(30), "{answer}");
    assert_eq!(answer["spent"], json!(20), "{answer}");
    assert_eq!(
        checkpoint(&context.pool, "credit_balances", &user).await,
        Some(2)
    );
    assert_eq!(
        checkpoint(&context.pool, "credit_lots", &user).await,
        Some(2)
    );
    let lots: i64 = sqlx::query_scalar(
        "SELECT COALESCE(sum(remaining), 0)::bigint FROM rm_credit_lots WHERE account_id = $1",
    )
    .bind(&user)
    .fetch_one(&context.pool)
    .await
    .expect("the lots");
    assert_eq!(lots, 30, "the lots were applied inline too");
    let statement: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rm_credit_statement WHERE account_id = $1")
            .bind(&user)
            .fetch_one(&context.pool)
            .await
            .expect("the statement");
    assert_eq!(statement, 2, "the gap (the grant) and the spend, once each");
    api.stop().await;

    // The workers and the relay come back: they deliver both events again, which the
    // checkpoints skip, and nothing is applied twice or parked.
    let all = spawn_app(settings, Parts::ALL).await;
    let (status, later) = post_with(
        &all,
        "/api/v1/credits/spend",
        &token,
        json!({ "amount": 5, "reason": "image generation", "operation_id": "inline-2" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{later}");
    assert_eq!(later["balance"], json!(25), "{later}");
    // A grant by a writer without inline read models: only the worker can apply it.
    Commands::over(context.pool.clone())
        .credits
        .execute(
            &user,
            grant(7, "by-the-worker"),
            &CommandContext::system("test"),
        )
        .await
        .expect("granted");
    tests::settled(&context.pool).await;
    assert_eq!(stored_balance(&context.pool, &user).await, Some(32));
    let lines: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT sequence, change FROM rm_credit_statement WHERE account_id = $1 ORDER BY sequence",
    )
    .bind(&user)
    .fetch_all(&context.pool)
    .await
    .expect("the statement");
    assert_eq!(lines, vec![(1, 50), (2, -20), (3, -5), (4, 7)]);
    let parked: i64 = sqlx::query_scalar("SELECT count(*) FROM projection_parked")
        .fetch_one(&context.pool)
        .await
        .expect("parked");
    assert_eq!(parked, 0);
    all.stop().await;
}

/// Writes a checkpoint, then breaks its transaction (a division by zero) and fails:
/// neither the write nor the broken transaction may reach the command.
struct Broken;

impl InlineProjection for Broken {
    fn name(&self) -> &'static str {
        "broken"
    }
    fn aggregate_types(&self) -> &'static [&'static str] {
        &["CreditAccount"]
    }
    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        _events: &'a [AppendedEvent],
    ) -> InlineFuture<'a> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO projection_checkpoints (projection, aggregate_type, aggregate_id, sequence) \
                 VALUES ('broken', 'CreditAccount', 'written-before-failing', 1)",
            )
            .execute(&mut *connection)
            .await
            .map_err(|error| InlineError(error.to_string()))?;
            let failed = sqlx::query("SELECT 1 / 0").execute(connection).await;
            Err(InlineError(format!("{failed:?}")))
        })
    }
}

#[tokio::test]
async fn a_failing_inline_read_model_never_fails_the_command() {
    let context = TestContext::new().await;
    let mut inline: Vec<Arc<dyn InlineProjection>> = vec![Arc::new(Broken)];
    inline.extend(projections::read_models::inline(
        &ProjectionMetrics::default(),
    ));
    let credits: CommandService<CreditAccount> =
        CommandService::new(context.pool.clone(), ()).with_inline(&inline);
    let account = uuid::Uuid::now_v7().to_string();
    let committed = credits
        .execute(&account, grant(70, "once"), &CommandContext::system("test"))
        .await
        .expect("the command commits although one inline read model failed");
    assert_eq!(committed.sequence, 1);
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_type = 'CreditAccount' AND aggregate_id = $1",
    )
    .bind(&account)
    .fetch_one(&context.pool)
    .await
    .expect("the events");
    assert_eq!(stored, 1);
    assert_eq!(
        stored_balance(&context.pool, &account).await,
        Some(70),
        "the inline read models after the broken one still applied"
    );
    let outbox: Vec<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(o) FROM outbox o JOIN events e USING (global_position) WHERE e.aggregate_id = $1",
    )
    .bind(&account)
    .fetch_all(&context.pool)
    .await
    .expect("the outbox");
    assert_eq!(
        outbox.len(),
        1,
        "the event still goes to the stream: {outbox:?}"
    );
    let broken: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM projection_checkpoints WHERE projection = 'broken'",
    )
    .fetch_one(&context.pool)
    .await
    .expect("the checkpoints");
    assert_eq!(
        broken, 0,
        "the failed inline read model's own write was rolled back"
    );
}

#[tokio::test]
async fn an_order_and_a_ticket_thread_are_answered_with_no_worker_running() {
    let context = TestContext::new().await;
    let settings = settings(&context);
    let everything = spawn_app(settings.clone(), Parts::ALL).await;
    let (token, _) = signed_in(&everything, 889_101, "Вера").await;
    everything.stop().await;
    let api = spawn_app(settings, NOTHING_DOWNSTREAM).await;

    let brief = json!({
        "subject": "Теория графов",
        "work_type": "курсовая",
        "volume": 25,
        "deadline": (chrono::Utc::now() + chrono::Duration::days(14)).to_rfc3339(),
        "files": ["brief.pdf"],
    });
    let (status, placed) = post_with(&api, "/api/v1/orders", &token, brief).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let order = placed["order_id"].as_str().expect("an order id").to_owned();
    let (status, shown) = get_with(&api, &format!("/api/v1/orders/{order}"), &token).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(
        shown["details"]["subject"],
        json!("Теория графов"),
        "{shown}"
    );
    let (status, mine) = get_with(&api, "/api/v1/orders", &token).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert!(
        mine.to_string().contains(&order),
        "my orders list it: {mine}"
    );

    let (status, opened) = post_with(
        &api,
        "/api/v1/tickets",
        &token,
        json!({ "category": "payments", "title": "Не пришли кредиты", "description": "Оплатила пакет XL" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let ticket = opened["ticket_id"]
        .as_str()
        .expect("a ticket id")
        .to_owned();
    let (status, thread) = post_with(
        &api,
        &format!("/api/v1/tickets/{ticket}/messages"),
        &token,
        json!({ "text": "Чек во вложении" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{thread}");
    let texts: Vec<&str> = thread["messages"]
        .as_array()
        .expect("the thread")
        .iter()
        .filter_map(|message| message["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        vec!["Оплатила пакет XL", "Чек во вложении"],
        "{thread}"
    );

    let applied: Vec<(String, i64)> = sqlx::query_as(
        "SELECT projection, sequence FROM projection_checkpoints \
         WHERE projection IN ('orders', 'tickets') AND aggregate_id IN ($1, $2) ORDER BY projection",
    )
    .bind(&order)
    .bind(&ticket)
    .fetch_all(&context.pool)
    .await
    .expect("the checkpoints");
    assert_eq!(
        applied,
        vec![("orders".to_owned(), 1), ("tickets".to_owned(), 2)],
        "applied in the commands' own transactions: nothing else ran"
    );
    api.stop().await;
}

#[tokio::test]
async fn inline_applies_and_those_left_to_the_worker_are_counted() {
    let context = TestContext::new().await;
    let metrics = ProjectionMetrics::default();
    let credits: CommandService<CreditAccount> = CommandService::new(context.pool.clone(), ())
        .with_inline(&projections::read_models::inline(&metrics));
    let account = uuid::Uuid::now_v7().to_string();
    let system = CommandContext::system("test");
    credits
        .execute(&account, grant(70, "first"), &system)
        .await
        .expect("granted");
    assert_eq!(metrics.applied("credit_balances").get(), 1);
    assert_eq!(metrics.applied("credit_lots").get(), 1);

    // A worker's batch holds the account's balance checkpoint: the next command waits
    // for it briefly, then leaves the balance to the worker and commits.
    let mut worker = context.pool.begin().await.expect("a transaction");
    sqlx::query(
        "SELECT sequence FROM projection_checkpoints \
         WHERE projection = 'credit_balances' AND aggregate_type = 'CreditAccount' AND aggregate_id = $1 \
         FOR UPDATE",
    )
    .bind(&account)
    .fetch_one(&mut *worker)
    .await
    .expect("the checkpoint locked");
    let committed = credits
        .execute(&account, grant(5, "second"), &system)
        .await
        .expect("the command commits although its balance was locked");
    assert_eq!(committed.sequence, 2);
    worker.rollback().await.expect("released");

    assert_eq!(metrics.inline_left_to_worker("credit_balances").get(), 1);
    assert_eq!(
        metrics.applied("credit_balances").get(),
        1,
        "not counted as applied"
    );
    assert_eq!(metrics.inline_left_to_worker("credit_lots").get(), 0);
    assert_eq!(metrics.applied("credit_lots").get(), 2);
    assert_eq!(
        checkpoint(&context.pool, "credit_balances", &account).await,
        Some(1),
        "left for the worker"
    );
    assert_eq!(stored_balance(&context.pool, &account).await, Some(70));

    // The next command fills the gap from the store: both events are counted, here.
    credits
        .execute(&account, grant(1, "third"), &system)
        .await
        .expect("granted");
    assert_eq!(metrics.applied("credit_balances").get(), 3);
    assert_eq!(stored_balance(&context.pool, &account).await, Some(76));
}
