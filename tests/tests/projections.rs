//! Projection workers over real Postgres and NATS: the credit read model after a
//! scripted history, whatever NATS does (repeats, shuffles, withheld events), and
//! whatever happens to the workers (abrupt stops, several instances).

use std::sync::Arc;
use std::time::Duration;

use api::startup::Parts;
use async_nats::jetstream;
use projections::read_models::credits::CreditBalances;
use projections::worker::{ProjectionMetrics, Worker, WorkerSettings};
use serde_json::{Value, json};
use tests::app::spawn_app;
use tests::{TestContext, eventually, history};
use tokio_util::sync::CancellationToken;

/// True once the projection's checkpoints cover every stored credit event.
async fn caught_up(context: &TestContext) -> bool {
    let (applied, stored): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COALESCE(sum(sequence), 0)::bigint FROM projection_checkpoints WHERE projection = 'credit_balances'), \
                (SELECT count(*) FROM events WHERE aggregate_type = 'CreditAccount')",
    )
    .fetch_one(&context.pool)
    .await
    .expect("counts");
    applied == stored && stored > 0
}

async fn wait_caught_up(context: &TestContext) {
    assert!(
        eventually(Duration::from_secs(60), || caught_up(context)).await,
        "the projection caught up with the store"
    );
}

/// One `rm_credit_statement` row, without its recorded_at.
type StatementLine = (
    String,
    i64,
    i64,
    String,
    String,
    String,
    Option<chrono::DateTime<chrono::Utc>>,
);

/// The read model without timestamps of when things were recorded.
async fn read_model(context: &TestContext) -> Value {
    let balances: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT account_id, balance, granted, spent, refunded, expired FROM rm_credit_balances ORDER BY account_id",
    )
    .fetch_all(&context.pool)
    .await
    .expect("balances");
    let statement: Vec<StatementLine> = sqlx::query_as(
        "SELECT account_id, sequence, change, kind, reason, reference, expires_at \
             FROM rm_credit_statement ORDER BY account_id, sequence",
    )
    .fetch_all(&context.pool)
    .await
    .expect("statement");
    json!({
        "balances": balances.iter().map(|(account, balance, granted, spent, refunded, expired)| json!({
            "account": account, "balance": balance, "granted": granted, "spent": spent,
            "refunded": refunded, "expired": expired,
        })).collect::<Vec<_>>(),
        "statement": statement.iter().map(|(account, sequence, change, kind, reason, reference, expires_at)| json!({
            "account": account, "sequence": sequence, "change": change, "kind": kind,
            "reason": reason, "reference": reference, "expires_at": expires_at,
        })).collect::<Vec<_>>(),
    })
}

fn worker(context: &TestContext, nats: async_nats::Client) -> Worker<CreditBalances> {
    Worker::new(
        context.pool.clone(),
        nats,
        context.stream.clone(),
        Arc::new(CreditBalances),
        WorkerSettings {
            batch_size: 16,
            ack_wait: Duration::from_secs(2),
            ..WorkerSettings::default()
        },
        ProjectionMetrics::default(),
    )
}

#[tokio::test]
async fn the_credit_read_model_after_a_scripted_history() {
    let context = TestContext::new().await;
    history::credits(&context.pool).await;
    let app = spawn_app(context.settings(), Parts::ALL).await;
    wait_caught_up(&context).await;
    insta::assert_json_snapshot!("credit_read_model", read_model(&context).await);
    let status = projections::worker::status(&context.pool, "credit_balances")
        .await
        .expect("status");
    assert_eq!((status.aggregates, status.parked), (12, 0));
    assert!(status.lag_seconds.is_some());
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .contains("ledgerbot_projection_events_applied_total{projection=\"credit_balances\"}"),
        "{metrics}"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn repeated_shuffled_and_withheld_events_give_the_same_read_model() {
    let context = TestContext::new().await;
    history::credits(&context.pool).await;
    // Every event twice, scrambled, and one withheld (filled from the store).
    tests::redelivery::publish_twice_scrambled(&context, ("acct-05", 3)).await;
    let app = spawn_app(context.settings(), Parts::WORKERS_ONLY).await;
    wait_caught_up(&context).await;
    insta::assert_json_snapshot!("credit_read_model", read_model(&context).await);
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn three_instances_with_one_stopped_abruptly_give_the_same_read_model() {
    let context = TestContext::new().await;
    history::credits(&context.pool).await;
    let relay = spawn_app(context.settings(), Parts::RELAY_ONLY).await;
    let client = async_nats::connect(&context.nats_url).await.expect("nats");
    let shutdown = CancellationToken::new();
    let instances: Vec<_> = (0..3)
        .map(|_| tokio::spawn(worker(&context, client.clone()).run(shutdown.clone())))
        .collect();
    // Stop one instance dead as soon as anything was applied, then start another.
    assert!(
        eventually(Duration::from_secs(30), || async {
            projections::worker::status(&context.pool, "credit_balances")
                .await
                .is_ok_and(|status| status.aggregates > 0)
        })
        .await
    );
    instances[0].abort();
    let replacement = tokio::spawn(worker(&context, client.clone()).run(shutdown.clone()));
    wait_caught_up(&context).await;
    insta::assert_json_snapshot!("credit_read_model", read_model(&context).await);
    shutdown.cancel();
    for instance in instances.into_iter().skip(1).chain([replacement]) {
        instance.await.expect("worker stops");
    }
    relay.stop().await;
    let js = jetstream::new(client);
    let _ = js.delete_stream(&context.stream.name).await;
    context.cleanup().await;
}

#[tokio::test]
async fn an_event_that_cannot_be_applied_is_parked_and_others_flow_past_it() {
    let context = TestContext::new().await;
    // A stored event of a kind this version does not know, then a good one after it,
    // and a good account beside it.
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) VALUES \
         ('CreditAccount', 'odd', 1, 'CreditsConjured', '9.0', '{\"CreditsConjured\": {\"amount\": 5}}', '{}'), \
         ('CreditAccount', 'odd', 2, 'CreditsGranted', '1.0', '{\"CreditsGranted\": {\"amount\": 3, \"reason\": \"promo\", \"reference\": \"x\", \"expires_at\": null}}', '{}'), \
         ('CreditAccount', 'fine', 1, 'CreditsGranted', '1.0', '{\"CreditsGranted\": {\"amount\": 9, \"reason\": \"promo\", \"reference\": \"y\", \"expires_at\": null}}', '{}')",
    )
    .execute(&context.pool)
    .await
    .expect("events");
    let app = spawn_app(context.settings(), Parts::ALL).await;
    wait_caught_up(&context).await;
    let balances: Vec<(String, i64)> =
        sqlx::query_as("SELECT account_id, balance FROM rm_credit_balances ORDER BY account_id")
            .fetch_all(&context.pool)
            .await
            .expect("balances");
    assert_eq!(
        balances,
        vec![("fine".to_owned(), 9), ("odd".to_owned(), 3)]
    );
    let parked: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT aggregate_id, sequence, error FROM projection_parked WHERE projection = 'credit_balances'",
    )
    .fetch_all(&context.pool)
    .await
    .expect("parked");
    assert_eq!(parked.len(), 1);
    assert_eq!((parked[0].0.as_str(), parked[0].1), ("odd", 1));
    assert!(parked[0].2.contains("CreditsConjured"), "{}", parked[0].2);
    let status = projections::worker::status(&context.pool, "credit_balances")
        .await
        .expect("status");
    assert_eq!(status.parked, 1);
    app.stop().await;
    context.cleanup().await;
}

/// A projection that records what it applied, fails transiently on aggregate "flaky"
/// while `down` holds, and can never apply aggregate "poison".
struct Flaky {
    down: Arc<std::sync::atomic::AtomicBool>,
    tries: Arc<std::sync::atomic::AtomicU64>,
}

impl projections::worker::Projection for Flaky {
    fn name(&self) -> &'static str {
        "flaky_test"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["CreditAccount"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut sqlx::PgConnection,
        event: &'a projections::EventEnvelope,
    ) -> projections::worker::ApplyFuture<'a> {
        use std::sync::atomic::Ordering;
        Box::pin(async move {
            if event.aggregate_id == "poison" {
                return Err(projections::worker::ApplyError::Permanent(
                    "an invariant of ours does not hold".into(),
                ));
            }
            if event.aggregate_id == "flaky" && self.down.load(Ordering::SeqCst) {
                self.tries.fetch_add(1, Ordering::SeqCst);
                return Err(projections::worker::ApplyError::Command(
                    "YooKassa could not be reached".into(),
                ));
            }
            sqlx::query("INSERT INTO flaky_applied (aggregate_id, sequence) VALUES ($1, $2)")
                .bind(&event.aggregate_id)
                .bind(event.sequence)
                .execute(connection)
                .await?;
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_transient_failure_is_retried_without_limit_holding_back_only_its_aggregate() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let context = TestContext::new().await;
    sqlx::query("CREATE TABLE flaky_applied (aggregate_id text, sequence bigint, at timestamptz DEFAULT clock_timestamp())")
        .execute(&context.pool)
        .await
        .expect("table");
    let grant = |account: &str, amount: u64| {
        let commands = domain::command::Commands::over(context.pool.clone());
        let account = account.to_owned();
        async move {
            commands
                .credits
                .execute(
                    &account,
                    domain::credit::CreditCommand::Grant {
                        amount,
                        reason: domain::credit::GrantReason::Promo,
                        reference: format!("promo-{amount}"),
                        expires_at: None,
                    },
                    &domain::command::CommandContext::system("test"),
                )
                .await
                .expect("a grant");
        }
    };
    for amount in 1..=3 {
        grant("flaky", amount).await;
    }
    grant("poison", 1).await;
    grant("fine", 1).await;
    let relay = spawn_app(context.settings(), Parts::RELAY_ONLY).await;
    let client = async_nats::connect(&context.nats_url).await.expect("nats");
    let down = Arc::new(AtomicBool::new(true));
    let tries = Arc::new(AtomicU64::new(0));
    let worker = Worker::new(
        context.pool.clone(),
        client.clone(),
        context.stream.clone(),
        Arc::new(Flaky {
            down: down.clone(),
            tries: tries.clone(),
        }),
        WorkerSettings {
            batch_size: 16,
            first_retry_delay: Duration::from_millis(50),
            max_retry_delay: Duration::from_millis(400),
            ..WorkerSettings::default()
        },
        ProjectionMetrics::default(),
    );
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    let applied = |account: &'static str| {
        let pool = context.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT sequence FROM flaky_applied WHERE aggregate_id = $1 ORDER BY at",
            )
            .bind(account)
            .fetch_all(&pool)
            .await
            .expect("applied")
        }
    };
    // Far more tries than the old limit of three: still retrying, never parked; the
    // other aggregate flows, the poison is parked at once.
    assert!(
        eventually(Duration::from_secs(30), || async {
            tries.load(Ordering::SeqCst) >= 8 && applied("fine").await == vec![1]
        })
        .await,
        "retried many times while the other aggregate flowed"
    );
    let status = projections::worker::status(&context.pool, "flaky_test")
        .await
        .expect("status");
    assert_eq!(status.parked, 1, "only the poison: {status:?}");
    assert_eq!(status.retrying.aggregates, 1, "{status:?}");
    assert!(
        status
            .retrying
            .last_error
            .as_deref()
            .is_some_and(|error| error.contains("YooKassa")),
        "{status:?}"
    );
    assert!(applied("flaky").await.is_empty(), "held back in order");
    let parked = projections::worker::parked::list(&context.pool, Some("flaky_test"))
        .await
        .expect("parked");
    assert_eq!(
        (parked.len(), parked[0].aggregate_id.as_str()),
        (1, "poison")
    );

    // The outage ends: every event of the aggregate applies, in order.
    down.store(false, Ordering::SeqCst);
    assert!(
        eventually(Duration::from_secs(30), || async {
            applied("flaky").await == vec![1, 2, 3]
        })
        .await,
        "applied in order once it passed"
    );
    let status = projections::worker::status(&context.pool, "flaky_test")
        .await
        .expect("status");
    assert_eq!(status.retrying.aggregates, 0, "{status:?}");
    shutdown.cancel();
    running.await.expect("the worker stops");
    relay.stop().await;
    let js = jetstream::new(client);
    let _ = js.delete_stream(&context.stream.name).await;
    context.cleanup().await;
}

#[tokio::test]
async fn an_operator_lists_parked_events_and_applies_them_again_after_a_fix() {
    let context = TestContext::new().await;
    // A rule the read model cannot meet, for now: the event is parked at once.
    sqlx::query(
        "ALTER TABLE rm_credit_balances ADD CONSTRAINT small_balances CHECK (balance < 1000)",
    )
    .execute(&context.pool)
    .await
    .expect("a constraint");
    let commands = domain::command::Commands::over(context.pool.clone());
    // The big account's first event is parked; its second applies past it.
    for (account, amount, reference) in [
        ("big", 5_000, "launch"),
        ("small", 5, "launch"),
        ("big", 1, "later"),
    ] {
        commands
            .credits
            .execute(
                account,
                domain::credit::CreditCommand::Grant {
                    amount,
                    reason: domain::credit::GrantReason::Promo,
                    reference: reference.into(),
                    expires_at: None,
                },
                &domain::command::CommandContext::system("test"),
            )
            .await
            .expect("a grant");
    }
    let app = spawn_app(context.settings(), Parts::ALL).await;
    wait_caught_up(&context).await;
    let env = context.env();
    let listed =
        tests::app::run_ledgerbot(&["parked", "list", "credit_balances", "--json"], &env).await;
    assert_eq!(listed.code, Some(0), "{listed:?}");
    let lines: Vec<Value> = listed
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{listed:?}");
    assert_eq!(lines[0]["aggregate_id"], "big");
    assert!(
        lines[0]["error"]
            .as_str()
            .is_some_and(|error| error.contains("small_balances"))
    );

    // Tried again before the fix: still parked, exit 1.
    let again =
        tests::app::run_ledgerbot(&["parked", "retry", "credit_balances", "big"], &env).await;
    assert_eq!(again.code, Some(1), "{again:?}");
    sqlx::query("ALTER TABLE rm_credit_balances DROP CONSTRAINT small_balances")
        .execute(&context.pool)
        .await
        .expect("the fix");
    let retried = tests::app::run_ledgerbot(&["parked", "retry", "credit_balances"], &env).await;
    assert_eq!(retried.code, Some(0), "{retried:?}");
    assert!(retried.stdout.contains("applied"), "{retried:?}");
    let balance: i64 =
        sqlx::query_scalar("SELECT balance FROM rm_credit_balances WHERE account_id = 'big'")
            .fetch_one(&context.pool)
            .await
            .expect("the balance");
    assert_eq!(
        balance, 5_001,
        "both grants, the parked one applied after the other"
    );
    let left = projections::worker::parked::list(&context.pool, None)
        .await
        .expect("parked");
    assert!(left.is_empty(), "{left:?}");
    let unknown = tests::app::run_ledgerbot(&["parked", "retry", "no_such_projection"], &env).await;
    assert_eq!(unknown.code, Some(2), "{unknown:?}");
    assert!(
        unknown.stderr.contains("credit_balances"),
        "names the projections: {unknown:?}"
    );
    app.stop().await;
    context.cleanup().await;
}
