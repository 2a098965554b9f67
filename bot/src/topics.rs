//! A forum topic per ticket in the staff group. The topic is made when the ticket's
//! first notice reaches the group and remembered in `bot_ticket_topics`; the
//! customer's messages are posted in it, and staff messages written in it are the
//! ticket's replies (`/note …` stays an internal note). A group that is no forum (or
//! where the bot may not make topics) gets the notices as plain messages; that is
//! learnt from Telegram's refusal once per run. A crash between making a topic and
//! recording it leaves that topic unused and makes another: the one case of two.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use sqlx::PgPool;
use teloxide::prelude::*;
use teloxide::types::{MessageId, ThreadId};
use uuid::Uuid;

use crate::outgoing::{Outgoing, Pace, SendError};

/// Topic names hold at most 128 characters.
const NAME_LENGTH: usize = 128;

/// Whether topics are worth trying in the staff group (false once Telegram said no).
#[derive(Clone)]
pub struct Topics {
    pool: PgPool,
    enabled: Arc<AtomicBool>,
}

impl Topics {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            enabled: Arc::new(AtomicBool::new(true)),
        }
    }

    /// The ticket's topic in `chat`, made now if `create` and there is none yet.
    /// `Ok(None)`: post in the group itself.
    pub async fn of_ticket(
        &self,
        out: &Outgoing,
        chat: i64,
        ticket_id: Uuid,
        title: &str,
        create: bool,
    ) -> Result<Option<ThreadId>, SendError> {
        if let Some(thread) = self.known(ticket_id, chat).await? {
            return Ok(Some(thread));
        }
        if !create || !self.enabled.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let name: String = title.chars().take(NAME_LENGTH).collect();
        out.wait_turn(chat, Pace::Bulk).await;
        let topic = match out.bot().create_forum_topic(ChatId(chat), name).await {
            Ok(topic) => topic,
            Err(teloxide::RequestError::Api(refusal)) if takes_no_topics(&refusal) => {
                tracing::info!(chat, %refusal, "the staff group takes no topics; tickets are posted in the group");
                self.enabled.store(false, Ordering::Relaxed);
                return Ok(None);
            }
            Err(teloxide::RequestError::Api(refusal)) => {
                tracing::warn!(chat, %refusal, %ticket_id, "no topic for this ticket; it is posted in the group");
                return Ok(None);
            }
            Err(teloxide::RequestError::RetryAfter(wait)) => {
                return Err(SendError::RetryAfter(wait.duration()));
            }
            Err(teloxide::RequestError::Network(error)) if error.is_connect() => {
                return Err(SendError::Unreachable(error.to_string()));
            }
            // The topic may have been made: never a second one; post in the group.
            Err(other) => {
                tracing::warn!(chat, %ticket_id, error = %other, "a ticket's topic may or may not exist; it is posted in the group");
                return Ok(None);
            }
        };
        sqlx::query(
            "INSERT INTO bot_ticket_topics (ticket_id, chat_id, thread_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (ticket_id, chat_id) DO NOTHING",
        )
        .bind(ticket_id)
        .bind(chat)
        .bind(topic.thread_id.0.0)
        .bind(Utc::now())
        .execute(&self.pool)
        .await
        .map_err(|error| SendError::Unreachable(error.to_string()))?;
        self.known(ticket_id, chat).await
    }

    async fn known(&self, ticket_id: Uuid, chat: i64) -> Result<Option<ThreadId>, SendError> {
        let thread: Option<i32> = sqlx::query_scalar(
            "SELECT thread_id FROM bot_ticket_topics WHERE ticket_id = $1 AND chat_id = $2",
        )
        .bind(ticket_id)
        .bind(chat)
        .fetch_optional(&self.pool)
        .await
        .map_err(|error| SendError::Unreachable(error.to_string()))?;
        Ok(thread.map(|id| ThreadId(MessageId(id))))
    }

    /// The ticket whose topic `thread` of `chat` is.
    pub async fn ticket_of(
        &self,
        chat: i64,
        thread: ThreadId,
    ) -> Result<Option<Uuid>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT ticket_id FROM bot_ticket_topics WHERE chat_id = $1 AND thread_id = $2",
        )
        .bind(chat)
        .bind(thread.0.0)
        .fetch_optional(&self.pool)
        .await
    }
}

/// Whether Telegram's refusal says the group cannot have topics at all (no forum,
/// or the bot may not manage topics), rather than something about this one.
fn takes_no_topics(refusal: &teloxide::ApiError) -> bool {
    let text = refusal.to_string().to_ascii_lowercase();
    text.contains("not a forum")
        || text.contains("not enough rights")
        || text.contains("only for supergroups")
}
