//! Where a chat is in a dialogue, kept in `bot_dialogues` so a restart continues it.
//! A stored state this version cannot read (an older shape) counts as no dialogue,
//! so a change of the steps never wedges a chat.

use chrono::{DateTime, NaiveDate, Utc};
use domain::use_cases::broadcasts::Audience;
use projections::read_models::users::UserFilter;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

/// The dialogue a chat is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Opening a ticket under `category`: the next text is the question.
    TicketQuestion { category: String },
    /// Talking in a ticket: every text goes to it.
    InTicket { ticket_id: Uuid },
    /// Writing a coursework brief, field by field.
    Brief(BriefDraft),
    /// Staff: the next text is the order's price.
    QuotePrice { order_id: Uuid },
    /// The customer: the next text is what to revise.
    RevisionReason { order_id: Uuid },
    /// The executor: files of the result, until "submit" (`files`: Telegram file
    /// ids of dialogues begun before files were kept; `attachments`: kept files).
    SubmitResult {
        order_id: Uuid,
        files: Vec<String>,
        #[serde(default)]
        attachments: Vec<Uuid>,
    },
    /// An admin paging through users: the filter and where the next page starts.
    UserList { filter: UserFilter, next: String },
    /// Staff writing a broadcast for `audience`: the next message is its text.
    BroadcastText { audience: Audience },
    /// Booking the salon (or moving a booking), choice by choice.
    Booking(BookingDraft),
    /// Applying to become an executor: the next text is the form.
    Application,
    /// A photo arrived for a generation: fitting or editing is asked next.
    GenerationPhoto { photo: Uuid },
    /// A fitting: the next photo is the garment's.
    FittingGarment { person: Uuid },
    /// An editing: the next text says what to change.
    EditingPrompt { photo: Uuid },
    /// An editing with the assistant: texts go to its chat `session`, its
    /// suggestions are buttons.
    EditingAssistant { photo: Uuid, session: Uuid },
    /// A chat with the students' assistant.
    StudyAssistant { session: Uuid },
}

/// A booking as far as the customer has chosen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingDraft {
    pub service_id: Option<String>,
    pub master_id: Option<Uuid>,
    pub date: Option<NaiveDate>,
    /// Moving this booking rather than making a new one.
    pub moving: Option<Uuid>,
}

/// A coursework brief as far as the customer has got; the first missing field is
/// the one asked next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BriefDraft {
    pub work_type: Option<String>,
    pub subject: Option<String>,
    pub volume: Option<u32>,
    pub deadline: Option<DateTime<Utc>>,
    /// Telegram file ids of the materials (drafts begun before files were kept).
    pub files: Vec<String>,
    /// The materials, kept in the file store (coursework files of the customer's).
    #[serde(default)]
    pub attachments: Vec<Uuid>,
    /// The customer said the files are all there.
    pub files_done: bool,
}

/// The chat's dialogue, if any.
pub async fn current(pool: &PgPool, chat_id: i64) -> Result<Option<Step>, sqlx::Error> {
    let state: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT state FROM bot_dialogues WHERE chat_id = $1")
            .bind(chat_id)
            .fetch_optional(pool)
            .await?;
    Ok(state.and_then(|state| match serde_json::from_value(state) {
        Ok(step) => Some(step),
        Err(error) => {
            tracing::info!(chat_id, %error, "a stored dialogue step is no longer known; starting over");
            None
        }
    }))
}

/// Moves the chat to `step`.
pub async fn enter(pool: &PgPool, chat_id: i64, step: &Step) -> Result<(), sqlx::Error> {
    let state = serde_json::to_value(step).map_err(|error| sqlx::Error::Encode(error.into()))?;
    set(pool, chat_id, handling(), Some(&state)).await
}

/// Ends the chat's dialogue.
pub async fn leave(pool: &PgPool, chat_id: i64) -> Result<(), sqlx::Error> {
    set(pool, chat_id, handling(), None).await
}

/// Writes the chat's step (`None`: no dialogue); under update `update` (`$2`) its
/// first change also keeps the step before it (`KEEP`).
async fn set(
    pool: &PgPool,
    chat_id: i64,
    update: Option<i64>,
    state: Option<&serde_json::Value>,
) -> Result<(), sqlx::Error> {
    match state {
        Some(state) => {
            sqlx::query(&format!(
                "WITH {KEEP} INSERT INTO bot_dialogues (chat_id, state, updated_at) VALUES ($1, $3, $4) \
                 ON CONFLICT (chat_id) DO UPDATE SET state = $3, updated_at = $4"
            ))
            .bind(chat_id)
            .bind(update)
            .bind(state)
            .bind(Utc::now())
            .execute(pool)
            .await?;
        }
        None => {
            sqlx::query(&format!(
                "WITH {KEEP} DELETE FROM bot_dialogues WHERE chat_id = $1"
            ))
            .bind(chat_id)
            .bind(update)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

/// The first change of a chat's dialogue by the update being handled (`$2`, of this
/// chat `$1`) keeps the step before it with the update, in the same statement (the
/// sub-select reads the statement's snapshot: the step as it was). Updates that move
/// no dialogue pay nothing.
const KEEP: &str = "kept AS (UPDATE bot_updates \
     SET dialogue_kept = true, dialogue_before = (SELECT state FROM bot_dialogues WHERE chat_id = $1) \
     WHERE update_id = $2 AND chat_id = $1 AND NOT dialogue_kept)";

tokio::task_local! {
    static HANDLING: i64;
}

/// Runs `work`, the handling of update `update_id`, so that the dialogue steps it
/// changes are kept with it.
pub async fn handling_update<F: std::future::Future>(update_id: i64, work: F) -> F::Output {
    HANDLING.scope(update_id, work).await
}

fn handling() -> Option<i64> {
    HANDLING.try_with(|update| *update).ok()
}

/// Before update `update_id` of chat `chat_id` is handled again: its first attempt
/// moved the dialogue on from `before` (`None`: there was none), so the step is put
/// back and the update takes the path it took the first time. The chat's later
/// updates wait for this one, so nothing newer is overwritten.
pub async fn restore(
    pool: &PgPool,
    chat_id: i64,
    before: Option<&serde_json::Value>,
) -> Result<(), sqlx::Error> {
    set(pool, chat_id, None, before).await
}
