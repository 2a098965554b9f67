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

mod checkpoint;
mod metrics;
pub mod parked;
mod projection;
pub mod retrying;
mod store;

use std::collections::HashMap;
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
pub use metrics::ProjectionMetrics;
pub use projection::{ApplyError, ApplyFuture, Projection, is_transient};
pub use retrying::Retrying;

use crate::envelope::EventEnvelope;
use crate::stream::StreamSettings;

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

const MAX_BACKOFF: Duration = Duration::from_secs(5);

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
        let mut backoff = Duration::from_millis(100);
        while !shutdown.is_cancelled() {
            match self.consume(&shutdown).await {
                Ok(()) => break,
                Err(error) => {
                    warn!(projection = name, %error, "projection worker lost NATS; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
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
            match self.apply_all(&decoded).await {
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
                Err(error) => {
                    warn!(projection = name, %error, "a batch failed; applying its events one by one");
                }
            }
        }
        for delivery in relevant {
            self.process_one(delivery).await;
        }
    }

    /// One message on its own: applied, parked (it can never apply), or tried again
    /// later (it may).
    async fn process_one(&self, delivery: Delivery) {
        let name = self.projection.name();
        let outcome = match &delivery.event {
            Ok(event) => self.apply_all(&[event]).await,
            Err(reason) => Err(ApplyError::Decode(reason.clone())),
        };
        let error = match outcome {
            Ok(applied) => {
                if let Ok(event) = &delivery.event {
                    self.count(applied, Some(event.recorded_at));
                    self.applied([&key_of(event)]);
                }
                acknowledge(&delivery.message, AckKind::Ack).await;
                return;
            }
            Err(error) => error,
        };
        if !error.is_permanent() {
            self.retry_later(&delivery, &error).await;
            return;
        }
        match self.park(&delivery, &error).await {
            Ok(()) => {
                error!(projection = name, %error, "an event that can never apply was parked");
                self.metrics.parked(name).inc();
                if let Ok(event) = &delivery.event {
                    self.applied([&key_of(event)]);
                }
                acknowledge(&delivery.message, AckKind::Ack).await;
            }
            Err(park_error) => {
                warn!(projection = name, %park_error, "cannot park an event; it will come again");
                self.retry_later(&delivery, &error).await;
            }
        }
    }

    /// A transient failure: the event comes again after a pause that doubles with
    /// every delivery, without a limit; the aggregate is held back until then.
    async fn retry_later(&self, delivery: &Delivery, error: &ApplyError) {
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
        let (key, sequence) = match &delivery.event {
            Ok(event) => (key_of(event), event.sequence),
            Err(_) => {
                let (aggregate_type, aggregate_id, sequence) = message_key(&delivery.message);
                ((aggregate_type, aggregate_id), sequence)
            }
        };
        let (held_back, warning) = self.held_back.failed(&key);
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
            retrying::record_failure(&self.pool, name, &key, sequence, &message).await
        {
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

    /// Applies `events` (in stream order) in one transaction, with the checkpoints.
    /// Returns how many events were applied (skipped repeats not counted).
    async fn apply_all(&self, events: &[&EventEnvelope]) -> Result<u64, ApplyError> {
        let name = self.projection.name();
        let mut transaction = self.pool.begin().await?;
        let keys: Vec<(String, String)> = events
            .iter()
            .map(|event| (event.aggregate_type.clone(), event.aggregate_id.clone()))
            .collect();
        let mut applied_up_to = checkpoint::lock(&mut transaction, name, &keys).await?;
        let mut last_recorded: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
        // Events to apply, in order: each one after the store's copies of any it
        // skipped (gaps), borrowed rather than copied.
        let mut plan: Vec<(Option<usize>, &EventEnvelope)> = Vec::with_capacity(events.len());
        let mut gaps: Vec<Vec<EventEnvelope>> = Vec::new();
        for event in events.iter().copied() {
            let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
            let done = applied_up_to.get(&key).copied().unwrap_or(0);
            if event.sequence <= done {
                continue;
            }
            if event.sequence > done + 1 {
                let missing = store::events_between(
                    &mut transaction,
                    &event.aggregate_type,
                    &event.aggregate_id,
                    done,
                    event.sequence,
                )
                .await?;
                if missing.len() as i64 != event.sequence - done - 1 {
                    return Err(ApplyError::MissingFromStore {
                        aggregate: format!("{}:{}", event.aggregate_type, event.aggregate_id),
                        from: done + 1,
                        to: event.sequence - 1,
                    });
                }
                gaps.push(missing);
                plan.push((Some(gaps.len() - 1), event));
            } else {
                plan.push((None, event));
            }
            applied_up_to.insert(key.clone(), event.sequence);
            last_recorded.insert(key, event.recorded_at);
        }
        let mut to_apply: Vec<&EventEnvelope> = Vec::with_capacity(plan.len());
        for (gap, event) in plan {
            if let Some(gap) = gap.and_then(|index| gaps.get(index)) {
                to_apply.extend(gap.iter());
            }
            to_apply.push(event);
        }
        if !to_apply.is_empty() {
            self.projection
                .apply_batch(&mut transaction, &to_apply)
                .await?;
        }
        checkpoint::save(&mut transaction, name, &applied_up_to, &last_recorded).await?;
        let moved: Vec<&(String, String)> = last_recorded.keys().collect();
        retrying::clear(&mut transaction, name, &moved).await?;
        transaction.commit().await?;
        Ok(to_apply.len() as u64)
    }

    async fn park(&self, delivery: &Delivery, error: &ApplyError) -> Result<(), sqlx::Error> {
        let (aggregate_type, aggregate_id, sequence) = match &delivery.event {
            Ok(event) => (
                event.aggregate_type.clone(),
                event.aggregate_id.clone(),
                event.sequence,
            ),
            Err(_) => message_key(&delivery.message),
        };
        checkpoint::park(
            &self.pool,
            self.projection.name(),
            &aggregate_type,
            &aggregate_id,
            sequence,
            &error.to_string(),
        )
        .await
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
