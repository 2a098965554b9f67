//! The generation jobs' process manager: a requested job is charged (again: the
//! request already tried, and a repeat is a no-op; this finishes a request cut short
//! by a crash), a charged job is queued for the runner (in the worker's transaction;
//! no outside call here), and a failed job's credits are returned once.

use std::sync::Arc;

use domain::command::CommandContext;
use domain::generation::GenerationEvent;
use domain::use_cases::Core;
use sqlx::PgConnection;
use tokio::sync::Notify;

use super::settle;
use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

/// A job's request: who, what, its photos and its price.
type Requested = (
    uuid::Uuid,
    domain::generation::GenerationKind,
    Vec<uuid::Uuid>,
    u64,
);

pub struct Generations {
    core: Arc<Core>,
    wake: Arc<Notify>,
}

impl Generations {
    /// `wake` is the runner's ([`super::generation_runner::GenerationRunner::waker`]).
    pub fn new(core: Arc<Core>, wake: Arc<Notify>) -> Self {
        Self { core, wake }
    }

    async fn react(
        &self,
        connection: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), ApplyError> {
        let job_id = event.aggregate_uuid()?;
        let because = CommandContext::system("generation-reactions")
            .caused_by(event.message_id())
            .at(event.recorded_at);
        match event.decode::<GenerationEvent>()? {
            GenerationEvent::GenerationRequested { user_id, price, .. } => {
                match self
                    .core
                    .charge_generation(job_id, user_id, price, &because)
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(error) => settle(&format!("charging generation {job_id}"), error),
                }
            }
            GenerationEvent::GenerationCharged { .. } => {
                let Some((user_id, kind, inputs, price)) = self.requested(event).await? else {
                    return Err(ApplyError::Permanent(format!(
                        "generation {job_id} was charged but never requested"
                    )));
                };
                domain::use_cases::generation::queue_generation(
                    connection, job_id, user_id, kind, &inputs, price,
                )
                .await?;
                self.wake.notify_one();
                Ok(())
            }
            GenerationEvent::GenerationFailed { .. } => {
                let Some((user_id, ..)) = self.requested(event).await? else {
                    return Ok(());
                };
                match self
                    .core
                    .return_generation_credits(job_id, user_id, &because)
                    .await
                {
                    Ok(()) => Ok(()),
                    Err(error) => {
                        settle(&format!("returning generation {job_id}'s credits"), error)
                    }
                }
            }
            _ => Ok(()),
        }
    }

    /// The job's request, read from the store (a projection reads only its own
    /// tables and the store).
    async fn requested(&self, event: &EventEnvelope) -> Result<Option<Requested>, ApplyError> {
        let payload: Option<serde_json::Value> = sqlx::query_scalar(
            "SELECT payload FROM events WHERE aggregate_type = 'GenerationJob' AND aggregate_id = $1 \
               AND sequence = 1",
        )
        .bind(&event.aggregate_id)
        .fetch_optional(self.core.pool())
        .await?;
        let Some(payload) = payload else {
            return Ok(None);
        };
        match serde_json::from_value::<GenerationEvent>(payload) {
            Ok(GenerationEvent::GenerationRequested {
                user_id,
                kind,
                input_files,
                price,
                ..
            }) => Ok(Some((user_id, kind, input_files, price))),
            Ok(_) => Ok(None),
            Err(error) => Err(ApplyError::Permanent(error.to_string())),
        }
    }
}

impl Projection for Generations {
    fn name(&self) -> &'static str {
        crate::ProjectionName::Generations.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["GenerationJob"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(self.react(connection, event))
    }
}
