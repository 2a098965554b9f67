//! The runner's side of a generation: charged jobs wait in `generation_calls` (put
//! there by the queue reaction, in its worker's transaction); a runner takes one under
//! a lease, outside any transaction, and makes one attempt at the provider: submit
//! (or pick up the task an earlier attempt left), poll, download the result, keep it
//! as a file, and record the outcome. A crash lets the lease run out and the next
//! take counts as the next attempt; after the last attempt the job fails.

use std::time::Duration;

use chrono::Utc;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use super::port::{AiError, ImageTask, TaskState};
use crate::command::{CommandContext, CommandError};
use crate::files::FilePurpose;
use crate::generation::{GenerationCommand, GenerationKind};
use crate::use_cases::Core;
use crate::use_cases::files::Upload;

/// A job a runner holds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GenerationCall {
    pub job_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub input_files: Vec<Uuid>,
    /// This attempt's number, from 1.
    pub attempts: i32,
    pub provider_task_id: Option<String>,
    pub leased_until: chrono::DateTime<Utc>,
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
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO generation_calls (job_id, user_id, kind, input_files) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (job_id) DO NOTHING",
    )
    .bind(job_id)
    .bind(user_id)
    .bind(kind.as_str())
    .bind(input_files)
    .execute(connection)
    .await?;
    Ok(())
}

impl Core {
    /// Takes the job due longest, under a lease, unless its user already has as many
    /// running as allowed; the take counts as an attempt.
    pub async fn take_due_generation(&self) -> Result<Option<GenerationCall>, CommandError> {
        let rules = &self.ai.rules;
        let call = sqlx::query_as::<_, GenerationCall>(
            "UPDATE generation_calls c \
             SET leased_until = clock_timestamp() + $1 * interval '1 millisecond', \
                 attempts = c.attempts + 1 \
             FROM (SELECT job_id FROM generation_calls w \
                   WHERE due_at <= now() AND (leased_until IS NULL OR leased_until < now()) \
                     AND (SELECT count(*) FROM generation_calls r \
                          WHERE r.user_id = w.user_id AND r.leased_until >= now()) < $2 \
                   ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED) due \
             WHERE c.job_id = due.job_id \
             RETURNING c.job_id, c.user_id, c.kind, c.input_files, c.attempts, \
                       c.provider_task_id, c.leased_until",
        )
        .bind(i64::try_from(rules.lease.as_millis()).unwrap_or(i64::MAX))
        .bind(i64::from(rules.running_per_user))
        .fetch_optional(self.pool())
        .await?;
        Ok(call)
    }

    /// Makes one attempt at `call`'s job and records what came of it.
    pub async fn attempt_generation(
        &self,
        call: &GenerationCall,
    ) -> Result<AttemptOutcome, CommandError> {
        let job = call.job_id.to_string();
        let context = CommandContext::system("generation-runner").at(Utc::now());
        let attempt = u32::try_from(call.attempts).unwrap_or(u32::MAX);
        if attempt > self.ai.rules.attempts {
            // The last attempt ended without a word (its runner died): give up.
            let reason = format!("no answer after {} attempts", self.ai.rules.attempts);
            self.commands
                .generation_jobs
                .execute(
                    &job,
                    GenerationCommand::Fail {
                        reason: reason.clone(),
                        attempts: self.ai.rules.attempts,
                        at: Utc::now(),
                    },
                    &context,
                )
                .await?;
            self.finish_call(call).await?;
            return Ok(AttemptOutcome::Failed(reason));
        }
        let started = self
            .commands
            .generation_jobs
            .execute(
                &job,
                GenerationCommand::Start {
                    attempt,
                    at: Utc::now(),
                },
                &context,
            )
            .await;
        if let Err(refused) = started {
            if refused.is_transient() {
                return Err(refused);
            }
            tracing::info!(job_id = %call.job_id, %refused, "a queued generation no longer waits");
            self.finish_call(call).await?;
            return Ok(AttemptOutcome::Dropped);
        }
        let begun = std::time::Instant::now();
        let tried = self.run_at_provider(call).await;
        let elapsed = begun.elapsed();
        match tried {
            Ok(result_file) => {
                self.commands
                    .generation_jobs
                    .execute(
                        &job,
                        GenerationCommand::Succeed {
                            result_file,
                            at: Utc::now(),
                        },
                        &context,
                    )
                    .await?;
                let credits = self.ai.rules.price(kind_of(call));
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
                self.commands
                    .generation_jobs
                    .execute(
                        &job,
                        GenerationCommand::Fail {
                            reason: error.message.clone(),
                            attempts: attempt,
                            at: Utc::now(),
                        },
                        &context,
                    )
                    .await?;
                self.record_usage(call, elapsed, Decimal::ZERO, 0).await?;
                self.finish_call(call).await?;
                Ok(AttemptOutcome::Failed(error.message))
            }
        }
    }

    /// Submits (or picks up) the task, waits for it and keeps its result as a file.
    async fn run_at_provider(&self, call: &GenerationCall) -> Result<Uuid, AiError> {
        let task_id = match &call.provider_task_id {
            Some(task_id) => task_id.clone(),
            None => {
                let task = self.image_task(call).await?;
                let task_id = self.ai.images.submit(&task).await?;
                self.remember_task(call, &task_id)
                    .await
                    .map_err(|error| AiError::transient(error.message))?;
                task_id
            }
        };
        let deadline = tokio::time::Instant::now() + self.ai.rules.task_timeout;
        let result_urls = loop {
            match self.ai.images.state(&task_id).await {
                Ok(TaskState::Succeeded { result_urls }) => break result_urls,
                Ok(TaskState::Failed { code, message }) => {
                    self.forget_task(call).await;
                    let error =
                        format!("the provider could not make the image ({code}: {message})");
                    return Err(if code.starts_with('5') {
                        AiError::transient(error)
                    } else {
                        AiError::refused(error)
                    });
                }
                Ok(TaskState::Working) => {}
                // A failed poll is not a failed task: poll again until the deadline.
                Err(error) if error.transient => {
                    tracing::debug!(%error, "polling a task failed");
                }
                Err(error) => return Err(error),
            }
            if tokio::time::Instant::now() >= deadline {
                self.forget_task(call).await;
                return Err(AiError::transient("the provider did not finish in time"));
            }
            tokio::time::sleep(self.ai.rules.poll_every).await;
        };
        let url = result_urls
            .first()
            .ok_or_else(|| AiError::transient("the provider finished without an image"))?;
        let mut source = self.ai.images.download(url).await?;
        let upload = Upload {
            purpose: FilePurpose::GenerationResult,
            name: Some(format!("{}-{}.png", call.kind, call.job_id)),
            announced_size: None,
        };
        let stored = self
            .take_file(call.user_id, upload, source.as_mut(), Utc::now())
            .await
            .map_err(|error| {
                AiError::transient(format!("the result could not be kept: {error}"))
            })?;
        Ok(stored.file_id)
    }

    /// The task for a job: its prompt and signed links to its photos.
    async fn image_task(&self, call: &GenerationCall) -> Result<ImageTask, AiError> {
        let unavailable = |error: sqlx::Error| AiError::transient(error.to_string());
        let prompt: Option<Option<String>> = sqlx::query_scalar(
            "SELECT prompt FROM generation_prompts WHERE job_id = $1 AND erased_at IS NULL",
        )
        .bind(call.job_id)
        .fetch_optional(self.pool())
        .await
        .map_err(unavailable)?;
        let Some(prompt) = prompt else {
            return Err(AiError::refused(
                "the job's inputs were erased before it ran",
            ));
        };
        let live: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM stored_files WHERE file_id = ANY($1) AND erased_at IS NULL",
        )
        .bind(&call.input_files)
        .fetch_one(self.pool())
        .await
        .map_err(unavailable)?;
        if usize::try_from(live).unwrap_or(0) != call.input_files.len() {
            return Err(AiError::refused(
                "the job's photos were erased before it ran",
            ));
        }
        let prompt = match (call.kind.as_str(), prompt) {
            ("fitting", Some(wish)) => format!("{} {wish}", self.ai.rules.fitting_prompt),
            ("fitting", None) => self.ai.rules.fitting_prompt.clone(),
            (_, Some(prompt)) => prompt,
            (_, None) => return Err(AiError::refused("the job has no prompt")),
        };
        let now = Utc::now();
        let image_urls = call
            .input_files
            .iter()
            .map(|file| {
                self.files
                    .signed_url(*file, now, self.ai.rules.link_valid_for)
            })
            .collect();
        Ok(ImageTask { prompt, image_urls })
    }

    async fn remember_task(
        &self,
        call: &GenerationCall,
        task_id: &str,
    ) -> Result<(), CommandError> {
        sqlx::query(
            "UPDATE generation_calls SET provider_task_id = $3 WHERE job_id = $1 AND leased_until = $2",
        )
        .bind(call.job_id)
        .bind(call.leased_until)
        .bind(task_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn forget_task(&self, call: &GenerationCall) {
        let forgotten = sqlx::query(
            "UPDATE generation_calls SET provider_task_id = NULL WHERE job_id = $1 AND leased_until = $2",
        )
        .bind(call.job_id)
        .bind(call.leased_until)
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
            "UPDATE generation_calls SET leased_until = NULL, provider_task_id = NULL, \
                    due_at = clock_timestamp() + $3 * interval '1 millisecond', last_error = $4 \
             WHERE job_id = $1 AND leased_until = $2",
        )
        .bind(call.job_id)
        .bind(call.leased_until)
        .bind(i64::try_from(after.as_millis()).unwrap_or(i64::MAX))
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
        let kind = kind_of(call);
        crate::use_cases::assistant::record_usage(
            self.pool(),
            crate::use_cases::assistant::Usage {
                user_id: call.user_id,
                provider: self.ai.images.name().to_owned(),
                model: None,
                purpose: kind.as_str(),
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
