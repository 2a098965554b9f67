//! The businesses' read models (orders, bookings, payments, tickets, users, analytics,
//! notifications) after a scripted week, over real Postgres and NATS: in order, and
//! again with every event delivered twice, scrambled, one withheld (filled from the
//! store), while the process managers react to the same events.

use std::time::Duration;

use api::startup::Parts;
use chrono::Utc;
use projections::read_models::analytics;
use serde_json::{Value, json};
use tests::app::spawn_app;
use tests::history::{self, people, things};
use tests::stream::jetstream_at;
use tests::{TestContext, eventually};

/// Every projection the workers part runs, with the aggregate types it reads.
const PROJECTIONS: &[(&str, &[&str])] = &[
    ("credit_balances", &["CreditAccount"]),
    ("credit_lots", &["CreditAccount"]),
    ("users", &["User"]),
    ("tax_ledger", &["Payment"]),
    ("orders", &["Order"]),
    ("payments", &["Payment"]),
    ("tickets", &["Ticket"]),
    ("ticket_categories", &["TicketCategory"]),
    (
        "live_updates",
        &[
            "Order",
            "Payment",
            "CreditAccount",
            "Ticket",
            "User",
            "GenerationJob",
        ],
    ),
    (
        "analytics",
        &["Order", "Payment", "CreditAccount", "Ticket", "User"],
    ),
    (
        "notifications",
        &[
            "Order",
            "Payment",
            "CreditAccount",
            "Ticket",
            "User",
            "GenerationJob",
        ],
    ),
    ("payment_reactions", &["Payment"]),
    ("refund_reactions", &["Order", "Payment"]),
    ("refund_executor", &["Payment"]),
    ("loyalty_cashback", &["Order"]),
    (
        "monthly_allowance",
        &["User", "Order", "Ticket", "CreditAccount"],
    ),
    ("generation_jobs", &["GenerationJob"]),
    ("generation_reactions", &["GenerationJob"]),
];

/// True when the outbox is empty and every projection has applied every stored
/// event of its types.
async fn all_caught_up(context: &TestContext) -> bool {
    if context.outbox_depth().await > 0 {
        return false;
    }
    for (name, types) in PROJECTIONS {
        let types: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
        let (applied, stored): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COALESCE(sum(sequence), 0)::bigint FROM projection_checkpoints WHERE projection = $1), \
                    (SELECT count(*) FROM events WHERE aggregate_type = ANY($2))",
        )
        .bind(name)
        .bind(&types)
        .fetch_one(&context.pool)
        .await
        .expect("counts");
        if applied != stored {
            return false;
        }
    }
    true
}

/// Waits until everything is applied and the process managers have stopped adding
/// events (caught up twice in a row, a moment apart, with the same event count).
async fn wait_settled(context: &TestContext) {
    let events = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM events")
            .fetch_one(&context.pool)
            .await
            .expect("count")
    };
    let settled = eventually(Duration::from_secs(90), || async {
        if !all_caught_up(context).await {
            return false;
        }
        let before = events().await;
        tokio::time::sleep(Duration::from_millis(700)).await;
        all_caught_up(context).await && events().await == before
    })
    .await;
    assert!(settled, "every projection caught up with the store");
}

/// Rows of `sql` as JSON objects, with the columns named in `recorded` (times of
/// recording, which differ per run) replaced by whether they are set.
async fn rows(context: &TestContext, sql: &str, recorded: &[&str]) -> Value {
    let today = Utc::now().date_naive().to_string();
    let wrapped = format!("SELECT COALESCE(jsonb_agg(to_jsonb(x)), '[]'::jsonb) FROM ({sql}) x");
    let mut value: Value = sqlx::query_scalar(&wrapped)
        .fetch_one(&context.pool)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
    if let Value::Array(items) = &mut value {
        for item in items {
            let Value::Object(row) = item else { continue };
            for column in recorded {
                if let Some(cell) = row.get_mut(*column) {
                    *cell = json!(if cell.is_null() {
                        "unset"
                    } else {
                        "<recorded>"
                    });
                }
            }
            if row.get("day") == Some(&json!(today)) {
                row.insert("day".to_owned(), json!("<today>"));
            }
        }
    }
    value
}

async fn read_models(context: &TestContext) -> Value {
    json!({
        "orders": rows(context,
            "SELECT order_id, kind, status, customer_id, executor_id, title, price::text, paid_amount::text, refunded_amount::text, \
               payment_id, deadline, revisions, review_stars, details, placed_at, paid_at, completed_at, cancelled_at \
             FROM rm_orders ORDER BY order_id",
            &["placed_at", "paid_at", "completed_at", "cancelled_at"]).await,
        "order_timeline": rows(context,
            "SELECT order_id, sequence, event_type, actor_id, internal, summary FROM rm_order_timeline ORDER BY order_id, sequence",
            &[]).await,
        "order_pool": rows(context, "SELECT order_id, title, price::text FROM rm_order_pool ORDER BY order_id", &[]).await,
        "executor_workload": rows(context, "SELECT * FROM rm_executor_workload ORDER BY executor_id", &[]).await,
        "bookings": rows(context,
            "SELECT order_id, master_id, service_id, customer_id, starts_at, ends_at, status FROM rm_bookings ORDER BY order_id",
            &[]).await,
        "payments": rows(context,
            "SELECT payment_id, payer_id, payer_kind, purpose, order_id, product, amount::text, refunded_amount::text, provider_fee::text, \
               status, provider_payment_id, paid_at, month, created_at FROM rm_payments ORDER BY payment_id",
            &["created_at", "month"]).await,
        "refunds": rows(context,
            "SELECT payment_id, refund_id, payer_id, amount::text, status, provider_refund_id, refunded_at, month, requested_at \
             FROM rm_refunds ORDER BY payment_id, refund_id",
            &["requested_at"]).await,
        "users": rows(context,
            "SELECT user_id, telegram_id, first_name, role, blocked, language, referrer_id, referrals, total_paid::text, \
               total_refunded::text, payments, loyalty_tier FROM rm_user_overview ORDER BY user_id",
            &[]).await,
        "tickets": rows(context,
            "SELECT ticket_id, customer_id, category, title, priority, status, assignee_id, messages, rating, \
               first_response_at, resolved_at, last_customer_message_at, last_staff_message_at, opened_at \
             FROM rm_tickets ORDER BY ticket_id",
            &["opened_at", "resolved_at", "last_customer_message_at"]).await,
        "ticket_messages": rows(context,
            // The opening message is posted when the ticket is recorded.
            "SELECT ticket_id, message_id, author_id, by_staff, internal, text, \
               CASE WHEN message_id <> 'opening' THEN posted_at END AS posted_at \
             FROM rm_ticket_messages ORDER BY ticket_id, message_id",
            &[]).await,
        "credit_lots": rows(context,
            // Lots are numbered in grant order, which differs with the order reactions run in.
            "SELECT account_id, reason, reference, remaining, expires_at FROM rm_credit_lots \
             ORDER BY account_id, reason, remaining",
            &["expires_at", "reference"]).await,
        "daily_stats": rows(context, "SELECT day, orders_placed, orders_paid, orders_completed, orders_cancelled, revenue::text, refunds::text, \
               credits_granted, credits_spent, tickets_opened, tickets_resolved, new_users FROM rm_daily_stats ORDER BY day", &[]).await,
        // Positions depend on arrival order across aggregates; what was told to whom does not.
        "live_updates": rows(context,
            "SELECT topic, event, staff_queue, count(*) AS updates, \
               array_agg(DISTINCT cardinality(user_ids) ORDER BY cardinality(user_ids)) AS audience_sizes \
             FROM rm_live_updates GROUP BY topic, event, staff_queue ORDER BY topic, event, staff_queue",
            &[]).await,
        // Notifications whose causes are reactions' events carry sequence numbers that
        // depend on which reaction ran first, so they are compared by content; points'
        // expiry counts from when they were granted.
        "notifications": rows(context,
            "SELECT recipient, user_id, template, params - 'expires_at' AS params, params ? 'expires_at' AS expires, sent_at \
             FROM rm_notifications ORDER BY template, user_id, (params - 'expires_at')::text",
            &[]).await,
    })
}

/// Figures an accountant or owner would check by hand against the script.
async fn check_figures(context: &TestContext) {
    // Internal notes and messages never reach the customer's live feed.
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM rm_live_updates u \
         JOIN live_update_parties p ON p.aggregate_type = u.aggregate_type AND p.aggregate_id = u.aggregate_id \
         WHERE (u.event = 'InternalNoteAdded' OR (u.event = 'MessagePosted' AND (u.data ->> 'internal')::boolean)) \
           AND p.customer_id = ANY(u.user_ids)",
    )
    .fetch_one(&context.pool)
    .await
    .expect("count");
    assert_eq!(leaked, 0);
    let internal: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM rm_live_updates WHERE event = 'InternalNoteAdded' \
            OR (event = 'MessagePosted' AND (data ->> 'internal')::boolean)",
    )
    .fetch_one(&context.pool)
    .await
    .expect("count");
    assert!(internal > 0, "the script has internal notes to hide");
    let pool: Vec<String> = sqlx::query_scalar("SELECT order_id FROM rm_order_pool")
        .fetch_all(&context.pool)
        .await
        .expect("pool");
    assert_eq!(pool, vec![things::COURSEWORK_POOL.to_string()]);
    let today = Utc::now().date_naive();
    let month_start = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    let summary = analytics::summary(
        &context.pool,
        month_start.min(today),
        today.max(month_start),
    )
    .await
    .expect("summary");
    assert_eq!(summary.orders_placed, 8);
    assert_eq!(summary.orders_paid, 5);
    // 12000 + 4500 + 1350 + 990 + 1500 + 499 + 3990 received; 990 + 1000 refunded.
    assert_eq!(summary.revenue.to_string(), "24829.00");
    assert_eq!(summary.refunds.to_string(), "1990.00");
    assert_eq!(summary.new_users, 7);
    assert_eq!(summary.tickets_opened, 2);
    assert_eq!(summary.tickets_resolved, 1);
    assert_eq!(
        summary.conversion_placed_to_paid.map(|c| c.to_string()),
        Some("0.625".to_owned())
    );
    assert_eq!((summary.paying_customers, summary.repeat_customers), (3, 3));
    let (tier, total): (String, rust_decimal::Decimal) =
        sqlx::query_as("SELECT loyalty_tier, total_paid FROM rm_user_spending WHERE user_id = $1")
            .bind(people::C1)
            .fetch_one(&context.pool)
            .await
            .expect("spending");
    assert_eq!(
        (tier.as_str(), total.to_string().as_str()),
        ("silver", "16340.00")
    );
}

#[test]
fn the_list_here_is_every_projection_the_workers_run() {
    let mut here: Vec<&str> = PROJECTIONS.iter().map(|(name, _)| *name).collect();
    let mut run: Vec<&str> = projections::ProjectionName::ALL
        .iter()
        .map(|name| name.as_str())
        .collect();
    here.sort_unstable();
    run.sort_unstable();
    assert_eq!(here, run);
}

#[tokio::test]
async fn business_read_models_after_a_scripted_week() {
    let context = TestContext::new().await;
    history::business(&context.pool).await;
    let app = spawn_app(context.settings(), Parts::ALL).await;
    wait_settled(&context).await;
    insta::assert_json_snapshot!("business_read_models", read_models(&context).await);
    check_figures(&context).await;
    let november = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("date");
    let receipts = projections::read_models::receipts::register(&context.pool, november)
        .await
        .expect("register");
    insta::assert_snapshot!(
        "receipts_register_2026_11",
        projections::read_models::receipts::to_csv(&receipts)
    );
    for (name, _) in PROJECTIONS {
        let status = projections::worker::status(&context.pool, name)
            .await
            .expect("status");
        assert_eq!(status.parked, 0, "{name} parked events");
    }
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn repeated_scrambled_and_withheld_events_give_the_same_business_read_models() {
    let context = TestContext::new().await;
    history::business(&context.pool).await;
    // Withheld: the coursework's payment (the 4th event of its order).
    let withheld = things::COURSEWORK_DONE.to_string();
    tests::redelivery::publish_twice_scrambled(&context, (&withheld, 4)).await;
    let js = jetstream_at(&context.nats_url).await;
    let app = spawn_app(context.settings(), Parts::ALL).await;
    wait_settled(&context).await;
    insta::assert_json_snapshot!("business_read_models", read_models(&context).await);
    check_figures(&context).await;
    app.stop().await;
    let _ = js.delete_stream(&context.stream.name).await;
    context.cleanup().await;
}

#[tokio::test]
async fn free_slots_leave_out_what_is_booked_and_refuse_bad_windows() {
    use chrono::TimeZone;
    use projections::read_models::bookings::{FreeSlotsError, free_slots};
    let context = TestContext::new().await;
    history::business(&context.pool).await;
    let at = |hour: u32, minute: u32| {
        Utc.with_ymd_and_hms(2026, 11, 27, hour, minute, 0)
            .single()
            .expect("time")
    };
    let hour = chrono::Duration::hours(1);
    let half_hour = chrono::Duration::minutes(30);
    // The master is booked 11:00–12:00 that day.
    let starts: Vec<String> = free_slots(
        &context.pool,
        people::MASTER,
        at(9, 0),
        at(13, 0),
        hour,
        half_hour,
    )
    .await
    .expect("slots")
    .iter()
    .map(|slot| slot.start.format("%H:%M").to_string())
    .collect();
    assert_eq!(starts, vec!["09:00", "09:30", "10:00", "12:00"]);
    let other_master = uuid::Uuid::from_u128(0xE3);
    let all = free_slots(
        &context.pool,
        other_master,
        at(9, 0),
        at(13, 0),
        hour,
        half_hour,
    )
    .await
    .expect("slots");
    assert_eq!(all.len(), 7);
    assert!(matches!(
        free_slots(
            &context.pool,
            people::MASTER,
            at(13, 0),
            at(9, 0),
            hour,
            half_hour
        )
        .await,
        Err(FreeSlotsError::BadWindow)
    ));
    assert!(matches!(
        free_slots(
            &context.pool,
            people::MASTER,
            at(9, 0),
            at(13, 0),
            chrono::Duration::zero(),
            half_hour
        )
        .await,
        Err(FreeSlotsError::BadDuration)
    ));
    context.cleanup().await;
}

#[tokio::test]
async fn three_worker_processes_one_killed_mid_run_give_the_same_business_read_models() {
    use tests::app::LedgerbotProcess;
    let context = TestContext::new().await;
    history::business(&context.pool).await;
    let mut env = context.env();
    // No timed jobs during the test: they would add reminders as of the real clock.
    env.push(("LEDGERBOT_SCHEDULER_INTERVAL_SECS".into(), "3600".into()));
    let mut workers = Vec::new();
    for _ in 0..3 {
        workers.push(LedgerbotProcess::start(&["workers"], &env).await);
    }
    let relay = spawn_app(context.settings(), Parts::RELAY_ONLY).await;
    // SIGKILL one instance as soon as anything was applied; its unacknowledged
    // messages go to the others once their ack wait passes.
    assert!(
        eventually(Duration::from_secs(30), || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM projection_checkpoints")
                .fetch_one(&context.pool)
                .await
                .is_ok_and(|count| count > 0)
        })
        .await
    );
    workers.remove(0).kill().await;
    workers.push(LedgerbotProcess::start(&["workers"], &env).await);
    wait_settled(&context).await;
    insta::assert_json_snapshot!("business_read_models", read_models(&context).await);
    check_figures(&context).await;
    for worker in workers {
        worker.terminate().await;
    }
    relay.stop().await;
    let js = jetstream_at(&context.nats_url).await;
    let _ = js.delete_stream(&context.stream.name).await;
    context.cleanup().await;
}
