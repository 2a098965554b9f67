//! What a relay pass costs as the event store grows, on tables never analyzed and
//! never vacuumed (a deployment with autovacuum off; every published event's outbox
//! row deleted but still on disk): the outbox read (`PENDING_AFTER_SQL`, 500 pending
//! events) at 10,000 and at 1,000,000 stored events, next to the join the relay ran
//! before (planned without statistics as a walk of `events`) measured in the same run,
//! and again after a `VACUUM outbox` (what the relay now does itself); and the loyalty
//! reaction's paid total, with and without its index.
//!
//! Run: `cargo bench -p tests --bench history_growth` (servers as for the tests).
//! `LEDGERBOT_BENCH_PASSES` changes how many passes each figure is the median of.

use std::time::{Duration, Instant};

use sqlx::PgPool;
use tests::TestContext;
use tests::big_store;

const PENDING: i64 = 500;

/// The relay's outbox read as it was before: one join, which the planner may turn
/// into a merge join over the whole of `events`.
const JOIN_BEFORE: &str = "\
    SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version, \
           e.payload::text AS payload, e.metadata::text AS metadata, \
           e.global_position, e.recorded_at, \
           (SELECT count(*) FROM outbox WHERE global_position <= $1) AS at_or_before \
    FROM outbox o JOIN events e ON e.global_position = o.global_position \
    WHERE o.global_position > $1 \
    ORDER BY o.global_position \
    LIMIT $2";

/// The loyalty total as a join (before the lateral form), measured without the index
/// on a payment's payer (the bench drops it) to show what the index buys.
const PAID_BEFORE_WAS: &str = "\
    SELECT COALESCE(sum(CASE e.event_type \
              WHEN 'PaymentSucceeded' THEN (e.payload -> 'PaymentSucceeded' ->> 'amount')::numeric \
              ELSE -(e.payload -> 'RefundSucceeded' ->> 'amount')::numeric END), 0) \
    FROM events c \
    JOIN events e ON e.aggregate_type = 'Payment' AND e.aggregate_id = c.aggregate_id \
      AND e.event_type IN ('PaymentSucceeded', 'RefundSucceeded') AND e.global_position < $2 \
    WHERE c.event_type = 'PaymentCreated' AND c.payload -> 'PaymentCreated' ->> 'payer_user_id' = $1";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn relay_pass(pool: &PgPool, sql: &str, after: i64, passes: usize) -> Duration {
    let mut samples = Vec::with_capacity(passes);
    for _ in 0..passes {
        let started = Instant::now();
        let rows = sqlx::query(sql)
            .bind(after)
            .bind(PENDING)
            .fetch_all(pool)
            .await
            .expect("the outbox reads");
        assert_eq!(rows.len() as i64, PENDING);
        samples.push(started.elapsed());
    }
    median(samples)
}

async fn paid_total(pool: &PgPool, sql: &str, passes: usize) -> Duration {
    let mut samples = Vec::with_capacity(passes);
    for n in 0..passes {
        let started = Instant::now();
        let _: rust_decimal::Decimal = sqlx::query_scalar(sql)
            .bind(format!("customer-{}", n as i64 % big_store::CUSTOMERS))
            .bind(i64::MAX)
            .fetch_one(pool)
            .await
            .expect("the total reads");
        samples.push(started.elapsed());
    }
    median(samples)
}

#[tokio::main]
async fn main() {
    let passes = tests::bench_setting("LEDGERBOT_BENCH_PASSES", 20) as usize;
    println!(
        "median of {passes} passes; {PENDING} events pending in the outbox; tables never analyzed"
    );
    println!(
        "{:>10}  {:>14}  {:>14}  {:>16}  {:>14}  {:>16}",
        "events", "relay now", "relay before", "relay, vacuumed", "loyalty", "loyalty, no index"
    );
    for stored in [10_000_i64, 1_000_000] {
        let context = TestContext::new().await;
        let filling = Instant::now();
        big_store::fill(&context.pool, stored, PENDING)
            .await
            .expect("the store fills");
        let filled = filling.elapsed();
        let after = big_store::relay_position(&context.pool)
            .await
            .expect("the relay's position");
        let now = relay_pass(
            &context.pool,
            projections::relay::outbox::PENDING_AFTER_SQL,
            after,
            passes,
        )
        .await;
        let before = relay_pass(&context.pool, JOIN_BEFORE, after, passes).await;
        // What the relay's own vacuum of the outbox (every 20,000 published rows, or a
        // minute after any) leaves.
        sqlx::raw_sql("VACUUM outbox")
            .execute(&context.pool)
            .await
            .expect("the outbox vacuums");
        let vacuumed = relay_pass(
            &context.pool,
            projections::relay::outbox::PENDING_AFTER_SQL,
            after,
            passes,
        )
        .await;
        let loyalty_now = paid_total(
            &context.pool,
            projections::reactions::loyalty::PAID_BEFORE_SQL,
            passes,
        )
        .await;
        // Without the index on a payment's payer, for what it buys.
        sqlx::query("DROP INDEX events_payment_payer_idx")
            .execute(&context.pool)
            .await
            .expect("the indexes go");
        let loyalty_before = paid_total(&context.pool, PAID_BEFORE_WAS, passes.min(5)).await;
        println!(
            "{stored:>10}  {:>12.2}ms  {:>12.2}ms  {:>14.2}ms  {:>12.2}ms  {:>14.2}ms   (filled in {:.1} s)",
            now.as_secs_f64() * 1e3,
            before.as_secs_f64() * 1e3,
            vacuumed.as_secs_f64() * 1e3,
            loyalty_now.as_secs_f64() * 1e3,
            loyalty_before.as_secs_f64() * 1e3,
            filled.as_secs_f64()
        );
        context.cleanup().await;
    }
}
