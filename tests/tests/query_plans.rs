//! The queries the relay and the workers run on every pass or event must cost the same
//! however large the event store grows and whether or not the planner has statistics:
//! each is planned here against a million events never analyzed (a fresh deployment
//! with autovacuum off), and every access to `events` must go through an index.
//! (Before, the relay's outbox read was planned as a merge join that walked all of
//! `events` on every pass.)

use serde_json::Value;
use sqlx::PgPool;
use tests::TestContext;
use tests::big_store;

const STORED_EVENTS: i64 = 1_000_000;

/// How a plan reads `events`: one entry per plan node that names the table.
fn event_scans(plan: &Value, found: &mut Vec<String>) {
    if plan.get("Relation Name").and_then(Value::as_str) == Some("events") {
        let node = plan["Node Type"].as_str().unwrap_or("?");
        let index = plan.get("Index Name").and_then(Value::as_str).unwrap_or("");
        // An index walked end to end (no condition) is a walk of the table all the same.
        let bounded = plan.get("Index Cond").is_some() || plan.get("Recheck Cond").is_some();
        let walk = if bounded || node == "Seq Scan" {
            ""
        } else {
            " (unbounded)"
        };
        found.push(format!("{node} {index}{walk}").trim().to_owned());
    }
    for child in plan
        .get("Plans")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        event_scans(child, found);
    }
}

/// Plans `sql` with `binds` (all text or all bigint, as the query wants) and answers
/// how it reads `events`.
async fn plan_of(pool: &PgPool, sql: &str, binds: &[Bind<'_>]) -> Vec<String> {
    let explain = format!("EXPLAIN (FORMAT JSON) {sql}");
    let mut query = sqlx::query_scalar::<_, Value>(&explain);
    for bind in binds {
        query = match bind {
            Bind::Int(value) => query.bind(*value),
            Bind::Text(value) => query.bind(*value),
        };
    }
    let document = query.fetch_one(pool).await.expect("the query plans");
    let mut found = Vec::new();
    event_scans(&document[0]["Plan"], &mut found);
    found
}

enum Bind<'a> {
    Int(i64),
    Text(&'a str),
}

fn assert_indexed(what: &str, scans: &[String]) {
    assert!(!scans.is_empty(), "{what} reads events: {scans:?}");
    for scan in scans {
        assert!(
            !scan.ends_with("(unbounded)")
                && (scan.starts_with("Index Scan")
                    || scan.starts_with("Index Only Scan")
                    || scan.starts_with("Bitmap Heap Scan")),
            "{what} reads events by {scan}, not by an index (all: {scans:?})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_sized_queries_read_events_by_index_on_a_million_unanalyzed_events() {
    let context = TestContext::new().await;
    big_store::fill(&context.pool, STORED_EVENTS, 500)
        .await
        .expect("the store fills");
    let analyzed: (
        Option<chrono::DateTime<chrono::Utc>>,
        Option<chrono::DateTime<chrono::Utc>>,
    ) = sqlx::query_as(
        "SELECT last_analyze, last_autoanalyze FROM pg_stat_user_tables WHERE relname = 'events'",
    )
    .fetch_one(&context.pool)
    .await
    .expect("the table's statistics state");
    assert_eq!(analyzed, (None, None), "events was never analyzed");

    // The check itself catches a query that walks the table.
    let walking = plan_of(
        &context.pool,
        "SELECT count(*) FROM events WHERE event_version = $1",
        &[Bind::Text("1.0")],
    )
    .await;
    assert!(
        walking.iter().any(|scan| scan.starts_with("Seq Scan")),
        "an unindexed filter is seen as a walk of events: {walking:?}"
    );

    let after = big_store::relay_position(&context.pool)
        .await
        .expect("the relay's position");
    let relay = plan_of(
        &context.pool,
        projections::relay::outbox::PENDING_AFTER_SQL,
        &[Bind::Int(after), Bind::Int(500)],
    )
    .await;
    assert_indexed("the relay's outbox read", &relay);
    assert!(
        relay
            .iter()
            .all(|scan| scan.ends_with("events_global_position_key")),
        "the relay finds each event by its position: {relay:?}"
    );

    let paid = plan_of(
        &context.pool,
        projections::reactions::loyalty::PAID_BEFORE_SQL,
        &[Bind::Text("customer-7"), Bind::Int(STORED_EVENTS)],
    )
    .await;
    assert_indexed("the loyalty reaction's paid total", &paid);

    let earlier = plan_of(
        &context.pool,
        domain::use_cases::payments::EARLIER_PAYMENTS_SQL,
        &[Bind::Text("order-42"), Bind::Text("aggregate-0")],
    )
    .await;
    assert_indexed("a new payment's look for an open one", &earlier);

    // How aggregates are loaded (postgres-es) and how workers fill a gap.
    let load = plan_of(
        &context.pool,
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata \
         FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence",
        &[Bind::Text("Payment"), Bind::Text("aggregate-9")],
    )
    .await;
    assert_indexed("an aggregate's load", &load);

    // And they answer what they should on this data.
    let total: rust_decimal::Decimal =
        sqlx::query_scalar(projections::reactions::loyalty::PAID_BEFORE_SQL)
            .bind("customer-7")
            .bind(STORED_EVENTS)
            .fetch_one(&context.pool)
            .await
            .expect("the paid total");
    let payments: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'PaymentCreated' \
           AND payload -> 'PaymentCreated' ->> 'payer_user_id' = 'customer-7'",
    )
    .fetch_one(&context.pool)
    .await
    .expect("the customer's payments");
    assert!(payments > 0);
    assert_eq!(total, rust_decimal::Decimal::from(100 * payments));
    let mut connection = context.pool.acquire().await.expect("a connection");
    let pending = projections::relay::outbox::pending_after(&mut connection, after, 500)
        .await
        .expect("the outbox reads");
    assert_eq!(pending.events.len(), 500);
    assert_eq!(pending.at_or_before, 0);
    assert!(
        pending
            .events
            .windows(2)
            .all(|pair| pair[0].global_position < pair[1].global_position),
        "oldest first"
    );
    drop(connection);
    context.cleanup().await;
}
