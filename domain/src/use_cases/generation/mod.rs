//! Image generations paid in credits: asking for one (`request_generation`: the
//! inputs checked, the prompt kept outside the log, the job requested and charged),
//! the reactions' steps (`charge_generation` again after a crash, queueing a charged
//! job, returning a failed job's credits once) and the runner's attempts
//! (`runner.rs`). The providers are ports (`port.rs`).

mod attempt;
pub mod port;
mod runner;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

use crate::command::{CommandContext, CommandError};
use crate::credit::CreditCommand;
use crate::files::FilePurpose;
use crate::generation::{GenerationCommand, GenerationKind};
use crate::permissions::{Action, Caller};
use crate::use_cases::{Core, Written, text_within};
use port::{ChatModel, ImageProvider};
pub use runner::{AttemptOutcome, GenerationCall, queue_generation};

/// Prices, limits and timings of the AI services (configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiRules {
    pub fitting_price: u64,
    pub editing_price: u64,
    /// Credits per assistant request (the editing assistant's proposals).
    pub assistant_price: u64,
    /// The monthly free allowance, granted (once a month) before a charge so it counts.
    pub monthly_allowance: u64,
    /// Attempts at the provider before a job fails.
    pub attempts: u32,
    /// The pause after the first failed attempt, doubling after each.
    pub first_retry: Duration,
    /// How many of one user's jobs run at once.
    pub running_per_user: u32,
    /// How long a runner's take holds a job without a renewal (renewed every third of
    /// it while the attempt runs), so a dead runner's job is taken again this soon.
    pub lease: Duration,
    pub poll_every: Duration,
    /// How long a task may take at the provider before the attempt is given up.
    pub task_timeout: Duration,
    /// The instruction a fitting sends with its two photos.
    pub fitting_prompt: String,
    /// How long a signed link to an input photo opens.
    pub link_valid_for: chrono::Duration,
    /// Assistant chats are erased this long after their last message.
    pub chat_kept_for: chrono::Duration,
    /// How many assistant messages one user may send per minute.
    pub assistant_per_minute: u32,
}

impl Default for AiRules {
    fn default() -> Self {
        Self {
            fitting_price: 2,
            editing_price: 1,
            assistant_price: 1,
            monthly_allowance: 0,
            attempts: 3,
            first_retry: Duration::from_secs(2),
            running_per_user: 2,
            lease: Duration::from_secs(60),
            poll_every: Duration::from_secs(3),
            task_timeout: Duration::from_secs(5 * 60),
            fitting_prompt: "Dress the person in the first photo in the garment from the second \
                             photo. Keep the person's face, body, pose and background unchanged."
                .into(),
            link_valid_for: chrono::Duration::hours(1),
            chat_kept_for: chrono::Duration::days(30),
            assistant_per_minute: 10,
        }
    }
}

impl AiRules {
    pub fn price(&self, kind: GenerationKind) -> u64 {
        match kind {
            GenerationKind::Fitting => self.fitting_price,
            GenerationKind::Editing => self.editing_price,
        }
    }
}

/// The AI services and their rules.
#[derive(Clone)]
pub struct Ai {
    pub images: Arc<dyn ImageProvider>,
    pub chat: Arc<dyn ChatModel>,
    pub rules: AiRules,
}

/// A request for a generation.
#[derive(Debug, Clone)]
pub struct GenerationRequest {
    pub kind: GenerationKind,
    /// Fitting: the person, then the garment. Editing: the photo.
    pub input_files: Vec<Uuid>,
    /// Editing: what to change (required). Fitting: an optional wish added to the
    /// fitting's own instruction.
    pub prompt: Option<String>,
}

const PROMPT_CHARS: usize = 2000;

/// The operation id a job's credits are spent (and refunded) under.
pub fn spend_operation(job_id: Uuid) -> String {
    format!("generation:{job_id}")
}

impl Core {
    /// Requests a generation for `caller` and charges it: `Ok` once charged, or the
    /// refusal (too few credits: `insufficient_credits`, nothing spent).
    pub async fn request_generation(
        &self,
        caller: Caller,
        request: GenerationRequest,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        caller.require(Action::GenerateImage)?;
        if !self.ai.images.configured() {
            return Err(CommandError::invalid_state(
                "image generation is not offered here (no provider key)",
            )
            .with_code("generation_not_configured"));
        }
        let kind = request.kind;
        if request.input_files.len() != kind.inputs() {
            return Err(CommandError::invalid(
                "input_files",
                format!("a {} takes {} photo(s)", kind.as_str(), kind.inputs()),
            ));
        }
        let prompt = match (kind, request.prompt.as_deref().map(str::trim)) {
            (GenerationKind::Editing, None) | (GenerationKind::Editing, Some("")) => {
                return Err(CommandError::invalid(
                    "prompt",
                    "say what to change in the photo",
                ));
            }
            (_, Some(prompt)) if !prompt.is_empty() => {
                text_within("prompt", prompt, PROMPT_CHARS, "1 to 2000 characters")?;
                if prompt.contains('\0') {
                    return Err(CommandError::invalid(
                        "prompt",
                        "text without NUL characters",
                    ));
                }
                Some(prompt.to_owned())
            }
            _ => None,
        };
        // The same id when a bot update is handled again (`once_under`).
        let job_id = crate::command::new_id();
        self.claim_inputs(caller.user_id, job_id, &request.input_files)
            .await?;
        let keep_until = self
            .files
            .policy
            .rules(FilePurpose::GenerationInput)
            .and_then(|rules| rules.keep_for)
            .map(|keep| now + keep);
        sqlx::query(
            "INSERT INTO generation_prompts (job_id, user_id, prompt, erase_after) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (job_id) DO NOTHING",
        )
        .bind(job_id)
        .bind(caller.user_id)
        .bind(&prompt)
        .bind(keep_until)
        .execute(self.pool())
        .await?;
        let price = self.ai.rules.price(kind);
        let context = caller.context().at(now);
        let requested = self
            .commands
            .generation_jobs
            .execute(
                &job_id.to_string(),
                GenerationCommand::Request {
                    job_id,
                    user_id: caller.user_id,
                    kind,
                    input_files: request.input_files,
                    price,
                    at: now,
                },
                &context,
            )
            .await?;
        let charged = self
            .charge_generation(job_id, caller.user_id, price, &context)
            .await?;
        Ok(Written::new(
            requested.aggregate_id,
            charged.max(requested.sequence),
        ))
    }

    /// The photos must be the caller's, uploaded for generations and not erased;
    /// they are attached to the job.
    async fn claim_inputs(
        &self,
        owner: Uuid,
        job_id: Uuid,
        files: &[Uuid],
    ) -> Result<(), CommandError> {
        for (index, file_id) in files.iter().enumerate() {
            if files[..index].contains(file_id) {
                return Err(CommandError::invalid(
                    format!("input_files[{index}]"),
                    "each photo once",
                ));
            }
            let usable: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM stored_files WHERE file_id = $1 AND owner_id = $2 \
                     AND purpose = $3 AND erased_at IS NULL)",
            )
            .bind(file_id)
            .bind(owner)
            .bind(FilePurpose::GenerationInput.as_str())
            .fetch_one(self.pool())
            .await?;
            if !usable {
                return Err(CommandError::invalid(
                    format!("input_files[{index}]"),
                    "a photo you uploaded for generations (purpose generation_input) that was \
                     not erased",
                ));
            }
        }
        sqlx::query(
            "UPDATE stored_files SET attached_kind = 'generation', attached_id = $2 \
             WHERE file_id = ANY($1) AND attached_kind IS NULL",
        )
        .bind(files)
        .bind(job_id.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Spends a requested job's credits under its id (with this month's allowance
    /// granted first, so it counts) and records the charge, or rejects the job when
    /// the balance is short. Safe to repeat, and safe against a job rejected
    /// meanwhile: credits spent for a job that cannot be charged any more are refunded.
    /// The job's sequence after.
    pub async fn charge_generation(
        &self,
        job_id: Uuid,
        user_id: Uuid,
        price: u64,
        context: &CommandContext,
    ) -> Result<usize, CommandError> {
        let account = user_id.to_string();
        let job = job_id.to_string();
        let now = context.at;
        if price == 0 {
            let charged = self
                .commands
                .generation_jobs
                .execute(&job, GenerationCommand::RecordCharge { at: now }, context)
                .await?;
            return Ok(charged.sequence);
        }
        if self.ai.rules.monthly_allowance > 0 {
            self.commands
                .credits
                .execute(
                    &account,
                    CreditCommand::GrantMonthlyAllowance {
                        month: format!("{:04}-{:02}", now.year(), now.month()),
                        amount: self.ai.rules.monthly_allowance,
                    },
                    context,
                )
                .await?;
        }
        let spent = self
            .commands
            .credits
            .execute(
                &account,
                CreditCommand::Spend {
                    amount: price,
                    reason: "image generation".into(),
                    operation_id: spend_operation(job_id),
                    at: now,
                },
                context,
            )
            .await;
        match spent {
            Err(refused) if refused.code == Some("insufficient_credits") => {
                self.commands
                    .generation_jobs
                    .execute(
                        &job,
                        GenerationCommand::Reject {
                            reason: "insufficient_credits".into(),
                            at: now,
                        },
                        context,
                    )
                    .await?;
                Err(refused)
            }
            Err(other) => Err(other),
            Ok(_) => {
                let charged = self
                    .commands
                    .generation_jobs
                    .execute(&job, GenerationCommand::RecordCharge { at: now }, context)
                    .await;
                match charged {
                    Ok(charged) => Ok(charged.sequence),
                    Err(refused) if refused.code == Some("generation_status") => {
                        tracing::warn!(%job_id, "credits spent for a rejected job: refunded");
                        self.refund_generation_spend(job_id, user_id, context)
                            .await?;
                        Err(refused)
                    }
                    Err(other) => Err(other),
                }
            }
        }
    }

    /// Returns a failed job's credits, once (the credit account refuses a second
    /// refund of the same spend, and the job records it once).
    pub async fn return_generation_credits(
        &self,
        job_id: Uuid,
        user_id: Uuid,
        context: &CommandContext,
    ) -> Result<(), CommandError> {
        self.refund_generation_spend(job_id, user_id, context)
            .await?;
        let now = context.at;
        self.commands
            .generation_jobs
            .execute(
                &job_id.to_string(),
                GenerationCommand::RecordCreditsReturned { at: now },
                context,
            )
            .await?;
        Ok(())
    }

    async fn refund_generation_spend(
        &self,
        job_id: Uuid,
        user_id: Uuid,
        context: &CommandContext,
    ) -> Result<(), CommandError> {
        let refunded = self
            .commands
            .credits
            .execute(
                &user_id.to_string(),
                CreditCommand::RefundSpend {
                    operation_id: spend_operation(job_id),
                    at: context.at,
                },
                context,
            )
            .await;
        match refunded {
            Ok(_) => Ok(()),
            Err(refused) if refused.code == Some("spend_already_refunded") => Ok(()),
            Err(other) => Err(other),
        }
    }
}

/// A generation whose last photo comes with the request.
#[derive(Debug, Clone)]
pub struct WithNewPhoto {
    pub kind: GenerationKind,
    /// The photos already uploaded, before the new one.
    pub earlier: Vec<Uuid>,
    pub photo: crate::use_cases::files::Upload,
    pub prompt: Option<String>,
}

impl Core {
    /// A generation whose last photo arrives with the request (the bot: the garment's
    /// photo of a fitting, the photo of an editing sent with its caption): the photo
    /// is taken as a `generation_input` upload, then the generation requested with
    /// `earlier` photos before it.
    pub async fn generate_with_new_photo(
        &self,
        caller: Caller,
        request: WithNewPhoto,
        source: &mut dyn crate::use_cases::files::ChunkSource,
        now: DateTime<Utc>,
    ) -> Result<Written, crate::use_cases::files::FileError> {
        let WithNewPhoto {
            kind,
            earlier,
            photo,
            prompt,
        } = request;
        if !self.ai.images.configured() {
            return Err(CommandError::invalid_state(
                "image generation is not offered here (no provider key)",
            )
            .with_code("generation_not_configured")
            .into());
        }
        let stored = self.upload_file(caller, photo, source, now).await?;
        let mut input_files = earlier;
        input_files.push(stored.file_id);
        Ok(self
            .request_generation(
                caller,
                GenerationRequest {
                    kind,
                    input_files,
                    prompt,
                },
                now,
            )
            .await?)
    }
}
