//! A large event store written straight into `events` (no commands, no triggers), for
//! tests and benchmarks of what must not slow down as history grows. The tables are
//! left never analyzed, as on a fresh deployment with autovacuum off, so the planner
//! has nothing but the tables' sizes to go on. (The events' hashes are stand-ins, not a
//! chain: `replay verify` is not for this store.)

use sqlx::PgPool;

/// How many `Payment` aggregates `fill` writes per customer, and so on: one event in
/// five is a payment's; each payment's first event is its `PaymentCreated` (naming a
/// customer `customer-<n>` and an order `order-<n>`), its second a `PaymentSucceeded`.
pub const CUSTOMERS: i64 = 1_000;

/// Writes `events` events (five aggregate types, twenty events per aggregate) and
/// leaves the newest `pending` of them in the outbox, as if the relay had not yet
/// published them (the others' outbox rows deleted and not vacuumed). Autovacuum is
/// switched off for both tables so they stay never analyzed (and never vacuumed) for
/// as long as the test runs.
pub async fn fill(pool: &PgPool, events: i64, pending: i64) -> Result<(), sqlx::Error> {
    let mut connection = pool.acquire().await?;
    for statement in [
        "ALTER TABLE events SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)",
        "ALTER TABLE outbox SET (autovacuum_enabled = false)",
        "ALTER TABLE events DISABLE TRIGGER USER",
    ] {
        sqlx::query(statement).execute(&mut *connection).await?;
    }
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, hash) \
         SELECT kind, 'aggregate-' || (n / 20), n % 20, \
                CASE WHEN kind <> 'Payment' THEN 'SomethingRecorded' \
                     WHEN n % 20 = 0 THEN 'PaymentCreated' \
                     WHEN n % 20 = 1 THEN 'PaymentSucceeded' ELSE 'PaymentNoted' END, \
                '1.0', \
                CASE WHEN kind <> 'Payment' THEN json_build_object('SomethingRecorded', json_build_object('n', i, 'note', repeat('x', 120))) \
                     WHEN n % 20 = 0 THEN json_build_object('PaymentCreated', json_build_object( \
                          'payer_user_id', 'customer-' || (n / 20) % $2, \
                          'purpose', json_build_object('kind', 'order', 'order_id', 'order-' || (n / 20)), \
                          'amount', '100.00')) \
                     WHEN n % 20 = 1 THEN json_build_object('PaymentSucceeded', json_build_object('amount', '100.00')) \
                     ELSE json_build_object('PaymentNoted', json_build_object('n', i)) END, \
                '{}'::json, sha256(int8send(i)) \
         FROM (SELECT i, i / 5 AS n, \
                      (ARRAY['Payment', 'Order', 'CreditAccount', 'Ticket', 'User'])[i % 5 + 1] AS kind \
               FROM generate_series(0, $1 - 1) AS i) s",
    )
    .bind(events)
    .bind(CUSTOMERS)
    .execute(&mut *connection)
    .await?;
    sqlx::query("ALTER TABLE events ENABLE TRIGGER USER")
        .execute(&mut *connection)
        .await?;
    // Every event went through the outbox and all but the newest `pending` were
    // published and deleted, with no vacuum since (autovacuum off): the outbox's
    // table and key hold a dead row for every published event, as they do between
    // vacuums of a busy store.
    sqlx::query(
        "INSERT INTO outbox (global_position, aggregate_type, aggregate_id, sequence, recorded_at) \
         SELECT global_position, aggregate_type, aggregate_id, sequence, recorded_at FROM events",
    )
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "DELETE FROM outbox WHERE global_position <= (SELECT max(global_position) FROM events) - $1",
    )
    .bind(pending)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// The global position just below the outbox's oldest event: where a relay that has
/// published everything older would read from.
pub async fn relay_position(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let oldest: Option<i64> = sqlx::query_scalar("SELECT min(global_position) FROM outbox")
        .fetch_one(pool)
        .await?;
    Ok(oldest.map_or(0, |oldest| oldest - 1))
}
