//! The projection worker runtime.
//!
//! Each projection is a durable JetStream consumer on the event stream. A worker
//! pulls messages in batches and applies a batch in one Postgres transaction that
//! also moves each aggregate's checkpoint ("applied up to sequence N"), so:
//! - a redelivered event (sequence ≤ N) is skipped;
//! - an event beyond N + 1 first has the missing ones read from the event store
//!   (the store is the truth, NATS only a carrier);
//! - a crash never leaves part of a batch applied (the transaction rolls back and
//!   the unacknowledged messages come again).
//!
//! Checkpoint rows are locked in a fixed order, so any number of instances of one
//! worker, on any machines, share the consumer and give the same result.
//!
//! A failure is either permanent or transient ([`ApplyError::is_permanent`]). An
//! event that can never apply (undecodable, a permanent refusal, a bug) is parked in
//! `projection_parked` at once, and the checkpoint moves past it so neither its
//! aggregate nor any other is blocked. Anything else (the store, NATS or an outside
//! service unavailable, a timeout, a conflict) is tried again with exponential backoff
//! and no limit; the aggregate's later events wait behind it (they need it first, as
//! a gap), other aggregates flow. Held-back aggregates are in `projection_retrying`
//! (the admin status), the metrics, and a warning a minute in the log.

mod apply;
mod checkpoint;
mod inline;
mod metrics;
pub mod parked;
mod projection;
pub mod retrying;
mod store;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

pub use checkpoint::{ProjectionStatus, status};
pub use inline::InlineReadModel;
pub use metrics::ProjectionMetrics;
pub use projection::{
    ApplyError, ApplyFuture, HOLD_PROJECTION_LOCK, Projection, Rebuildable, SHARE_PROJECTION_LOCK,
    is_transient,
};
pub use retrying::Retrying;
pub use store::events_between;

use crate::envelope::EventEnvelope;
use crate::stream::StreamSettings;
use apply::Failure;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// Most messages applied in one transaction.
    pub batch_size: usize,
    /// How long a batch may wait for more messages after its first one arrived
    /// (bounds the lag a batch adds under a steady trickle).
    pub batch_linger: Duration,
    /// The pause before a transiently failing event is tried again the first time;
    /// it doubles with every delivery.
    pub first_retry_delay: Duration,
    /// The longest pause between tries of a transiently failing event.
    pub max_retry_delay: Duration,
    /// How long a pulled message may stay unacknowledged (a crashed instance's
    /// messages go to the others after this).
    pub ack_wait: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            batch_size: 1_000,
            batch_linger: Duration::from_millis(2),
            first_retry_delay: Duration::from_millis(200),
            max_retry_delay: Duration::from_secs(30),
            ack_wait: Duration::from_secs(30),
        }
    }
}

pub struct Worker<P: Projection + ?Sized> {
    pool: PgPool,
    jetstream: jetstream::Context,
    stream: StreamSettings,
    projection: Arc<P>,
    settings: WorkerSettings,
    metrics: ProjectionMetrics,
    held_back: retrying::HeldBack,
}

/// One message with what could be read of it.
struct Delivery {
    message: jetstream::Message,
    event: Result<EventEnvelope, String>,
}

/// Pauses between attempts to reach NATS again.
const NATS_FIRST_PAUSE: Duration = Duration::from_millis(100);
const NATS_LONGEST_PAUSE: Duration = Duration::from_secs(5);

impl<P: Projection + ?Sized> Worker<P> {
    pub fn new(
        pool: PgPool,
        nats: async_nats::Client,
        stream: StreamSettings,
        projection: Arc<P>,
        settings: WorkerSettings,
        metrics: ProjectionMetrics,
    ) -> Self {
        Self {
            pool,
            jetstream: jetstream::new(nats),
            stream,
            projection,
            settings,
            metrics,
            held_back: retrying::HeldBack::default(),
        }
    }

    /// Consumes until `shutdown`; the batch in hand is finished first.
    pub async fn run(self, shutdown: CancellationToken) {
        let name = self.projection.name();
        let mut lost = 0;
        while !shutdown.is_cancelled() {
            match self.consume(&shutdown).await {
                Ok(()) => break,
                Err(error) => {
                    warn!(projection = name, %error, "projection worker lost NATS; retrying");
                    lost += 1;
                    let pause = retrying::backoff(lost, NATS_FIRST_PAUSE, NATS_LONGEST_PAUSE);
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
        info!(projection = name, "projection worker stopped");
    }

    fn filter_subject(&self) -> String {
        match self.projection.aggregate_types() {
            [only] => self.stream.aggregate_type_subjects(only),
            _ => self.stream.all_subjects(),
        }
    }

    async fn consume(&self, shutdown: &CancellationToken) -> Result<(), async_nats::Error> {
        self.stream.ensure(&self.jetstream).await?;
        let name = self.projection.name();
        let stream = self.jetstream.get_stream(&self.stream.name).await?;
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                name,
                pull::Config {
                    durable_name: Some(name.to_owned()),
                    deliver_policy: DeliverPolicy::All,
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: self.settings.ack_wait,
                    max_ack_pending: 20_000,
                    filter_subject: self.filter_subject(),
                    ..pull::Config::default()
                },
            )
            .await?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(self.settings.batch_size)
            .heartbeat(Duration::from_secs(5))
            .expires(Duration::from_secs(30))
            .messages()
            .await?;
        info!(projection = name, "projection worker consuming");
        loop {
            let first = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                next = messages.next() => next,
            };
            let Some(first) = first else {
                return Err("the consumer's message stream ended".into());
            };
            let mut batch = vec![first?];
            let deadline = tokio::time::Instant::now() + self.settings.batch_linger;
            while batch.len() < self.settings.batch_size {
                match tokio::time::timeout_at(deadline, messages.next()).await {
                    Ok(Some(Ok(message))) => batch.push(message),
                    Ok(Some(Err(error))) => {
                        warn!(projection = name, %error, "a message could not be pulled");
                        break;
                    }
                    _ => break,
                }
            }
            self.process(batch).await;
        }
    }

    async fn process(&self, batch: Vec<jetstream::Message>) {
        let name = self.projection.name();
        let types = self.projection.aggregate_types();
        let mut relevant = Vec::with_capacity(batch.len());
        for message in batch {
            let event = serde_json::from_slice::<EventEnvelope>(&message.payload)
                .map_err(|error| error.to_string());
            match &event {
                Ok(event) if !types.contains(&event.aggregate_type.as_str()) => {
                    acknowledge(&message, AckKind::Ack).await;
                }
                _ => relevant.push(Delivery { message, event }),
            }
        }
        if relevant.is_empty() {
            return;
        }
        let decoded: Vec<&EventEnvelope> = relevant
            .iter()
            .filter_map(|delivery| delivery.event.as_ref().ok())
            .collect();
        if decoded.len() == relevant.len() {
            match apply::apply_all(&self.pool, self.projection.as_ref(), &decoded, false).await {
                Ok(applied) => {
                    self.count(applied, decoded.last().map(|event| event.recorded_at));
                    if self.held_back.any() {
                        let keys: Vec<(String, String)> =
                            decoded.iter().map(|event| key_of(event)).collect();
                        self.applied(keys.iter());
                    }
                    for delivery in &relevant {
                        acknowledge(&delivery.message, AckKind::Ack).await;
                    }
                    return;
                }
                Err(Failure {
                    error: ApplyError::Database(error),
                    ..
                }) if domain::event_store::is_connection_lost(&error) => {
                    // The store is gone: trying each event on its own would only wait
                    // out the pool again and again. The whole batch comes back later.
                    let delivered = relevant
                        .iter()
                        .filter_map(|delivery| delivery.message.info().ok())
                        .map(|info| info.delivered)
                        .min()
                        .unwrap_or(1);
                    let pause = retrying::backoff(
                        delivered,
                        self.settings.first_retry_delay,
                        self.settings.max_retry_delay,
                    );
                    warn!(projection = name, %error, ?pause, "the store cannot be reached; the batch waits");
                    for delivery in &relevant {
                        acknowledge(&delivery.message, AckKind::Nak(Some(pause))).await;
                    }
                    tokio::time::sleep(pause).await;
                    return;
                }
                Err(failure) => {
                    warn!(projection = name, error = %failure.error, "a batch failed; applying its events one by one");
                }
            }
        }
        for delivery in relevant {
            self.process_one(delivery).await;
        }
    }

    /// One message on its own: applied, parked (it can never apply), or tried again
    /// later (it may). When an event of a gap before it fails for good, that event is
    /// parked and this one comes again at once.
    async fn process_one(&self, delivery: Delivery) {
        let name = self.projection.name();
        let outcome = match &delivery.event {
            Ok(event) => {
                apply::apply_all(&self.pool, self.projection.as_ref(), &[event], true).await
            }
            Err(reason) => Err(Failure::from(ApplyError::Decode(reason.clone()))),
        };
        let Failure { error, at } = match outcome {
            Ok(applied) => {
                if let Ok(event) = &delivery.event {
                    self.count(applied, Some(event.recorded_at));
                    self.applied([&key_of(event)]);
                }
                acknowledge(&delivery.message, AckKind::Ack).await;
                return;
            }
            Err(failure) => failure,
        };
        let failed_at = at.unwrap_or_else(|| self.position_of(&delivery));
        if !error.is_permanent() {
            self.retry_later(&delivery, &failed_at, &error).await;
            return;
        }
        let (key, sequence) = &failed_at;
        match checkpoint::park(
            &self.pool,
            name,
            &key.0,
            &key.1,
            *sequence,
            &error.to_string(),
        )
        .await
        {
            Ok(()) => {
                error!(projection = name, aggregate = %key.1, sequence, %error, "an event that can never apply was parked");
                self.metrics.parked(name).inc();
                self.applied([key]);
                let delivered_sequence = self.position_of(&delivery).1;
                if *sequence < delivered_sequence {
                    // It was a gap's event: the delivered one may apply now.
                    acknowledge(&delivery.message, AckKind::Nak(None)).await;
                } else {
                    acknowledge(&delivery.message, AckKind::Ack).await;
                }
            }
            Err(park_error) => {
                warn!(projection = name, %park_error, "cannot park an event; it will come again");
                self.retry_later(&delivery, &failed_at, &error).await;
            }
        }
    }

    /// The aggregate and sequence a message carries.
    fn position_of(&self, delivery: &Delivery) -> ((String, String), i64) {
        match &delivery.event {
            Ok(event) => (key_of(event), event.sequence),
            Err(_) => {
                let (aggregate_type, aggregate_id, sequence) = message_key(&delivery.message);
                ((aggregate_type, aggregate_id), sequence)
            }
        }
    }

    /// A transient failure: the event comes again after a pause that doubles with
    /// every delivery, without a limit; the aggregate is held back until then.
    async fn retry_later(
        &self,
        delivery: &Delivery,
        failed_at: &((String, String), i64),
        error: &ApplyError,
    ) {
        let name = self.projection.name();
        let delivered = delivery
            .message
            .info()
            .map(|info| info.delivered)
            .unwrap_or(1);
        let pause = retrying::backoff(
            delivered,
            self.settings.first_retry_delay,
            self.settings.max_retry_delay,
        );
        let (key, sequence) = failed_at;
        let (held_back, warning) = self.held_back.failed(key);
        self.metrics.retrying(name).set(held_back as i64);
        if let Some(oldest) = warning {
            warn!(
                projection = name,
                held_back,
                oldest_seconds = oldest.as_secs(),
                %error,
                "events keep failing for a reason that may pass; their aggregates are held back and tried again"
            );
        } else {
            debug!(projection = name, %error, delivered, ?pause, "an event failed; it will come again");
        }
        let message = error.to_string();
        if let Err(record_error) =
            retrying::record_failure(&self.pool, name, key, *sequence, &message).await
        {
            // The store is likely what failed; the warning a minute says it.
            debug!(projection = name, %record_error, "cannot record a failed try");
        }
        acknowledge(&delivery.message, AckKind::Nak(Some(pause))).await;
    }

    /// Aggregates whose events applied are no longer held back.
    fn applied<'k>(&self, keys: impl IntoIterator<Item = &'k (String, String)>) {
        let held_back = self.held_back.applied(keys);
        self.metrics
            .retrying(self.projection.name())
            .set(held_back as i64);
    }

    fn count(&self, applied: u64, last_recorded_at: Option<DateTime<Utc>>) {
        let name = self.projection.name();
        self.metrics.applied(name).inc_by(applied);
        if let Some(recorded_at) = last_recorded_at {
            let lag = (Utc::now() - recorded_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
            self.metrics.lag(name).set(lag.max(0.0));
        }
    }
}

fn key_of(event: &EventEnvelope) -> (String, String) {
    (event.aggregate_type.clone(), event.aggregate_id.clone())
}

/// The aggregate and sequence of an undecodable message, from its `Nats-Msg-Id`.
fn message_key(message: &jetstream::Message) -> (String, String, i64) {
    let id = message
        .headers
        .as_ref()
        .and_then(|headers| headers.get("Nats-Msg-Id"))
        .map(|value| value.as_str().to_owned())
        .unwrap_or_default();
    let mut parts = id.rsplitn(2, ':');
    let sequence = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let rest = parts.next().unwrap_or_default();
    let (aggregate_type, aggregate_id) = rest.split_once(':').unwrap_or(("unknown", rest));
    (aggregate_type.to_owned(), aggregate_id.to_owned(), sequence)
}

async fn acknowledge(message: &jetstream::Message, kind: AckKind) {
    if let Err(error) = message.ack_with(kind).await {
        // An unacknowledged message comes again; the checkpoint makes that harmless.
        debug!(%error, "acknowledgement failed");
    }
}
