//! A read-model row fed by several aggregates must not depend on the order the
//! workers applied them in (they apply different aggregates in any order; a rebuild
//! applies them in store order). Found by the fault drill: a customer's
//! `rm_user_spending.first_paid_at` and `updated_at` were those of whichever payment
//! was applied first and last, not the earliest and the latest.

use std::time::Duration;

use chrono::{DateTime, Utc};
use projections::envelope::{EVENT_COLUMNS, EventEnvelope, StoredEvent};
use projections::read_models::payments::Payments;
use projections::worker::Projection;
use serde_json::json;
use tests::TestContext;

const PAYER: &str = "0193a1b2-0000-7000-8000-000000000001";

async fn paid(context: &TestContext, payment: &str, amount: &str) {
    for (sequence, event_type, payload) in [
        (
            1,
            "PaymentCreated",
            json!({"PaymentCreated": {"purpose": {"kind": "credit_pack", "pack": "S", "credits": 100},
                   "amount": amount, "payer_kind": "individual", "payer_user_id": PAYER,
                   "idempotence_key": format!("key-{payment}")}}),
        ),
        (
            2,
            "PaymentSucceeded",
            json!({"PaymentSucceeded": {"provider_payment_id": format!("yk-{payment}"), "amount": amount,
                   "provider_fee": "1.00", "paid_at": chrono::Utc::now(), "after_cancellation": false}}),
        ),
    ] {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
             VALUES ('Payment', $1, $2, $3, '1.0', $4, '{}')",
        )
        .bind(payment)
        .bind(sequence)
        .bind(event_type)
        .bind(payload)
        .execute(&context.pool)
        .await
        .expect("the event is stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_customers_spending_is_the_same_whichever_payment_is_applied_first() {
    let context = TestContext::new().await;
    paid(&context, "0193a1b2-0000-7000-8000-0000000000a1", "100.00").await;
    paid(&context, "0193a1b2-0000-7000-8000-0000000000a2", "250.00").await;
    let stored: Vec<StoredEvent> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events ORDER BY global_position"
    ))
    .fetch_all(&context.pool)
    .await
    .expect("the store reads");
    let events: Vec<EventEnvelope> = stored.into_iter().map(EventEnvelope::from).collect();
    let projection = Payments::new(domain::programs::Programs::default());
    let spending = |events: Vec<EventEnvelope>| {
        let (pool, projection) = (context.pool.clone(), &projection);
        async move {
            sqlx::query("TRUNCATE rm_payments, rm_refunds, rm_user_spending")
                .execute(&pool)
                .await
                .expect("the read model empties");
            let mut connection = pool.acquire().await.expect("a connection");
            for event in &events {
                projection
                    .apply(&mut connection, event)
                    .await
                    .expect("the event applies");
            }
            sqlx::query_as::<_, (rust_decimal::Decimal, i32, Option<DateTime<Utc>>, DateTime<Utc>)>(
                "SELECT total_paid, payments, first_paid_at, updated_at FROM rm_user_spending WHERE user_id::text = $1",
            )
            .bind(PAYER)
            .fetch_one(&mut *connection)
            .await
            .expect("the customer's spending")
        }
    };
    // In store order, as a rebuild applies them.
    let in_order = spending(events.clone()).await;
    // The second payment's events first, as a worker may have them.
    let mut reordered = events;
    reordered.rotate_left(2);
    let out_of_order = spending(reordered).await;
    assert_eq!(in_order.0, rust_decimal::Decimal::new(35_000, 2));
    assert_eq!(in_order.1, 2);
    assert!(
        in_order.2 < Some(in_order.3),
        "the earliest payment first, the latest last"
    );
    assert_eq!(
        out_of_order, in_order,
        "the same row whichever payment came first"
    );
    context.cleanup().await;
}
