//! Reading back what reached a test's JetStream stream.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use futures_util::StreamExt;

use projections::{EventEnvelope, StreamSettings};

/// One message as stored in the stream.
#[derive(Debug, Clone)]
pub struct Received {
    pub stream_sequence: u64,
    pub subject: String,
    pub message_id: Option<String>,
    pub event: EventEnvelope,
}

pub async fn jetstream_at(nats_url: &str) -> jetstream::Context {
    let client = async_nats::connect(nats_url)
        .await
        .expect("the test's NATS server answers");
    jetstream::new(client)
}

/// Messages stored in the stream right now (0 when it does not exist yet).
pub async fn message_count(jetstream: &jetstream::Context, stream: &StreamSettings) -> u64 {
    match jetstream.get_stream(&stream.name).await {
        Ok(mut handle) => handle
            .info()
            .await
            .map(|info| info.state.messages)
            .unwrap_or(0),
        Err(_) => 0,
    }
}

/// Reads the stream from its start until `expected` messages have arrived or `limit`
/// passes, and returns what arrived, in stream order.
pub async fn read_all(
    jetstream: &jetstream::Context,
    stream: &StreamSettings,
    expected: usize,
    limit: Duration,
) -> Vec<Received> {
    let deadline = tokio::time::Instant::now() + limit;
    let handle = loop {
        match jetstream.get_stream(&stream.name).await {
            Ok(handle) => break handle,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("stream {} never appeared: {error}", stream.name),
        }
    };
    let consumer = handle
        .create_consumer(pull::Config {
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::None,
            ..pull::Config::default()
        })
        .await
        .expect("an ephemeral consumer can be created");
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(1_000)
        .messages()
        .await
        .expect("the consumer delivers");
    let mut received = Vec::with_capacity(expected);
    while received.len() < expected {
        let next = tokio::time::timeout_at(deadline, messages.next()).await;
        let Ok(Some(message)) = next else { break };
        let message = message.expect("a message arrives intact");
        let info = message.info().expect("a JetStream message has metadata");
        let event: EventEnvelope =
            serde_json::from_slice(&message.payload).expect("the body is an event envelope");
        received.push(Received {
            stream_sequence: info.stream_sequence,
            subject: message.subject.to_string(),
            message_id: message
                .headers
                .as_ref()
                .and_then(|headers| headers.get("Nats-Msg-Id"))
                .map(|value| value.as_str().to_owned()),
            event,
        });
    }
    received
}

/// Panics unless every aggregate's events arrived exactly once each and in sequence
/// order 1, 2, 3, … . Returns the number of events seen per aggregate.
pub fn assert_each_aggregate_in_order(received: &[Received]) -> HashMap<(String, String), i64> {
    let mut last: HashMap<(String, String), i64> = HashMap::new();
    for message in received {
        let key = (
            message.event.aggregate_type.clone(),
            message.event.aggregate_id.clone(),
        );
        let previous = last.get(&key).copied().unwrap_or(0);
        assert_eq!(
            message.event.sequence,
            previous + 1,
            "aggregate {key:?}: sequence {} arrived after {previous} (stream sequence {})",
            message.event.sequence,
            message.stream_sequence
        );
        last.insert(key, message.event.sequence);
    }
    last
}
