//! Publishing a batch of events to JetStream, pipelined.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;

use crate::envelope::EventEnvelope;
use crate::stream::{StreamError, StreamSettings};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error("cannot encode event {message_id}: {source}")]
    Encode {
        message_id: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("publishing event {message_id} failed: {source}")]
    Publish {
        message_id: String,
        #[source]
        source: jetstream::context::PublishError,
    },
    #[error("NATS is not connected (state: {0})")]
    NotConnected(String),
}

/// What happened to a published batch: how many events at its front were
/// acknowledged (in order), and the first failure that stopped it, if any.
pub struct BatchOutcome {
    pub acknowledged: usize,
    pub duplicates: u64,
    pub failure: Option<PublishError>,
}

pub struct EventPublisher {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    stream: StreamSettings,
}

impl EventPublisher {
    pub fn new(client: async_nats::Client, stream: StreamSettings, ack_timeout: Duration) -> Self {
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(ack_timeout)
            .build(client.clone());
        Self {
            client,
            jetstream,
            stream,
        }
    }

    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    pub fn connection_state(&self) -> String {
        self.client.connection_state().to_string()
    }

    pub async fn ensure_stream(&self) -> Result<(), PublishError> {
        Ok(self.stream.ensure(&self.jetstream).await?)
    }

    /// Sends every event of the batch without waiting, then awaits the acks in order.
    /// Stops at the first failure: the events from there on stay in the outbox and
    /// are published again (JetStream drops the ones it already has by message id).
    pub async fn publish(&self, batch: &[EventEnvelope]) -> BatchOutcome {
        let mut pending: Vec<(String, PublishAckFuture)> = Vec::with_capacity(batch.len());
        let mut failure = None;
        for event in batch {
            match self.send(event).await {
                Ok(in_flight) => pending.push(in_flight),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        let mut acknowledged = 0;
        let mut duplicates = 0;
        for (message_id, ack) in pending {
            match ack.await {
                Ok(ack) => {
                    acknowledged += 1;
                    duplicates += u64::from(ack.duplicate);
                }
                Err(source) => {
                    failure = Some(PublishError::Publish { message_id, source });
                    break;
                }
            }
        }
        BatchOutcome {
            acknowledged,
            duplicates,
            failure,
        }
    }

    async fn send(
        &self,
        event: &EventEnvelope,
    ) -> Result<(String, PublishAckFuture), PublishError> {
        let message_id = event.message_id();
        let body = match serde_json::to_vec(event) {
            Ok(body) => Bytes::from(body),
            Err(source) => return Err(PublishError::Encode { message_id, source }),
        };
        let subject = self
            .stream
            .subject_for(&event.aggregate_type, &event.aggregate_id);
        let message = PublishMessage::build()
            .payload(body)
            .message_id(message_id.as_str());
        match self.jetstream.send_publish(subject, message).await {
            Ok(ack) => Ok((message_id, ack)),
            Err(source) => Err(PublishError::Publish { message_id, source }),
        }
    }
}
