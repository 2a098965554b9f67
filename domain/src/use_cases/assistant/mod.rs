//! The AI assistants: the editing assistant (a photo's chat that proposes three prompt
//! variants to generate from, a credit per request) and the students' assistant
//! (answers from the FAQ, hands over to a person by opening a ticket). A chat is kept
//! outside the log (`assistant_sessions`, `assistant_messages`) and erased 30 days
//! after its last message; the last 10 messages go to the model.

mod replies;
mod requests;
mod usage;
mod variants;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::command::CommandError;
use crate::credit::CreditCommand;
use crate::permissions::{Action, Caller};
use crate::use_cases::generation::port::ChatMessage;
use crate::use_cases::tickets::NewTicket;
use crate::use_cases::{Core, Written, text_within};
pub use replies::{EDITING_INSTRUCTIONS, parse_editing_answer};
pub use requests::ABANDONED_AFTER;
pub use usage::{Usage, record_usage};

/// Which assistant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssistantKind {
    /// Proposes prompts for editing a photo (the AI-image service).
    Editing,
    /// Answers students' questions from the FAQ (the coursework service).
    Study,
}

impl AssistantKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AssistantKind::Editing => "editing",
            AssistantKind::Study => "study",
        }
    }

    fn parse(text: &str) -> AssistantKind {
        if text == "study" {
            AssistantKind::Study
        } else {
            AssistantKind::Editing
        }
    }
}

/// How many earlier messages go to the model with a new one.
pub const HISTORY: i64 = 10;
const MESSAGE_CHARS: usize = 2000;

/// The assistant's answer to a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssistantReply {
    pub session_id: Uuid,
    pub reply: String,
    /// The editing assistant's three prompts to generate from (none for the other).
    pub variants: Vec<String>,
    /// Credits the request cost.
    pub credits: u64,
    /// The answer's place in its chat: its suggestions are picked by it.
    pub position: i32,
}

impl Core {
    /// Starts a chat with the `kind` assistant.
    pub async fn start_assistant_session(
        &self,
        caller: Caller,
        kind: AssistantKind,
        now: DateTime<Utc>,
    ) -> Result<Uuid, CommandError> {
        caller.require(Action::UseAssistant)?;
        let session_id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO assistant_sessions (session_id, user_id, kind, created_at, last_message_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(session_id)
        .bind(caller.user_id)
        .bind(kind.as_str())
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(session_id)
    }

    /// Ends the chat and starts a new one with the same assistant; the new one's id.
    pub async fn reset_assistant_session(
        &self,
        caller: Caller,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Uuid, CommandError> {
        let kind = self.own_session(caller, session_id).await?;
        sqlx::query("UPDATE assistant_sessions SET closed_at = $2 WHERE session_id = $1")
            .bind(session_id)
            .bind(now)
            .execute(self.pool())
            .await?;
        self.start_assistant_session(caller, kind, now).await
    }

    /// Sends `text` to the assistant and returns its answer. The editing assistant
    /// charges its price in credits first and returns them if the model fails.
    pub async fn ask_assistant(
        &self,
        caller: Caller,
        session_id: Uuid,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<AssistantReply, CommandError> {
        text_within("text", text, MESSAGE_CHARS, "1 to 2000 characters")?;
        if text.contains('\0') {
            return Err(CommandError::invalid("text", "text without NUL characters"));
        }
        let kind = self.own_session(caller, session_id).await?;
        if !self.ai.chat.configured() {
            return Err(CommandError::invalid_state(
                "the assistant is not offered here (no model key)",
            )
            .with_code("assistant_not_configured"));
        }
        let mut messages = vec![ChatMessage {
            role: "system".into(),
            content: self.instructions(kind).await?,
        }];
        messages.extend(self.history(session_id).await?);
        messages.push(ChatMessage {
            role: "user".into(),
            content: text.trim().to_owned(),
        });
        let price = match kind {
            AssistantKind::Editing => self.ai.rules.assistant_price,
            AssistantKind::Study => 0,
        };
        let operation = format!("assistant:{}", Uuid::now_v7());
        requests::begin(self, caller, &operation, price, now).await?;
        if price > 0 {
            let spent = self
                .commands
                .credits
                .execute(
                    &caller.user_id.to_string(),
                    CreditCommand::Spend {
                        amount: price,
                        reason: "assistant request".into(),
                        operation_id: operation.clone(),
                        at: now,
                    },
                    &caller.context().at(now),
                )
                .await;
            if let Err(refused) = spent {
                if refused.is_transient() {
                    // It may have been spent after all: return it (a spend that never
                    // happened is fine); failing that, the housekeeping will.
                    if let Err(error) =
                        requests::refund(self, caller.user_id, &operation, price, now).await
                    {
                        tracing::warn!(%error, "an assistant request's spend is left to the housekeeping");
                    }
                } else {
                    requests::settle(self, &operation, now).await?;
                }
                return Err(refused);
            }
        }
        let begun = std::time::Instant::now();
        let answered = self.ai.chat.complete(&messages).await;
        let answer = match answered {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(%error, "the assistant's model failed");
                requests::refund(self, caller.user_id, &operation, price, now).await?;
                return Err(CommandError::new(
                    crate::command::ErrorKind::Upstream,
                    "the assistant cannot answer right now; try again in a moment",
                )
                .with_code("assistant_unavailable"));
            }
        };
        let (reply, variants) = match kind {
            AssistantKind::Editing => parse_editing_answer(&answer.content),
            AssistantKind::Study => (answer.content.trim().to_owned(), Vec::new()),
        };
        self.add_message(session_id, caller.user_id, "user", text.trim(), &[], now)
            .await?;
        let position = self
            .add_message(
                session_id,
                caller.user_id,
                "assistant",
                &reply,
                &variants,
                now,
            )
            .await?;
        requests::settle(self, &operation, now).await?;
        record_usage(
            self.pool(),
            Usage {
                user_id: caller.user_id,
                provider: self.ai.chat.name().to_owned(),
                model: Some(answer.model.clone()),
                purpose: match kind {
                    AssistantKind::Editing => "editing_assistant",
                    AssistantKind::Study => "study_assistant",
                },
                subject_id: session_id.to_string(),
                prompt_tokens: Some(answer.prompt_tokens),
                completion_tokens: Some(answer.completion_tokens),
                cost: answer.cost.unwrap_or_default(),
                credits: price,
                duration: begun.elapsed(),
            },
        )
        .await?;
        Ok(AssistantReply {
            session_id,
            reply,
            variants,
            credits: price,
            position,
        })
    }

    /// The students' assistant hands over to a person: a ticket with the chat's last
    /// question.
    pub async fn hand_over_to_support(
        &self,
        caller: Caller,
        session_id: Uuid,
        category: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Written, CommandError> {
        self.own_session(caller, session_id).await?;
        let last: Option<String> = sqlx::query_scalar(
            "SELECT content FROM assistant_messages WHERE session_id = $1 AND role = 'user' \
             ORDER BY position DESC LIMIT 1",
        )
        .bind(session_id)
        .fetch_optional(self.pool())
        .await?;
        let question = last
            .ok_or_else(|| CommandError::invalid_state("ask the assistant your question first"))?;
        self.open_ticket(
            caller,
            NewTicket {
                category: category.unwrap_or_else(|| "general".into()),
                title: "A question the assistant could not answer".into(),
                description: question,
                priority: None,
            },
            now,
        )
        .await
    }

    /// Erases the chats whose last message is older than the retention; how many.
    pub async fn erase_expired_chats(&self, now: DateTime<Utc>) -> Result<u64, CommandError> {
        let cutoff = now - self.ai.rules.chat_kept_for;
        let mut transaction = self.pool().begin().await?;
        let erased: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE assistant_sessions SET erased_at = $2, closed_at = coalesce(closed_at, $2) \
             WHERE erased_at IS NULL AND last_message_at <= $1 RETURNING session_id",
        )
        .bind(cutoff)
        .bind(now)
        .fetch_all(&mut *transaction)
        .await?;
        sqlx::query("DELETE FROM assistant_messages WHERE session_id = ANY($1)")
            .bind(&erased)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(erased.len() as u64)
    }

    async fn own_session(
        &self,
        caller: Caller,
        session_id: Uuid,
    ) -> Result<AssistantKind, CommandError> {
        caller.require(Action::UseAssistant)?;
        let kind: Option<String> = sqlx::query_scalar(
            "SELECT kind FROM assistant_sessions WHERE session_id = $1 AND user_id = $2 \
                 AND closed_at IS NULL AND erased_at IS NULL",
        )
        .bind(session_id)
        .bind(caller.user_id)
        .fetch_optional(self.pool())
        .await?;
        kind.map(|kind| AssistantKind::parse(&kind))
            .ok_or_else(|| CommandError::not_found("no such open assistant chat"))
    }

    async fn instructions(&self, kind: AssistantKind) -> Result<String, CommandError> {
        match kind {
            AssistantKind::Editing => Ok(EDITING_INSTRUCTIONS.to_owned()),
            AssistantKind::Study => {
                let entries: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT category, question, answer FROM faq_entries ORDER BY category, question LIMIT 200",
                )
                .fetch_all(self.pool())
                .await?;
                Ok(replies::study_instructions(&entries))
            }
        }
    }

    async fn history(&self, session_id: Uuid) -> Result<Vec<ChatMessage>, CommandError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT role, content FROM (SELECT role, content, position FROM assistant_messages \
                 WHERE session_id = $1 ORDER BY position DESC LIMIT $2) last ORDER BY position",
        )
        .bind(session_id)
        .bind(HISTORY)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(role, content)| ChatMessage { role, content })
            .collect())
    }

    async fn add_message(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        role: &str,
        content: &str,
        variants: &[String],
        now: DateTime<Utc>,
    ) -> Result<i32, CommandError> {
        let mut transaction = self.pool().begin().await?;
        let position: i32 = sqlx::query_scalar(
            "UPDATE assistant_sessions SET last_message_at = $2, messages = messages + 1 \
             WHERE session_id = $1 RETURNING messages",
        )
        .bind(session_id)
        .bind(now)
        .fetch_one(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO assistant_messages (session_id, position, user_id, role, content, variants, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session_id)
        .bind(position)
        .bind(user_id)
        .bind(role)
        .bind(content)
        .bind(serde_json::json!(variants))
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(position)
    }
}
