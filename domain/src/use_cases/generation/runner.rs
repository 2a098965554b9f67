//! The runner's side of a generation: charged jobs wait in `generation_calls` (put
//! there by the queue reaction, in its worker's transaction); a runner takes one under
//! a lease (renewed while the attempt runs), outside any transaction, and makes one
//! attempt at the provider (`attempt.rs`), then records the outcome if it still holds
//! the lease. A crash lets the lease run out and the next take counts as the next
//! attempt; after the last attempt the job fails.

use std::time::Duration;

use chrono::Utc;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::port::AiError;
use crate::command::{CommandContext, CommandError};
use crate::generation::{GenerationCommand, GenerationKind};
use crate::use_cases::Core;

/// A job a runner holds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GenerationCall {
    pub job_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub input_files: Vec<Uuid>,
    /// The credits it was charged.
    pub price: i64,
    /// This attempt's number, from 1.
    pub attempts: i32,
    pub provider_task_id: Option<String>,
    /// This take's lease: every write of the runner names it, so a runner that lost
    /// its lease writes nothing.
    pub lease_id: Uuid,
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Succeeded(Uuid),
    /// Tried again after the pause.
    Retrying {
        after: Duration,
        error: String,
    },
    Failed(String),
    /// Another runner holds it now, or the job is no longer waiting.
    Dropped,
}

/// Queues a charged job (the queue reaction's statement, in its transaction).
pub async fn queue_generation(
    connection: &mut PgConnection,
    job_id: Uuid,
    user_id: Uuid,
    kind: GenerationKind,
    input_files: &[Uuid],
    price: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO generation_calls (job_id, user_id, kind, input_files, price) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id) DO NOTHING",
    )
    .bind(job_id)
    .bind(user_id)
    .bind(kind.as_str())
    .bind(input_files)
    .bind(i64::try_from(price).unwrap_or(i64::MAX))
    .execute(connection)
    .await?;
    Ok(())
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Core {
    /// Takes the job due longest, under a lease, unless its user already has as many
    /// running as allowed; the take counts as an attempt. Takes are serialized (a
    /// short advisory lock), so two runners never both fill a user's last place.
    pub async fn take_due_generation(&self) -> Result<Option<GenerationCall>, CommandError> {
        let rules = &self.ai.rules;
        let mut transaction = self.pool().begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('generation-take', 0))")
            .execute(&mut *transaction)
            .await?;
        let call = sqlx::query_as::<_, GenerationCall>(
            "UPDATE generation_calls c \
             SET leased_until = clock_timestamp() + $1 * interval '1 millisecond', \
                 lease_id = $3, attempts = c.attempts + 1 \
             FROM (SELECT job_id FROM generation_calls w \
                   WHERE due_at <= now() AND (leased_until IS NULL OR leased_until < now()) \
                     AND (SELECT count(*) FROM generation_calls r \
                          WHERE r.user_id = w.user_id AND r.leased_until >= now()) < $2 \
                   ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED) due \
             WHERE c.job_id = due.job_id \
             RETURNING c.job_id, c.user_id, c.kind, c.input_files, c.price, c.attempts, \
                       c.provider_task_id, c.lease_id",
        )
        .bind(millis(rules.lease))
        .bind(i64::from(rules.running_per_user))
        .bind(Uuid::now_v7())
        .fetch_optional(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(call)
    }

    /// Extends `call`'s lease; false when another runner took it meanwhile.
    pub async fn renew_generation_lease(
        &self,
        call: &GenerationCall,
    ) -> Result<bool, CommandError> {
        let renewed = sqlx::query(
            "UPDATE generation_calls SET leased_until = clock_timestamp() + $3 * interval '1 millisecond' \
             WHERE job_id = $1 AND lease_id = $2",
        )
        .bind(call.job_id)
        .bind(call.lease_id)
        .bind(millis(self.ai.rules.lease))
        .execute(self.pool())
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Makes one attempt at `call`'s job, renewing its lease meanwhile, and records
    /// what came of it.
    pub async fn attempt_generation(
        &self,
        call: &GenerationCall,
    ) -> Result<AttemptOutcome, CommandError> {
        let attempt = u32::try_from(call.attempts).unwrap_or(u32::MAX);
        if attempt > self.ai.rules.attempts {
            // The last attempt ended without a word (its runner died): give up.
            let reason = format!("no answer after {} attempts", self.ai.rules.attempts);
            return self.record_failure(call, reason, Duration::ZERO).await;
        }
        if !self
            .record_on_job(
                call,
                GenerationCommand::Start {
                    attempt,
                    at: Utc::now(),
                },
            )
            .await?
        {
            return Ok(AttemptOutcome::Dropped);
        }
        let begun = std::time::Instant::now();
        let tried = {
            let attempt = self.run_at_provider(call);
            tokio::pin!(attempt);
            let mut renewals =
                tokio::time::interval((self.ai.rules.lease / 3).max(Duration::from_millis(100)));
            renewals.tick().await;
            loop {
                tokio::select! {
                    tried = &mut attempt => break tried,
                    _ = renewals.tick() => {
                        match self.renew_generation_lease(call).await {
                            Ok(true) => {}
                            Ok(false) => {
                                tracing::warn!(job_id = %call.job_id, "a generation's lease was lost mid-attempt");
                                return Ok(AttemptOutcome::Dropped);
                            }
                            // The store is away: keep the attempt (its task would be
                            // lost and paid again); the next renewal tries again.
                            Err(error) => tracing::warn!(%error, "a generation's lease could not be renewed"),
                        }
                    }
                }
            }
        };
        let elapsed = begun.elapsed();
        if !self.renew_generation_lease(call).await? {
            return Ok(AttemptOutcome::Dropped);
        }
        match tried {
            Ok(result_file) => {
                let succeeded = GenerationCommand::Succeed {
                    result_file,
                    at: Utc::now(),
                };
                if !self.record_on_job(call, succeeded).await? {
                    return Ok(AttemptOutcome::Dropped);
                }
                let credits = u64::try_from(call.price).unwrap_or(0);
                self.record_usage(call, elapsed, self.ai.images.cost_per_task(), credits)
                    .await?;
                self.finish_call(call).await?;
                Ok(AttemptOutcome::Succeeded(result_file))
            }
            Err(error) if error.transient && attempt < self.ai.rules.attempts => {
                let after = crate::backoff::doubling(
                    i64::from(attempt),
                    self.ai.rules.first_retry,
                    self.ai.rules.first_retry * 64,
                );
                tracing::warn!(job_id = %call.job_id, attempt, %error, "a generation attempt failed; trying again");
                self.retry_call(call, after, &error.message).await?;
                Ok(AttemptOutcome::Retrying {
                    after,
                    error: error.message,
                })
            }
            Err(error) => {
                tracing::warn!(job_id = %call.job_id, attempt, %error, "a generation failed");
                self.record_failure(call, public_reason(&error), elapsed)
                    .await
            }
        }
    }

    async fn record_failure(
        &self,
        call: &GenerationCall,
        reason: String,
        elapsed: Duration,
    ) -> Result<AttemptOutcome, CommandError> {
        let failed = GenerationCommand::Fail {
            reason: reason.clone(),
            attempts: u32::try_from(call.attempts)
                .unwrap_or(u32::MAX)
                .min(self.ai.rules.attempts),
            at: Utc::now(),
        };
        if !self.record_on_job(call, failed).await? {
            return Ok(AttemptOutcome::Dropped);
        }
        if !elapsed.is_zero() {
            self.record_usage(call, elapsed, Decimal::ZERO, 0).await?;
        }
        self.finish_call(call).await?;
        Ok(AttemptOutcome::Failed(reason))
    }

    /// Records `command` on the job: true when it holds; false when the job refuses it
    /// for good (it no longer waits: succeeded, failed), and then the call is done.
    async fn record_on_job(
        &self,
        call: &GenerationCall,
        command: GenerationCommand,
    ) -> Result<bool, CommandError> {
        let context = CommandContext::system("generation-runner").at(Utc::now());
        match self
            .commands
            .generation_jobs
            .execute(&call.job_id.to_string(), command, &context)
            .await
        {
            Ok(_) => Ok(true),
            Err(refused) if refused.is_transient() => Err(refused),
            Err(refused) => {
                tracing::info!(job_id = %call.job_id, %refused, "a queued generation no longer waits");
                self.finish_call(call).await?;
                Ok(false)
            }
        }
    }

    /// Keeps the provider's task id with the call; false when the lease was lost.
    pub(super) async fn remember_task(
        &self,
        call: &GenerationCall,
        task_id: &str,
    ) -> Result<bool, CommandError> {
        let remembered = sqlx::query(
            "UPDATE generation_calls SET provider_task_id = $3 WHERE job_id = $1 AND lease_id = $2",
        )
        .bind(call.job_id)
        .bind(call.lease_id)
        .bind(task_id)
        .execute(self.pool())
        .await?;
        Ok(remembered.rows_affected() == 1)
    }

    pub(super) async fn forget_task(&self, call: &GenerationCall) {
        let forgotten = sqlx::query(
            "UPDATE generation_calls SET provider_task_id = NULL WHERE job_id = $1 AND lease_id = $2",
        )
        .bind(call.job_id)
        .bind(call.lease_id)
        .execute(self.pool())
        .await;
        if let Err(error) = forgotten {
            tracing::warn!(%error, "a finished task's id stayed; the next attempt polls it once");
        }
    }

    async fn retry_call(
        &self,
        call: &GenerationCall,
        after: Duration,
        error: &str,
    ) -> Result<(), CommandError> {
        sqlx::query(
            "UPDATE generation_calls SET leased_until = NULL, lease_id = NULL, provider_task_id = NULL, \
                    due_at = clock_timestamp() + $3 * interval '1 millisecond', last_error = $4 \
             WHERE job_id = $1 AND lease_id = $2",
        )
        .bind(call.job_id)
        .bind(call.lease_id)
        .bind(millis(after))
        .bind(error)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn finish_call(&self, call: &GenerationCall) -> Result<(), CommandError> {
        sqlx::query("DELETE FROM generation_calls WHERE job_id = $1")
            .bind(call.job_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn record_usage(
        &self,
        call: &GenerationCall,
        elapsed: Duration,
        cost: Decimal,
        credits: u64,
    ) -> Result<(), CommandError> {
        crate::use_cases::assistant::record_usage(
            self.pool(),
            crate::use_cases::assistant::Usage {
                user_id: call.user_id,
                provider: self.ai.images.name().to_owned(),
                model: None,
                purpose: kind_of(call).as_str(),
                subject_id: call.job_id.to_string(),
                prompt_tokens: None,
                completion_tokens: None,
                cost,
                credits,
                duration: elapsed,
            },
        )
        .await
    }
}

fn kind_of(call: &GenerationCall) -> GenerationKind {
    match call.kind.as_str() {
        "fitting" => GenerationKind::Fitting,
        _ => GenerationKind::Editing,
    }
}

/// What a failed job's event records: a fixed sentence, never the provider's own
/// words (an error body may echo the prompt, which must stay erasable); the details
/// go to the log.
fn public_reason(error: &AiError) -> String {
    if error.inputs_erased {
        "the photos were erased before the generation ran".to_owned()
    } else if error.transient {
        "the image provider failed every attempt".to_owned()
    } else {
        "the image provider refused the request".to_owned()
    }
}
