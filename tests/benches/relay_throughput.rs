//! Relay throughput: 100,000 events from the outbox to acknowledged JetStream
//! publishes, printed next to raw JetStream publishing of the same messages measured
//! in the same run (pipelined, and one ack at a time).
//!
//! Run: `cargo bench -p tests --bench relay_throughput` (servers as for the tests).
//! Set `LEDGERBOT_BENCH_EVENTS` to change the count.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use projections::envelope::{EVENT_COLUMNS, StoredEvent};
use projections::relay::{Relay, RelayMetrics, RelaySettings};
use projections::{EventEnvelope, StreamSettings};
use tests::{TestContext, events, stream};

const AGGREGATES: i64 = 1_000;

#[tokio::main]
async fn main() {
    let total: i64 = tests::bench_setting("LEDGERBOT_BENCH_EVENTS", 100_000) as i64;
    let per_aggregate = (total / AGGREGATES).max(1);
    let total = per_aggregate * AGGREGATES;
    let context = TestContext::new().await;
    let jetstream = stream::jetstream_at(&context.nats_url).await;

    events::append_backlog(&context.pool, "Bench", AGGREGATES, per_aggregate).await;
    let messages = load_envelopes(&context).await;
    println!("relay throughput benchmark: {total} events over {AGGREGATES} aggregates");
    println!("{:<44} {:>10} {:>12}", "what", "seconds", "msgs/s");

    // Raw baselines, each into a stream of its own.
    let raw = stream_for(&context, "RAW");
    raw.ensure(&jetstream).await.expect("raw stream");
    let elapsed = publish_pipelined(&jetstream, &raw, &messages).await;
    report("raw JetStream publish, pipelined", total, elapsed);

    let one_by_one_count = (total as usize).min(10_000);
    let single = stream_for(&context, "ONE");
    single.ensure(&jetstream).await.expect("one-by-one stream");
    let elapsed = publish_one_at_a_time(&jetstream, &single, &messages[..one_by_one_count]).await;
    report(
        "raw JetStream publish, one ack at a time",
        one_by_one_count as i64,
        elapsed,
    );

    // The relay, from a full outbox to an empty one (rows leave only after their ack).
    let client = async_nats::connect(&context.nats_url).await.expect("NATS");
    let metrics = RelayMetrics::default();
    let relay = Relay::new(
        context.pool.clone(),
        client,
        context.stream.clone(),
        RelaySettings::default(),
        metrics.clone(),
    );
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(relay.run(shutdown.clone()));
    while context.outbox_depth().await > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();
    shutdown.cancel();
    task.await.expect("relay task");
    report("Ledgerbot relay, outbox -> acked publish", total, elapsed);
    let stored = stream::message_count(&jetstream, &context.stream).await;
    assert_eq!(stored, total as u64, "every event reached the stream once");
    println!(
        "relay published {} events, {} duplicates",
        metrics.events_published.get(),
        metrics.duplicates_suppressed.get()
    );

    let _ = jetstream.delete_stream(&raw.name).await;
    let _ = jetstream.delete_stream(&single.name).await;
    context.cleanup().await;
}

fn stream_for(context: &TestContext, suffix: &str) -> StreamSettings {
    StreamSettings {
        name: format!("{}_{suffix}", context.stream.name),
        subject_prefix: format!("{}{}", context.stream.subject_prefix, suffix.to_lowercase()),
        duplicate_window: Duration::from_secs(120),
        replicas: 1,
    }
}

fn report(what: &str, count: i64, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    println!(
        "{what:<44} {seconds:>10.3} {:>12.0}",
        count as f64 / seconds
    );
}

/// What the relay will publish for each event: the subject below the prefix
/// (`Type.id`), the message id and the body.
struct Message {
    subject_tail: String,
    message_id: String,
    body: Bytes,
}

async fn load_envelopes(context: &TestContext) -> Vec<Message> {
    let rows: Vec<StoredEvent> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM events ORDER BY global_position"
    ))
    .fetch_all(&context.pool)
    .await
    .expect("events load");
    let prefix_length = context.stream.subject_prefix.len() + 1;
    rows.into_iter()
        .map(|row| {
            let envelope = EventEnvelope::from(row);
            let subject = context
                .stream
                .subject_for(&envelope.aggregate_type, &envelope.aggregate_id);
            Message {
                subject_tail: subject[prefix_length..].to_owned(),
                message_id: envelope.message_id(),
                body: Bytes::from(serde_json::to_vec(&envelope).expect("encodes")),
            }
        })
        .collect()
}

fn publication(target: &StreamSettings, message: &Message) -> (String, PublishMessage) {
    (
        format!("{}.{}", target.subject_prefix, message.subject_tail),
        PublishMessage::build()
            .payload(message.body.clone())
            .message_id(message.message_id.as_str()),
    )
}

async fn publish_pipelined(
    jetstream: &jetstream::Context,
    target: &StreamSettings,
    messages: &[Message],
) -> Duration {
    // async-nats allows 5,000 unawaited acks by default and then makes the next
    // publish wait, so keep a window of outstanding acks below that.
    const WINDOW: usize = 1_024;
    let started = Instant::now();
    let mut acks: VecDeque<PublishAckFuture> = VecDeque::with_capacity(WINDOW);
    for message in messages {
        if acks.len() == WINDOW
            && let Some(ack) = acks.pop_front()
        {
            ack.await.expect("ack");
        }
        let (subject, publish) = publication(target, message);
        acks.push_back(
            jetstream
                .send_publish(subject, publish)
                .await
                .expect("publish"),
        );
    }
    for ack in acks {
        ack.await.expect("ack");
    }
    started.elapsed()
}

async fn publish_one_at_a_time(
    jetstream: &jetstream::Context,
    target: &StreamSettings,
    messages: &[Message],
) -> Duration {
    let started = Instant::now();
    for message in messages {
        let (subject, publish) = publication(target, message);
        jetstream
            .send_publish(subject, publish)
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    started.elapsed()
}
