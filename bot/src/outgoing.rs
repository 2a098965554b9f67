//! Everything the bot sends goes through [`Outgoing`]: paced within Telegram's limits
//! (28 messages a second overall, under Telegram's "about 30"; for bulk sending one a
//! second per private chat and 20 a minute per group; edits count too), 429 answers
//! turned into a wait, and chats that blocked the bot remembered in `bot_blocked_chats` so nothing
//! more is sent there until they write again.
//!
//! teloxide's `Throttle` adaptor is not used: it paces sends but not edits, and it
//! gives every supergroup the channel limit (10 a minute) because a chat id cannot
//! tell them apart; this pacer counts every request and gives groups 20 a minute.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{FileId, InlineKeyboardMarkup, InputFile, MessageId, ParseMode, ThreadId};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Why a message was not sent.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    #[error("the chat blocked the bot or is gone")]
    Blocked,
    #[error("Telegram asks to wait {0:?}")]
    RetryAfter(Duration),
    #[error("Telegram refused the message: {0}")]
    Refused(String),
    #[error("Telegram could not be reached: {0}")]
    Unreachable(String),
}

/// How a message is paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// An answer to what the person just did: only the overall limit applies.
    Reply,
    /// Notifications and broadcasts: the per-chat limits apply too.
    Bulk,
    /// The caller already waited its turn ([`Outgoing::wait_turn`]).
    Waited,
}

/// Gaps between requests: overall, per private chat, per group.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub overall: Duration,
    pub private_chat: Duration,
    pub group: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // 28 a second: Telegram's "about 30", with room for requests that
            // arrive a little closer together than they left.
            overall: Duration::from_micros(1_000_000 / 28),
            private_chat: Duration::from_secs(1),
            group: Duration::from_secs(3),
        }
    }
}

#[derive(Default)]
struct Pacer {
    /// The moments already given out, each at least `overall` from the next.
    slots: BTreeSet<Instant>,
    next_in_chat: HashMap<i64, Instant>,
}

impl Pacer {
    /// When a request to `chat` may go, reserving that moment: the chat's next free
    /// moment (for bulk sends), then the first moment no other request is closer to
    /// than the overall gap. A request waiting for its chat takes no moment from the
    /// others meanwhile.
    fn reserve(&mut self, limits: &Limits, chat: i64, pace: Pace) -> Instant {
        let now = Instant::now();
        let gap = limits.overall;
        if let Some(stale) = now.checked_sub(gap) {
            self.slots = self.slots.split_off(&stale);
        }
        let mut at = now;
        if pace == Pace::Bulk
            && let Some(next) = self.next_in_chat.get(&chat)
        {
            at = at.max(*next);
        }
        while let Some(taken) = self
            .slots
            .range((
                Bound::Excluded(at.checked_sub(gap).unwrap_or(at)),
                Bound::Excluded(at + gap),
            ))
            .next_back()
            .copied()
        {
            at = taken + gap;
        }
        self.slots.insert(at);
        if pace == Pace::Bulk {
            let chat_gap = if chat < 0 {
                limits.group
            } else {
                limits.private_chat
            };
            if self.next_in_chat.len() > 10_000 {
                self.next_in_chat.retain(|_, next| *next > now);
            }
            self.next_in_chat.insert(chat, at + chat_gap);
        }
        at
    }
}

/// The bot's way out to Telegram.
#[derive(Clone)]
pub struct Outgoing {
    bot: Bot,
    pool: PgPool,
    limits: Limits,
    pacer: Arc<Mutex<Pacer>>,
}

impl Outgoing {
    pub fn new(bot: Bot, pool: PgPool, limits: Limits) -> Self {
        Self {
            bot,
            pool,
            limits,
            pacer: Arc::default(),
        }
    }

    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// Waits until a request to `chat` may go (then send with [`Pace::Waited`]).
    pub async fn wait_turn(&self, chat: i64, pace: Pace) {
        if pace == Pace::Waited {
            return;
        }
        let at = self.pacer.lock().await.reserve(&self.limits, chat, pace);
        tokio::time::sleep_until(at).await;
    }

    /// Sends `html` (Telegram HTML: user text must be escaped already) to `chat`.
    pub async fn html(
        &self,
        chat: i64,
        html: &str,
        keyboard: Option<InlineKeyboardMarkup>,
        pace: Pace,
    ) -> Result<MessageId, SendError> {
        self.html_in(chat, None, html, keyboard, pace).await
    }

    /// Sends `html` to `chat`, in forum topic `thread` when given.
    pub async fn html_in(
        &self,
        chat: i64,
        thread: Option<ThreadId>,
        html: &str,
        keyboard: Option<InlineKeyboardMarkup>,
        pace: Pace,
    ) -> Result<MessageId, SendError> {
        self.wait_turn(chat, pace).await;
        let mut request = self
            .bot
            .send_message(ChatId(chat), html)
            .parse_mode(ParseMode::Html);
        if let Some(thread) = thread {
            request = request.message_thread_id(thread);
        }
        if let Some(keyboard) = keyboard {
            request = request.reply_markup(keyboard);
        }
        match request.await {
            Ok(message) => Ok(message.id),
            Err(error) => Err(self.refusal(chat, error).await),
        }
    }

    /// Sends the photo Telegram knows as `file_id` to `chat`, with `caption` (HTML).
    pub async fn photo(
        &self,
        chat: i64,
        file_id: &str,
        caption: &str,
        keyboard: Option<InlineKeyboardMarkup>,
        pace: Pace,
    ) -> Result<MessageId, SendError> {
        self.wait_turn(chat, pace).await;
        let photo = InputFile::file_id(FileId(file_id.to_owned()));
        let mut request = self.bot.send_photo(ChatId(chat), photo);
        if !caption.is_empty() {
            request = request.caption(caption).parse_mode(ParseMode::Html);
        }
        if let Some(keyboard) = keyboard {
            request = request.reply_markup(keyboard);
        }
        match request.await {
            Ok(message) => Ok(message.id),
            Err(error) => Err(self.refusal(chat, error).await),
        }
    }

    /// Replaces the text (and buttons) of a message the bot sent.
    pub async fn edit_html(
        &self,
        chat: i64,
        message: MessageId,
        html: &str,
        keyboard: Option<InlineKeyboardMarkup>,
    ) -> Result<(), SendError> {
        self.wait_turn(chat, Pace::Reply).await;
        let mut request = self
            .bot
            .edit_message_text(ChatId(chat), message, html)
            .parse_mode(ParseMode::Html);
        if let Some(keyboard) = keyboard {
            request = request.reply_markup(keyboard);
        }
        match request.await {
            Ok(_) => Ok(()),
            Err(error) => Err(self.refusal(chat, error).await),
        }
    }

    /// Stops the button's spinner (Telegram wants an answer to every button press).
    pub async fn answer_button(&self, callback: teloxide::types::CallbackQueryId) {
        if let Err(error) = self.bot.answer_callback_query(callback).await {
            tracing::debug!(%error, "a button press could not be answered");
        }
    }

    /// Whether `chat` blocked the bot (and has not written since).
    pub async fn is_blocked(&self, chat: i64) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM bot_blocked_chats WHERE chat_id = $1)")
            .bind(chat)
            .fetch_one(&self.pool)
            .await
    }

    /// `chat` wrote to the bot: it can be sent to again.
    pub async fn unblocked(&self, chat: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM bot_blocked_chats WHERE chat_id = $1")
            .bind(chat)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn refusal(&self, chat: i64, error: RequestError) -> SendError {
        let refusal = match error {
            RequestError::RetryAfter(seconds) => SendError::RetryAfter(seconds.duration()),
            RequestError::Api(
                ApiError::BotBlocked
                | ApiError::UserDeactivated
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup
                | ApiError::BotKickedFromChannel
                | ApiError::ChatNotFound,
            ) => SendError::Blocked,
            RequestError::Api(other) => SendError::Refused(other.to_string()),
            RequestError::MigrateToChatId(to) => {
                SendError::Refused(format!("the group moved to chat {to}"))
            }
            other => SendError::Unreachable(other.to_string()),
        };
        if matches!(refusal, SendError::Blocked) {
            let marked = sqlx::query(
                "INSERT INTO bot_blocked_chats (chat_id, blocked_at) VALUES ($1, $2) \
                 ON CONFLICT (chat_id) DO NOTHING",
            )
            .bind(chat)
            .bind(Utc::now())
            .execute(&self.pool)
            .await;
            if let Err(error) = marked {
                tracing::warn!(chat, %error, "a chat that blocked the bot could not be marked");
            }
        }
        refusal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bulk_sends_keep_the_gaps_overall_and_per_chat() {
        let limits = Limits::default();
        let mut pacer = Pacer::default();
        let start = Instant::now();
        let first = pacer.reserve(&limits, 7, Pace::Bulk);
        let same_chat = pacer.reserve(&limits, 7, Pace::Bulk);
        let other_chat = pacer.reserve(&limits, 8, Pace::Bulk);
        let group = pacer.reserve(&limits, -100, Pace::Bulk);
        let group_again = pacer.reserve(&limits, -100, Pace::Bulk);
        let reply = pacer.reserve(&limits, 7, Pace::Reply);
        assert_eq!(first, start);
        assert_eq!(same_chat - first, Duration::from_secs(1));
        assert_eq!(
            other_chat - first,
            limits.overall,
            "a chat is not held up by another chat's wait"
        );
        assert_eq!(group_again - group, Duration::from_secs(3));
        assert!(
            reply < same_chat,
            "answers do not wait for the chat's bulk gap"
        );
        let mut moments = [first, same_chat, other_chat, group, group_again, reply];
        moments.sort();
        for pair in moments.windows(2) {
            assert!(pair[1] - pair[0] >= limits.overall, "{moments:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_thousand_chats_go_at_twenty_eight_a_second() {
        let limits = Limits::default();
        let mut pacer = Pacer::default();
        let start = Instant::now();
        let last = (0..1_000)
            .map(|chat| pacer.reserve(&limits, chat, Pace::Bulk))
            .max()
            .expect("reserved");
        let seconds = (last - start).as_secs_f64();
        assert!((35.5..36.0).contains(&seconds), "{seconds} s");
    }
}
