//! `ledgerbot replay rebuild`: every read model built again from the store after a
//! long randomized history (with refunds, cancellations and every event delivered
//! again, scrambled) equals the live one row for row; a damaged live row is reported
//! by table, key and column, and a rebuild switched in mends it (views, index names
//! and the projection's checkpoints carried over) while the service keeps serving;
//! a rebuild while commands and reads keep arriving loses nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use api::startup::Parts;
use chrono::Utc;
use domain::use_cases::credits::Spend;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::{Connection, PgPool};
use tests::api_client::{get_with, settings, signed_in};
use tests::app::{run_ledgerbot, spawn_app};
use tests::paying::live_app;
use tests::random_history::{cast, random_history};
use tests::redelivery::publish_twice_scrambled;
use tests::{TestContext, settled};

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect()
}

async fn index_names(pool: &PgPool, table: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT indexname::text FROM pg_indexes WHERE tablename = $1 ORDER BY 1")
        .bind(table)
        .fetch_all(pool)
        .await
        .expect("reads")
}

#[tokio::test]
async fn every_read_model_rebuilt_after_a_long_random_history_equals_the_live_one() {
    let context = TestContext::new().await;
    let (app, yookassa) = live_app(&context, "127.0.0.1").await;
    let core = &app.state.core;
    let people = cast(core, 710_000, 30).await;
    let steps = tests::bench_setting("LEDGERBOT_REBUILD_STEPS", 2_000) as usize;
    let tally = random_history(core, &yookassa, &people, 14, steps).await;
    assert!(tally.calls >= steps as u64, "{tally:?}");
    settled(&context.pool).await;
    // Every event delivered twice more, scrambled: the workers skip what they hold.
    publish_twice_scrambled(&context, ("none", 0)).await;
    settled(&context.pool).await;
    let (events, kinds): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT event_type) FROM events")
            .fetch_one(&context.pool)
            .await
            .expect("counts");
    let refunds: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_refunds")
        .fetch_one(&context.pool)
        .await
        .expect("counts");
    let cancelled: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rm_orders WHERE status = 'cancelled'")
            .fetch_one(&context.pool)
            .await
            .expect("counts");
    println!(
        "history: {} use case calls ({} refused), {events} events of {kinds} types, {refunds} refunds, {cancelled} cancelled orders",
        tally.calls, tally.refused
    );
    assert!(
        events > steps as i64 && kinds > 20,
        "a long and varied history"
    );
    assert!(
        refunds > 0 && cancelled > 0,
        "with refunds and cancellations"
    );
    let env = context.env();

    let verified = run_ledgerbot(&["replay", "rebuild", "all", "--verify", "--json"], &env).await;
    assert_eq!(verified.code, Some(0), "{verified:?}");
    let reports = lines(&verified.stdout);
    let names: Vec<&str> = reports
        .iter()
        .filter_map(|r| r["projection"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "credit_balances",
            "credit_lots",
            "users",
            "tax_ledger",
            "orders",
            "payments",
            "tickets",
            "ticket_categories",
            "analytics",
            "notifications",
            "generation_jobs"
        ],
        "every read model, and no reaction or feed"
    );
    for report in &reports {
        assert_eq!(report["comparison"]["difference_count"], 0, "{report:#}");
        assert_eq!(report["switched"], false);
        assert_eq!(report["parked"], 0, "{report:#}");
    }
    let rows: i64 = reports
        .iter()
        .flat_map(|report| {
            report["comparison"]["rows"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|pair| pair[1].as_i64().unwrap_or_default())
        .sum();
    assert!(rows > steps as i64, "rows compared: {rows}");
    let schemas: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'ledgerbot_re%'")
            .fetch_one(&context.pool)
            .await
            .expect("reads");
    assert_eq!(schemas, 0, "a verify leaves nothing behind");

    // A damaged live row and a lost one are reported exactly.
    let (order_id, status): (String, String) =
        sqlx::query_as("SELECT order_id, status FROM rm_orders ORDER BY order_id LIMIT 1")
            .fetch_one(&context.pool)
            .await
            .expect("an order");
    sqlx::query("UPDATE rm_orders SET status = 'lost' WHERE order_id = $1")
        .bind(&order_id)
        .execute(&context.pool)
        .await
        .expect("damages");
    let (account, sequence): (String, i64) = sqlx::query_as(
        "DELETE FROM rm_credit_statement WHERE (account_id, sequence) = \
         (SELECT account_id, sequence FROM rm_credit_statement ORDER BY account_id, sequence LIMIT 1) \
         RETURNING account_id, sequence",
    )
    .fetch_one(&context.pool)
    .await
    .expect("loses a row");
    let damaged = run_ledgerbot(&["replay", "rebuild", "orders", "--verify", "--json"], &env).await;
    assert_eq!(damaged.code, Some(1), "{damaged:?}");
    let report = &lines(&damaged.stdout)[0];
    assert_eq!(report["comparison"]["difference_count"], 1, "{report:#}");
    let difference = &report["comparison"]["differences"][0];
    assert_eq!(difference["table"], "rm_orders");
    assert_eq!(difference["key"]["order_id"], order_id.as_str());
    assert_eq!(difference["column"], "status");
    assert_eq!(difference["live"], "lost");
    assert_eq!(difference["rebuilt"], status.as_str());
    let lost = run_ledgerbot(&["replay", "rebuild", "credit_balances", "--verify"], &env).await;
    assert_eq!(lost.code, Some(1), "{lost:?}");
    assert!(
        lost.stdout.contains(&format!(
            "rm_credit_statement {{\"account_id\":\"{account}\",\"sequence\":{sequence}}}: only in the rebuild"
        )),
        "{}",
        lost.stdout
    );

    // Switched in while the service runs: mended, with its views, names and grants.
    let indexes = index_names(&context.pool, "rm_orders").await;
    // Roles are the cluster's, not the test database's: one of this test's own.
    let probe = format!("lbt_probe_{}", &context.id[..12]);
    sqlx::query(&format!("CREATE ROLE {probe}"))
        .execute(&context.pool)
        .await
        .expect("a role");
    sqlx::query(&format!(
        "GRANT SELECT ON rm_orders TO {probe} WITH GRANT OPTION"
    ))
    .execute(&context.pool)
    .await
    .expect("grants");
    let switched = run_ledgerbot(&["replay", "rebuild", "orders"], &env).await;
    assert_eq!(switched.code, Some(0), "{switched:?}");
    assert!(
        switched.stdout.contains("orders: ") && switched.stdout.contains("switched in"),
        "{}",
        switched.stdout
    );
    let mended: String = sqlx::query_scalar("SELECT status FROM rm_orders WHERE order_id = $1")
        .bind(&order_id)
        .fetch_one(&context.pool)
        .await
        .expect("reads");
    assert_eq!(mended, status);
    assert_eq!(index_names(&context.pool, "rm_orders").await, indexes);
    let pool_rows: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_order_pool")
        .fetch_one(&context.pool)
        .await
        .expect("the view reads the new table");
    let pool_expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM rm_orders WHERE status = 'paid' AND kind = 'coursework' AND executor_id IS NULL",
    )
    .fetch_one(&context.pool)
    .await
    .expect("reads");
    assert_eq!(pool_rows, pool_expected);
    let granted: (bool, bool) = sqlx::query_as(
        "SELECT has_table_privilege($1, 'rm_orders', 'SELECT'), \
                has_table_privilege($1, 'rm_orders', 'SELECT WITH GRANT OPTION')",
    )
    .bind(&probe)
    .fetch_one(&context.pool)
    .await
    .expect("reads");
    assert_eq!(
        granted,
        (true, true),
        "the grant is carried over, with its option"
    );
    let still = run_ledgerbot(&["replay", "rebuild", "credit_balances"], &env).await;
    assert_eq!(still.code, Some(0), "{still:?}");
    let again = run_ledgerbot(&["replay", "rebuild", "all", "--verify"], &env).await;
    assert_eq!(again.code, Some(0), "{again:?}");

    // Notices the live table lost (as a fix that notices more of the past would make
    // them) come back from a rebuild recorded as not sent: nobody hears of old events.
    let notices: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_notifications")
        .fetch_one(&context.pool)
        .await
        .expect("counts");
    sqlx::query(
        "DELETE FROM rm_notifications WHERE notification_id IN \
         (SELECT notification_id FROM rm_notifications ORDER BY notification_id LIMIT 5)",
    )
    .execute(&context.pool)
    .await
    .expect("loses five");
    let renoticed = run_ledgerbot(&["replay", "rebuild", "notifications"], &env).await;
    assert_eq!(renoticed.code, Some(0), "{renoticed:?}");
    let (back, silenced): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM rm_notifications), \
                (SELECT count(*) FROM notification_deliveries WHERE state = 'failed' \
                 AND last_error = 'made by a rebuild for a past event: not sent')",
    )
    .fetch_one(&context.pool)
    .await
    .expect("counts");
    assert_eq!((back, silenced), (notices, 5));

    let refused = run_ledgerbot(&["replay", "rebuild", "payment_reactions"], &env).await;
    assert_eq!(
        refused.code,
        Some(2),
        "a reaction is never rebuilt: {refused:?}"
    );
    let unknown = run_ledgerbot(&["replay", "rebuild", "nonsense"], &env).await;
    assert_eq!(unknown.code, Some(2), "{unknown:?}");
    app.stop().await;
    context.cleanup().await;
    let mut admin = sqlx::PgConnection::connect(&tests::admin_database_url())
        .await
        .expect("connects");
    sqlx::query(&format!("DROP ROLE IF EXISTS {probe}"))
        .execute(&mut admin)
        .await
        .expect("the role goes");
}

#[tokio::test]
async fn a_rebuild_while_commands_arrive_loses_nothing_and_the_api_answers_throughout() {
    let context = TestContext::new().await;
    let app = Arc::new(spawn_app(settings(&context), Parts::ALL).await);
    let core = app.state.core.clone();
    let people = cast(&core, 720_000, 8).await;
    let (token, _) = signed_in(&app, 720_010, "Клиент").await;
    // Some history before the rebuild.
    let mut spends = 0u64;
    for (index, customer) in people.customers.iter().enumerate() {
        for n in 0..3 {
            let spend = Spend {
                amount: 1,
                reason: "image generation".into(),
                operation_id: format!("pre-{index}-{n}"),
            };
            if core
                .spend_credits(*customer, spend, Utc::now())
                .await
                .is_ok()
            {
                spends += 1;
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let writer = {
        let (core, stop, customers) = (core.clone(), stop.clone(), people.customers.clone());
        tokio::spawn(async move {
            let mut done = 0u64;
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                for (index, customer) in customers.iter().enumerate() {
                    let spend = Spend {
                        amount: 1,
                        reason: "image generation".into(),
                        operation_id: format!("during-{index}-{n}"),
                    };
                    if core
                        .spend_credits(*customer, spend, Utc::now())
                        .await
                        .is_ok()
                    {
                        done += 1;
                    }
                }
                n += 1;
            }
            done
        })
    };
    let reader = {
        let (app, stop, answered) = (app.clone(), stop.clone(), answered.clone());
        tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = get_with(&app, "/api/v1/credits", &token).await;
                if status == StatusCode::OK {
                    answered.fetch_add(1, Ordering::Relaxed);
                } else {
                    failures.push((status, body));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            failures
        })
    };
    let rebuilt = run_ledgerbot(&["replay", "rebuild", "all", "--json"], &context.env()).await;
    stop.store(true, Ordering::Relaxed);
    let during = writer.await.expect("the writer");
    let failures = reader.await.expect("the reader");
    assert_eq!(rebuilt.code, Some(0), "{rebuilt:?}");
    assert!(
        lines(&rebuilt.stdout)
            .iter()
            .all(|report| report["switched"] == true)
    );
    assert!(
        failures.is_empty(),
        "the API answered throughout: {failures:?}"
    );
    assert!(answered.load(Ordering::Relaxed) > 10, "reads kept coming");
    assert!(during > 0, "commands kept coming");
    settled(&context.pool).await;
    let statement_spends: i64 =
        sqlx::query_scalar("SELECT count(*) FROM rm_credit_statement WHERE kind = 'spent'")
            .fetch_one(&context.pool)
            .await
            .expect("counts");
    assert_eq!(
        statement_spends as u64,
        spends + during,
        "every spend answered with success is in the rebuilt statement"
    );
    let verified = run_ledgerbot(&["replay", "rebuild", "all", "--verify"], &context.env()).await;
    assert_eq!(verified.code, Some(0), "{verified:?}");
    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("the app is still shared"),
    }
    context.cleanup().await;
}
