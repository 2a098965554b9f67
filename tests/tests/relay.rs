//! The outbox relay over real Postgres and NATS: exactly-once arrival, order per
//! aggregate under concurrency, crash of the active relay, NATS outages.

use std::time::Duration;

use api::startup::Parts;
use futures_util::future::join_all;
use tests::app::{LedgerbotProcess, spawn_app};
use tests::nats_server::NatsServer;
use tests::stream::{assert_each_aggregate_in_order, jetstream_at, message_count, read_all};
use tests::{TestContext, events, eventually};

#[tokio::test]
async fn one_appended_event_arrives_exactly_once_with_subject_message_id_and_body() {
    let context = TestContext::new().await;
    let app = spawn_app(context.settings(), Parts::RELAY_ONLY).await;
    let mut connection = context.pool.acquire().await.expect("connection");
    events::insert(
        &mut connection,
        "Order",
        "0193a1b2-0000-7000-8000-00000000000a",
        1,
    )
    .await
    .expect("append");
    drop(connection);

    let jetstream = jetstream_at(&context.nats_url).await;
    let received = read_all(&jetstream, &context.stream, 1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(
        message.subject,
        format!(
            "{}.Order.0193a1b2-0000-7000-8000-00000000000a",
            context.stream.subject_prefix
        )
    );
    assert_eq!(
        message.message_id.as_deref(),
        Some("Order:0193a1b2-0000-7000-8000-00000000000a:1")
    );
    let (global_position, recorded_at): (i64, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT global_position, recorded_at FROM events")
            .fetch_one(&context.pool)
            .await
            .expect("the stored event");
    let event = &message.event;
    assert_eq!(event.aggregate_type, "Order");
    assert_eq!(event.sequence, 1);
    assert_eq!(event.event_type, "Ticked");
    assert_eq!(event.event_version, "1.0");
    assert_eq!(event.payload, serde_json::json!({"Ticked": {"n": 1}}));
    assert_eq!(event.metadata, serde_json::json!({"actor": "test"}));
    assert_eq!(event.global_position, global_position);
    assert_eq!(event.recorded_at, recorded_at);

    // Exactly once: nothing else shows up, and the outbox is empty.
    assert!(
        eventually(Duration::from_secs(5), || async {
            context.outbox_depth().await == 0
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(message_count(&jetstream, &context.stream).await, 1);
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn ten_thousand_events_from_twenty_writers_over_500_aggregates_arrive_in_order() {
    let context = TestContext::new().await;
    let app = spawn_app(context.settings(), Parts::RELAY_ONLY).await;
    let writers = (0..20u64).map(|writer| {
        let pool = context.pool.clone();
        tokio::spawn(async move {
            // Each writer appends 500 events, spread over all 500 aggregates so that
            // writers collide on the same aggregates and must retry.
            for step in 0..500u64 {
                let aggregate = (writer * 7919 + step * 31) % 500;
                events::append_next(&pool, "Order", &format!("order-{aggregate}")).await;
            }
        })
    });
    for writer in join_all(writers).await {
        writer.expect("writer finished");
    }
    let jetstream = jetstream_at(&context.nats_url).await;
    let received = read_all(
        &jetstream,
        &context.stream,
        10_000,
        Duration::from_secs(120),
    )
    .await;
    assert_eq!(received.len(), 10_000, "every event arrived");
    let per_aggregate = assert_each_aggregate_in_order(&received);
    assert_eq!(per_aggregate.len(), 500);
    assert_eq!(per_aggregate.values().sum::<i64>(), 10_000);
    assert!(
        eventually(Duration::from_secs(10), || async {
            context.outbox_depth().await == 0
        })
        .await
    );
    assert_eq!(
        message_count(&jetstream, &context.stream).await,
        10_000,
        "no duplicates"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn a_relay_killed_mid_stream_is_replaced_by_a_standby_without_loss_or_duplicates() {
    let context = TestContext::new().await;
    events::append_backlog(&context.pool, "Order", 200, 100).await;
    let mut env = context.env();
    env.push(("LEDGERBOT_RELAY_BATCH_SIZE".into(), "50".into()));
    let first = LedgerbotProcess::start(&["relay"], &env).await;
    let jetstream = jetstream_at(&context.nats_url).await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            message_count(&jetstream, &context.stream).await >= 1_000
        })
        .await,
        "the first relay makes progress"
    );
    let standby = LedgerbotProcess::start(&["relay"], &env).await;
    first.kill().await;
    let left_behind = context.outbox_depth().await;
    assert!(left_behind > 0, "the relay was killed mid-stream");

    assert!(
        eventually(Duration::from_secs(60), || async {
            context.outbox_depth().await == 0
        })
        .await,
        "the standby took over and drained the outbox"
    );
    let received = read_all(&jetstream, &context.stream, 20_000, Duration::from_secs(60)).await;
    assert_eq!(received.len(), 20_000);
    let per_aggregate = assert_each_aggregate_in_order(&received);
    assert!(per_aggregate.values().all(|&last| last == 100));
    assert_eq!(
        message_count(&jetstream, &context.stream).await,
        20_000,
        "duplicates were suppressed"
    );
    let status = standby.terminate().await;
    assert!(status.success(), "the standby stops cleanly: {status}");
    context.cleanup().await;
}

#[tokio::test]
async fn while_nats_is_down_appends_succeed_the_outbox_grows_and_then_drains_in_order() {
    let mut nats = NatsServer::start().await;
    let context = TestContext::with_nats(nats.url()).await;
    let app = spawn_app(context.settings(), Parts::RELAY_ONLY).await;
    let client = reqwest::Client::new();
    for aggregate in 0..10 {
        events::append_next(&context.pool, "Ticket", &format!("ticket-{aggregate}")).await;
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            context.outbox_depth().await == 0
        })
        .await
    );

    nats.stop().await;
    for round in 0..30 {
        for aggregate in 0..10 {
            let sequence =
                events::append_next(&context.pool, "Ticket", &format!("ticket-{aggregate}")).await;
            assert_eq!(sequence, round + 2, "appends keep working without NATS");
        }
    }
    assert_eq!(
        context.outbox_depth().await,
        300,
        "the outbox holds what NATS has not acknowledged"
    );
    let ready = client
        .get(app.url("/health/ready"))
        .send()
        .await
        .expect("ready answers");
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["checks"]["postgres"], "ok");
    assert_ne!(body["checks"]["nats"], "ok", "{body}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        context.outbox_depth().await,
        300,
        "nothing is dropped while NATS is away"
    );

    nats.resume().await;
    assert!(
        eventually(Duration::from_secs(60), || async {
            context.outbox_depth().await == 0
        })
        .await,
        "the outbox drains once NATS is back"
    );
    let jetstream = jetstream_at(&nats.url()).await;
    let received = read_all(&jetstream, &context.stream, 310, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 310);
    let per_aggregate = assert_each_aggregate_in_order(&received);
    assert!(per_aggregate.values().all(|&last| last == 31));
    assert_eq!(message_count(&jetstream, &context.stream).await, 310);
    assert!(
        eventually(Duration::from_secs(10), || async {
            let response = client.get(app.url("/health/ready")).send().await;
            response.is_ok_and(|response| response.status() == 200)
        })
        .await,
        "ready again once NATS is back"
    );
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn the_largest_batch_size_relays_a_backlog_larger_than_the_nats_in_flight_limit() {
    let context = TestContext::new().await;
    // 12,000 events: more than async-nats lets stay unacknowledged (5,000 by default).
    events::append_backlog(&context.pool, "Order", 120, 100).await;
    let mut settings = context.settings();
    settings.relay.batch_size = 10_000;
    let app = spawn_app(settings, Parts::RELAY_ONLY).await;
    assert!(
        eventually(Duration::from_secs(60), || async {
            context.outbox_depth().await == 0
        })
        .await,
        "the backlog drains"
    );
    let jetstream = jetstream_at(&context.nats_url).await;
    let received = read_all(&jetstream, &context.stream, 12_000, Duration::from_secs(30)).await;
    assert_eq!(received.len(), 12_000);
    assert_each_aggregate_in_order(&received);
    app.stop().await;
    context.cleanup().await;
}

#[tokio::test]
async fn an_event_nats_cannot_take_is_parked_and_the_others_flow_past_it() {
    let context = TestContext::new().await;
    let mut connection = context.pool.acquire().await.expect("connection");
    events::insert(&mut connection, "Order", "line\nbreak", 1)
        .await
        .expect("an id with a newline");
    // Larger than the NATS server's max_payload (1 MiB by default).
    let huge = serde_json::json!({ "Attached": { "blob": "x".repeat(1_500_000) } });
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
         VALUES ('Ticket', 'huge', 1, 'Attached', '1.0', $1, '{}')",
    )
    .bind(&huge)
    .execute(&mut *connection)
    .await
    .expect("the store takes it");
    events::insert(&mut connection, "Order", "line\nbreak", 2)
        .await
        .expect("append");
    drop(connection);

    let app = spawn_app(context.settings(), Parts::RELAY_ONLY).await;
    assert!(
        eventually(Duration::from_secs(20), || async {
            context.outbox_depth().await == 0
        })
        .await,
        "the outbox drains past the oversized event"
    );
    let parked: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT aggregate_id, sequence, error FROM outbox_parked")
            .fetch_all(&context.pool)
            .await
            .expect("parked rows");
    assert_eq!(parked.len(), 1);
    assert_eq!((parked[0].0.as_str(), parked[0].1), ("huge", 1));
    assert!(parked[0].2.contains("payload"), "{}", parked[0].2);

    let jetstream = jetstream_at(&context.nats_url).await;
    let received = read_all(&jetstream, &context.stream, 2, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].message_id.as_deref(),
        Some("Order:line%0Abreak:1")
    );
    assert_eq!(received[1].event.aggregate_id, "line\nbreak");
    assert_eq!(received[1].event.sequence, 2);
    assert_eq!(
        received[0].subject,
        format!("{}.Order.line%0Abreak", context.stream.subject_prefix)
    );

    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("ledgerbot_relay_events_parked_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("ledgerbot_outbox_parked 1"), "{metrics}");
    app.stop().await;
    context.cleanup().await;
}
