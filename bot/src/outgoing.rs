//! Everything the bot sends goes through [`Outgoing`]: paced within Telegram's limits
//! (`pacer.rs`; edits count too), a 429 on an answer waited out and tried again (a
//! 429 is never delivered), private chats that blocked the bot remembered in
//! `bot_blocked_chats` so nothing more is sent there until they write again, and a
//! failure after which Telegram may have shown the message told apart (`InDoubt`)
//! from one where it cannot have, so callers repeat only the latter.
//!
//! teloxide's `Throttle` adaptor is not used: it paces sends but not edits, and it
//! gives every supergroup the channel limit (10 a minute) because a chat id cannot
//! tell them apart; this pacer counts every request and gives groups 20 a minute.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{FileId, InlineKeyboardMarkup, InputFile, MessageId, ParseMode, ThreadId};
use tokio::sync::Mutex;

use crate::pacer::Pacer;
pub use crate::pacer::{Limits, Pace};

/// How often an answer is tried again after a 429.
const ANSWER_RETRIES: usize = 2;

/// Why a message was not sent.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    #[error("the chat blocked the bot or is gone")]
    Blocked,
    #[error("Telegram asks to wait {0:?}")]
    RetryAfter(Duration),
    #[error("Telegram refused the message: {0}")]
    Refused(String),
    /// The request never reached Telegram (trying again cannot repeat a message).
    #[error("Telegram could not be reached: {0}")]
    Unreachable(String),
    /// The request may have reached Telegram (a timeout, an unreadable answer):
    /// trying again could show the message twice.
    #[error("Telegram may or may not have taken the message: {0}")]
    InDoubt(String),
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

    /// Sends `html` to `chat`, in forum topic `thread` when given. An answer
    /// (`Pace::Reply`) Telegram asked to wait for is sent again after the wait.
    pub async fn html_in(
        &self,
        chat: i64,
        thread: Option<ThreadId>,
        html: &str,
        keyboard: Option<InlineKeyboardMarkup>,
        pace: Pace,
    ) -> Result<MessageId, SendError> {
        let mut retries = if pace == Pace::Reply {
            ANSWER_RETRIES
        } else {
            0
        };
        loop {
            self.wait_turn(chat, pace).await;
            let mut request = self
                .bot
                .send_message(ChatId(chat), html)
                .parse_mode(ParseMode::Html);
            if let Some(thread) = thread {
                request = request.message_thread_id(thread);
            }
            if let Some(keyboard) = keyboard.clone() {
                request = request.reply_markup(keyboard);
            }
            match request.await {
                Ok(message) => return Ok(message.id),
                Err(RequestError::RetryAfter(wait)) if retries > 0 => {
                    retries -= 1;
                    let until = tokio::time::Instant::now() + wait.duration();
                    self.pacer.lock().await.hold(until);
                }
                Err(error) => return Err(self.refusal(chat, error).await),
            }
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
        let photo = InputFile::file_id(FileId(file_id.to_owned()));
        self.send_photo(chat, photo, caption, keyboard, pace).await
    }

    /// Sends a kept file (`size` bytes, streamed from `bytes`) to `chat` with
    /// `caption` (HTML): as a photo when Telegram takes it as one (at most 10 MB),
    /// else as a document (at most 50 MB).
    pub async fn kept_file(
        &self,
        chat: i64,
        (bytes, size): (tokio::fs::File, u64),
        name: &str,
        caption: &str,
        keyboard: Option<InlineKeyboardMarkup>,
        pace: Pace,
    ) -> Result<MessageId, SendError> {
        const LARGEST_PHOTO: u64 = 10 * 1024 * 1024;
        let file = InputFile::read(bytes).file_name(name.to_owned());
        if size <= LARGEST_PHOTO {
            return self.send_photo(chat, file, caption, keyboard, pace).await;
        }
        self.wait_turn(chat, pace).await;
        let mut request = self.bot.send_document(ChatId(chat), file);
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

    async fn send_photo(
        &self,
        chat: i64,
        photo: InputFile,
        caption: &str,
        keyboard: Option<InlineKeyboardMarkup>,
        pace: Pace,
    ) -> Result<MessageId, SendError> {
        self.wait_turn(chat, pace).await;
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
            // A second press repeats the same edit: nothing to change is no failure.
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
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
        if let RequestError::RetryAfter(wait) = &error {
            // Flood control is for the whole bot: every later request waits too.
            let until = tokio::time::Instant::now() + wait.duration();
            self.pacer.lock().await.hold(until);
        }
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
            // teloxide hides the token in its errors' text.
            RequestError::Network(error) if error.is_connect() => {
                SendError::Unreachable(error.to_string())
            }
            RequestError::Network(error) => SendError::InDoubt(error.to_string()),
            other => SendError::InDoubt(other.to_string()),
        };
        // Only a person's chat is given up on; the staff group is the operators' to
        // mend (its failures are logged and recorded per notice).
        if matches!(refusal, SendError::Blocked) && chat > 0 {
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
