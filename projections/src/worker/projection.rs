//! What a worker feeds: the `Projection` trait, and what its failures mean.

use std::future::Future;
use std::pin::Pin;

use sqlx::PgConnection;

use crate::envelope::EventEnvelope;

/// What a projection's `apply` returns.
pub type ApplyFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ApplyError>> + Send + 'a>>;

/// What `ledgerbot replay rebuild` needs to know of a read model: the tables it owns
/// (it is their one writer), the columns that record when it ran rather than what
/// happened (left out when a rebuild is compared with the live tables), and a
/// statement run before the switch that keeps the rebuild from causing anything
/// outside its tables (`{rebuilt}` and `{live}` name the two schemas).
#[derive(Debug, Clone, Copy)]
pub struct Rebuildable {
    pub tables: &'static [&'static str],
    pub run_time_columns: &'static [(&'static str, &'static str)],
    pub before_switch: Option<&'static str>,
}

impl Rebuildable {
    /// Tables alone: nothing run-time, nothing to do before the switch.
    pub const fn tables(tables: &'static [&'static str]) -> Self {
        Rebuildable {
            tables,
            run_time_columns: &[],
            before_switch: None,
        }
    }
}

/// Taken shared by every transaction a worker applies or parks in, and exclusive by
/// a rebuild's switch: while a rebuild swaps a projection's tables, its workers wait.
pub const SHARE_PROJECTION_LOCK: &str =
    "SELECT pg_advisory_xact_lock_shared(hashtextextended('ledgerbot projection ' || $1, 0))";
/// See [`SHARE_PROJECTION_LOCK`].
pub const HOLD_PROJECTION_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtextextended('ledgerbot projection ' || $1, 0))";

/// A read model or a reaction fed by events.
pub trait Projection: Send + Sync + 'static {
    /// Unique, stable name: the durable consumer's and the checkpoints' key.
    fn name(&self) -> &'static str;
    /// The aggregate types whose events it reads.
    fn aggregate_types(&self) -> &'static [&'static str];
    /// How to rebuild it from the store; `None` for a reaction (its effects are
    /// commands, which a rebuild must never send again) and for a read model whose
    /// rows are only meaningful as they were written.
    fn rebuildable(&self) -> Option<Rebuildable> {
        None
    }
    /// Applies one event inside the worker's transaction.
    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a>;

    /// Applies several events (in order; each aggregate's in sequence) inside the
    /// worker's transaction. Override it to write a batch with a few set-based
    /// statements instead of a few per event.
    fn apply_batch<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [&'a EventEnvelope],
    ) -> ApplyFuture<'a> {
        Box::pin(async move {
            for event in events {
                self.apply(connection, event).await?;
            }
            Ok(())
        })
    }
}

/// Why an event could not be applied. [`ApplyError::is_permanent`] sorts them: what
/// can never apply is parked, everything else is tried again, without a limit.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The event cannot be understood; retrying will not help.
    #[error("cannot decode event {0}")]
    Decode(String),
    /// The event can never apply: a permanent refusal, or a bug (an invariant of ours
    /// that does not hold). Retrying the same code will not help.
    #[error("cannot apply the event: {0}")]
    Permanent(String),
    #[error("the event store lacks events {from}..{to} of {aggregate}")]
    MissingFromStore {
        aggregate: String,
        from: i64,
        to: i64,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A command a process manager issued failed for a reason that may pass (the
    /// store or an outside service unavailable, a conflict).
    #[error("a command failed: {0}")]
    Command(String),
}

impl ApplyError {
    /// True for what can never apply: an undecodable event, a permanent refusal, a
    /// bug, an event the store lost, data the database will never take. Outages,
    /// timeouts and conflicts are not.
    pub fn is_permanent(&self) -> bool {
        match self {
            ApplyError::Decode(_) | ApplyError::Permanent(_) => true,
            ApplyError::MissingFromStore { .. } => true,
            ApplyError::Command(_) => false,
            ApplyError::Database(error) => !is_transient(error),
        }
    }
}

pub use domain::event_store::is_transient;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_transient_and_what_cannot_apply_is_permanent() {
        assert!(!ApplyError::Database(sqlx::Error::PoolTimedOut).is_permanent());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(!ApplyError::Database(sqlx::Error::Io(io)).is_permanent());
        assert!(!ApplyError::Command("unavailable".into()).is_permanent());
        assert!(ApplyError::Decode("x".into()).is_permanent());
        assert!(ApplyError::Permanent("x".into()).is_permanent());
        assert!(ApplyError::Database(sqlx::Error::RowNotFound).is_permanent());
    }
}
