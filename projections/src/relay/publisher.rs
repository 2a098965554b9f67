//! Publishing a batch of events to JetStream, pipelined.

use std::collections::VecDeque;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::context::PublishAckFuture;
use async_nats::jetstream::message::PublishMessage;

use super::outbox::PendingEvent;
use crate::stream::{StreamError, StreamSettings};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error("publishing event {message_id} failed: {source}")]
    Publish {
        message_id: String,
        #[source]
        source: jetstream::context::PublishError,
    },
    #[error("NATS is not connected (state: {0})")]
    NotConnected(String),
}

impl PublishError {
    /// True when publishing the same event again cannot succeed (it is too large for
    /// the server); such an event is parked instead of retried.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            PublishError::Publish { source, .. }
                if source.kind() == jetstream::context::PublishErrorKind::MaxPayloadExceeded
        )
    }
}

/// What happened to a published batch: how many events at its front were
/// acknowledged (in order), and the first failure that stopped it, if any.
pub struct BatchOutcome {
    pub acknowledged: usize,
    pub duplicates: u64,
    pub failure: Option<PublishError>,
}

/// Publishes sent but not yet acknowledged, at most. async-nats holds one permit per
/// unawaited ack future and (with backpressure) makes the next publish wait for a
/// free permit, so the window must stay below the context's capacity or the publisher
/// would wait on itself.
pub const MAX_IN_FLIGHT: usize = 1_024;

pub struct EventPublisher {
    client: async_nats::Client,
    jetstream: jetstream::Context,
    stream: StreamSettings,
}

impl EventPublisher {
    pub fn new(client: async_nats::Client, stream: StreamSettings, ack_timeout: Duration) -> Self {
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(ack_timeout)
            .ack_timeout(ack_timeout)
            .max_ack_inflight(MAX_IN_FLIGHT * 2)
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

    /// Sends the batch pipelined, keeping up to [`MAX_IN_FLIGHT`] publishes
    /// unacknowledged, and awaits the acks in order. Stops at the first failure: the
    /// events from there on stay in the outbox and are published again (JetStream
    /// drops the ones it already has by message id).
    pub async fn publish(&self, batch: &[PendingEvent]) -> BatchOutcome {
        let mut outcome = BatchOutcome {
            acknowledged: 0,
            duplicates: 0,
            failure: None,
        };
        let mut in_flight: VecDeque<(String, PublishAckFuture)> =
            VecDeque::with_capacity(MAX_IN_FLIGHT.min(batch.len()));
        let mut unsent = batch.iter();
        loop {
            while outcome.failure.is_none() && in_flight.len() < MAX_IN_FLIGHT {
                let Some(event) = unsent.next() else { break };
                match self.send(event).await {
                    Ok(publish) => in_flight.push_back(publish),
                    Err(error) => outcome.failure = Some(error),
                }
            }
            let Some((message_id, ack)) = in_flight.pop_front() else {
                break;
            };
            match ack.await {
                Ok(ack) => {
                    outcome.acknowledged += 1;
                    outcome.duplicates += u64::from(ack.duplicate);
                }
                Err(source) => {
                    outcome.failure = Some(PublishError::Publish { message_id, source });
                    break;
                }
            }
        }
        outcome
    }

    async fn send(&self, event: &PendingEvent) -> Result<(String, PublishAckFuture), PublishError> {
        let message_id = event.message_id();
        let subject = self
            .stream
            .subject_for(&event.aggregate_type, &event.aggregate_id);
        let message = PublishMessage::build()
            .payload(event.body.clone())
            .message_id(message_id.as_str());
        match self.jetstream.send_publish(subject, message).await {
            Ok(ack) => Ok((message_id, ack)),
            Err(source) => Err(PublishError::Publish { message_id, source }),
        }
    }
}
