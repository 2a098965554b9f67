//! What a worker feeds: the `Projection` trait, and what its failures mean.

use std::future::Future;
use std::pin::Pin;

use sqlx::PgConnection;

use crate::envelope::EventEnvelope;

/// What a projection's `apply` returns.
pub type ApplyFuture<'a> = Pin<Box<dyn Future<Output = Result<(), ApplyError>> + Send + 'a>>;

/// A read model or a reaction fed by events.
pub trait Projection: Send + Sync + 'static {
    /// Unique, stable name: the durable consumer's and the checkpoints' key.
    fn name(&self) -> &'static str;
    /// The aggregate types whose events it reads.
    fn aggregate_types(&self) -> &'static [&'static str];
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
