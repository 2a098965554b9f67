use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventUpcaster, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, EventStore};
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;
use tracing::debug;

use super::inline::{InlineProjection, InlineProjections};
use super::stored_text::NulInText;
use super::{CommandContext, CommandError, ErrorKind, Refusal, Targeted};

/// How often a command is re-run when another writer committed to the same
/// aggregate between our load and our commit.
const MAX_ATTEMPTS: u32 = 5;

/// What a command committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed<E> {
    pub aggregate_id: String,
    /// The aggregate's last sequence after the command (unchanged when the command
    /// produced no events, as an idempotent repeat does).
    pub sequence: usize,
    pub events: Vec<E>,
}

/// How many aggregates a service keeps in memory by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// Runs commands of one aggregate type against the Postgres event store.
///
/// This is what cqrs-es's `CqrsFramework` does (load through a `PersistedEventStore`
/// over postgres-es, the plain event store with upcasters, no snapshots; handle;
/// commit), with the commit as one INSERT statement instead of postgres-es's
/// BEGIN/INSERT/COMMIT (or, with inline read models, that INSERT and theirs in one
/// transaction), plus what `CqrsFramework` does not do: the committed sequence and events are returned, every
/// event carries the [`CommandContext`] as metadata, a conflicting concurrent write
/// is retried a bounded number of times, and errors come back as [`CommandError`].
/// Read models are fed from the stream, except the inline ones ([`super::inline`]),
/// which are applied in the transaction that appends the events.
///
/// Aggregates this service committed are kept in memory (least recently used out
/// first), so the next command on them skips loading the stream. That is safe with
/// any number of writers: a commit on a stale state tries a sequence that already
/// exists, the primary key refuses it, the entry is dropped and the command re-run
/// on a fresh load; a refusal or a no-op decided on a cached state is decided again
/// on a fresh load before it is reported.
pub struct CommandService<A: Aggregate> {
    store: PersistedEventStore<PostgresEventRepository, A>,
    pool: PgPool,
    services: A::Services,
    cache: Mutex<HashMap<String, Cached<A>>>,
    capacity: usize,
    clock: AtomicU64,
    inline: InlineProjections,
}

struct Cached<A> {
    aggregate: A,
    sequence: usize,
    used: u64,
}

impl<A> CommandService<A>
where
    A: Aggregate + Clone,
    A::Command: Clone + Targeted + std::fmt::Debug,
    A::Error: Refusal,
{
    pub fn new(pool: PgPool, services: A::Services) -> Self {
        Self::with_upcasters(pool, services, Vec::new())
    }

    /// With upcasters that bring old stored event versions up to date on load.
    pub fn with_upcasters(
        pool: PgPool,
        services: A::Services,
        upcasters: Vec<Box<dyn EventUpcaster>>,
    ) -> Self {
        let store =
            PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()))
                .with_upcasters(upcasters);
        Self {
            store,
            pool,
            services,
            cache: Mutex::new(HashMap::new()),
            capacity: DEFAULT_CACHE_CAPACITY,
            clock: AtomicU64::new(0),
            inline: Vec::new(),
        }
    }

    /// Also applies those of `projections` that follow this aggregate type in the
    /// transaction that appends its events.
    pub fn with_inline(mut self, projections: &[Arc<dyn InlineProjection>]) -> Self {
        self.inline = projections
            .iter()
            .filter(|projection| projection.aggregate_types().contains(&A::TYPE))
            .cloned()
            .collect();
        self
    }

    /// Keeps at most `capacity` aggregates in memory (0 turns the cache off).
    pub fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    fn cached(&self, aggregate_id: &str) -> Option<(A, usize)> {
        let mut cache = self.cache.lock().ok()?;
        let entry = cache.get_mut(aggregate_id)?;
        entry.used = self.clock.fetch_add(1, Ordering::Relaxed);
        Some((entry.aggregate.clone(), entry.sequence))
    }

    fn remember(&self, aggregate_id: &str, aggregate: A, sequence: usize) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= self.capacity && !cache.contains_key(aggregate_id) {
            // Drop the least recently used eighth in one go.
            let mut ages: Vec<(u64, String)> = cache
                .iter()
                .map(|(id, entry)| (entry.used, id.clone()))
                .collect();
            ages.sort_unstable();
            for (_, id) in ages.into_iter().take((self.capacity / 8).max(1)) {
                cache.remove(&id);
            }
        }
        let used = self.clock.fetch_add(1, Ordering::Relaxed);
        cache.insert(
            aggregate_id.to_owned(),
            Cached {
                aggregate,
                sequence,
                used,
            },
        );
    }

    fn forget(&self, aggregate_id: &str) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(aggregate_id);
        }
    }

    /// The aggregate as the store has it now (default state when it has no events),
    /// always read from the store.
    pub async fn load(&self, aggregate_id: &str) -> Result<(A, usize), CommandError> {
        let context = self
            .store
            .load_aggregate(aggregate_id)
            .await
            .map_err(store_error)?;
        Ok((context.aggregate, context.current_sequence))
    }

    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<Committed<A::Event>, CommandError> {
        if let Some(target) = command.target_id()
            && target != aggregate_id
        {
            return Err(CommandError::new(
                ErrorKind::InvalidInput,
                format!(
                    "the command is for {} {target} but was sent to {aggregate_id}",
                    A::TYPE
                ),
            ));
        }
        let key = super::once::key_of(A::TYPE, aggregate_id, &command);
        let mut attempt = 1;
        loop {
            let tried = self
                .try_once(aggregate_id, command.clone(), context, key.as_deref())
                .await;
            match tried {
                Err(AggregateError::AggregateConflict) if attempt < MAX_ATTEMPTS => {
                    debug!(
                        aggregate = A::TYPE,
                        aggregate_id, attempt, "conflicting write; re-running the command"
                    );
                    tokio::time::sleep(retry_pause(attempt)).await;
                    attempt += 1;
                }
                Err(AggregateError::AggregateConflict) => {
                    return Err(CommandError::new(
                        ErrorKind::Conflict,
                        format!(
                            "the {} was changed by others {MAX_ATTEMPTS} times while this command ran; try again",
                            A::TYPE
                        ),
                    ));
                }
                Err(AggregateError::UserError(error)) => return Err(CommandError::refused(&error)),
                Err(other) => return Err(store_error(other)),
                Ok(committed) => return Ok(committed),
            }
        }
    }

    async fn try_once(
        &self,
        aggregate_id: &str,
        command: A::Command,
        context: &CommandContext,
        key: Option<&str>,
    ) -> Result<Committed<A::Event>, AggregateError<A::Error>> {
        if let Some((aggregate, before)) = self.cached(aggregate_id) {
            // A commit on a cached state proves it current (the primary key would
            // refuse a stale sequence); a refusal or a no-op proves nothing, so those
            // are decided again on a fresh load.
            match self
                .decide(
                    aggregate_id,
                    aggregate,
                    before,
                    command.clone(),
                    context,
                    key,
                )
                .await
            {
                Ok(committed) if committed.events.is_empty() => self.forget(aggregate_id),
                Err(AggregateError::UserError(_)) => self.forget(aggregate_id),
                other => return other,
            }
        }
        let loaded = self.store.load_aggregate(aggregate_id).await?;
        self.decide(
            aggregate_id,
            loaded.aggregate,
            loaded.current_sequence,
            command,
            context,
            key,
        )
        .await
    }

    /// Runs `command` on `aggregate` (at sequence `before`) and appends its events;
    /// under a `key` (see [`super::once`]) one already done is not run again, checked
    /// after the state was read so that a first run committing meanwhile makes this
    /// append conflict.
    async fn decide(
        &self,
        aggregate_id: &str,
        mut aggregate: A,
        before: usize,
        command: A::Command,
        context: &CommandContext,
        key: Option<&str>,
    ) -> Result<Committed<A::Event>, AggregateError<A::Error>> {
        if let Some(key) = key
            && let Some(done) = super::once::done_under(&self.pool, A::TYPE, aggregate_id, key)
                .await
                .map_err(|error| AggregateError::DatabaseConnectionError(Box::new(error)))?
        {
            debug!(
                aggregate = A::TYPE,
                aggregate_id, key, "already done under its key; not run again"
            );
            return Ok(Committed {
                aggregate_id: aggregate_id.to_owned(),
                sequence: before.max(done),
                events: Vec::new(),
            });
        }
        let sink = EventSink::default();
        aggregate
            .handle(command, &self.services, &sink)
            .await
            .map_err(AggregateError::UserError)?;
        let events = sink.collect().await;
        if events.is_empty() {
            self.remember(aggregate_id, aggregate, before);
            return Ok(Committed {
                aggregate_id: aggregate_id.to_owned(),
                sequence: before,
                events,
            });
        }
        let appended = super::append::append::<A>(
            &self.pool,
            &self.inline,
            aggregate_id,
            before,
            &events,
            context,
            key,
        )
        .await;
        let committed = match appended {
            Ok(()) => events,
            Err(error) => {
                self.forget(aggregate_id);
                return Err(error);
            }
        };
        let sequence = before + committed.len();
        self.remember(aggregate_id, aggregate, sequence);
        Ok(Committed {
            aggregate_id: aggregate_id.to_owned(),
            sequence,
            events: committed,
        })
    }
}

fn retry_pause(attempt: u32) -> Duration {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| u64::from(elapsed.subsec_nanos() % 5));
    Duration::from_millis(5 * u64::from(attempt) + jitter)
}

fn store_error<E: std::error::Error>(error: AggregateError<E>) -> CommandError {
    if let AggregateError::UnexpectedError(inner) = &error
        && let Some(refused) = inner.downcast_ref::<NulInText>()
    {
        return CommandError::invalid(refused.field.clone(), refused.to_string())
            .with_code("nul_character");
    }
    match error {
        AggregateError::DeserializationError(_) | AggregateError::UnexpectedError(_) => {
            tracing::error!(%error, "a stored event or command could not be read or written");
            CommandError::new(
                ErrorKind::Internal,
                format!("the event store holds data this version cannot handle: {error}"),
            )
        }
        AggregateError::DatabaseConnectionError(inner)
            if inner
                .downcast_ref::<sqlx::Error>()
                .is_some_and(|database| !crate::event_store::is_transient(database)) =>
        {
            tracing::error!(error = %inner, "the event store refused the events");
            CommandError::new(
                ErrorKind::Internal,
                "the event store refused the events".to_owned(),
            )
        }
        other => CommandError::new(
            ErrorKind::Unavailable,
            format!("the event store failed: {other}"),
        ),
    }
}
