//! One attempt at the provider: submit the task (or pick up the one an earlier
//! attempt left), poll it until it ends or the attempt's time runs out, and keep the
//! result in the files store.

use chrono::Utc;
use uuid::Uuid;

use super::GenerationCall;
use super::port::{AiError, ImageTask, TaskState};
use crate::files::FilePurpose;
use crate::use_cases::Core;
use crate::use_cases::files::{FileError, Upload};

impl Core {
    /// Submits (or picks up) the task, waits for it and keeps its result as a file.
    pub(super) async fn run_at_provider(&self, call: &GenerationCall) -> Result<Uuid, AiError> {
        let task_id = match &call.provider_task_id {
            Some(task_id) => task_id.clone(),
            None => {
                let task = self.image_task(call).await?;
                let task_id = self.ai.images.submit(&task).await?;
                let kept = self
                    .remember_task(call, &task_id)
                    .await
                    .map_err(|error| AiError::transient(error.message))?;
                if !kept {
                    return Err(AiError::transient("the runner lost the job's lease"));
                }
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
            .map_err(|error| match error {
                // The provider's image itself is wrong: asking again pays for the same.
                FileError::TooLarge { .. }
                | FileError::TypeNotAllowed { .. }
                | FileError::Empty
                | FileError::UnreadableImage(_)
                | FileError::Infected(_) => {
                    AiError::refused(format!("the provider's image was refused: {error}"))
                }
                other => AiError::transient(format!("the result could not be kept: {other}")),
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
            return Err(AiError::inputs_erased(
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
            return Err(AiError::inputs_erased(
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
}
