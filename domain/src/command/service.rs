use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{EventUpcaster, PersistedEventStore};
use cqrs_es::{Aggregate, AggregateError, EventStore};
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;
use tracing::debug;

use super::{CommandContext, CommandError, ErrorKind, Refusal};

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

/// Runs commands of one aggregate type against the Postgres event store.
///
/// This is what cqrs-es's `CqrsFramework` does (load, handle, commit through a
/// `PersistedEventStore` over postgres-es, the plain event store, no snapshots),
/// plus what it does not: the committed sequence and events are returned, every
/// event carries the [`CommandContext`] as metadata, a conflicting concurrent write
/// is retried a bounded number of times, and errors come back as [`CommandError`].
/// Nothing runs in-process after the commit: read models are fed from the stream.
pub struct CommandService<A: Aggregate> {
    store: PersistedEventStore<PostgresEventRepository, A>,
    services: A::Services,
}

impl<A> CommandService<A>
where
    A: Aggregate,
    A::Command: Clone,
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
        let store = PersistedEventStore::new_event_store(PostgresEventRepository::new(pool))
            .with_upcasters(upcasters);
        Self { store, services }
    }

    /// The aggregate as the store has it now (default state when it has no events).
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
        let mut attempt = 1;
        loop {
            match self.try_once(aggregate_id, command.clone(), context).await {
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
    ) -> Result<Committed<A::Event>, AggregateError<A::Error>> {
        let mut loaded = self.store.load_aggregate(aggregate_id).await?;
        let before = loaded.current_sequence;
        let sink = EventSink::default();
        loaded
            .aggregate
            .handle(command, &self.services, &sink)
            .await
            .map_err(AggregateError::UserError)?;
        let events = sink.collect().await;
        if events.is_empty() {
            return Ok(Committed {
                aggregate_id: aggregate_id.to_owned(),
                sequence: before,
                events,
            });
        }
        let committed = self
            .store
            .commit(events, loaded, context.metadata())
            .await?;
        Ok(Committed {
            aggregate_id: aggregate_id.to_owned(),
            sequence: committed
                .last()
                .map_or(before, |envelope| envelope.sequence),
            events: committed
                .into_iter()
                .map(|envelope| envelope.payload)
                .collect(),
        })
    }
}

/// 5 ms × attempt plus up to 4 ms of jitter, so racing writers do not retry in step.
fn retry_pause(attempt: u32) -> Duration {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| u64::from(elapsed.subsec_nanos() % 5));
    Duration::from_millis(5 * u64::from(attempt) + jitter)
}

fn store_error<E: std::error::Error>(error: AggregateError<E>) -> CommandError {
    CommandError::new(
        ErrorKind::Unavailable,
        format!("the event store failed: {error}"),
    )
}
