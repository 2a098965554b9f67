//! Webhook mode: Telegram posts each update to `WEBHOOK_PATH` on the product's
//! public URL with the secret token in a header. The API's router mounts the route
//! and calls [`Webhook::accept`], which compares the secret in constant time and
//! stores the update in `bot_updates` before the 200 is sent (teloxide's own
//! listener answers before processing, so a crash would lose updates Telegram never
//! sends again); the bot then handles it from there, woken by a NOTIFY.

use std::sync::Arc;
use std::time::Duration;

use domain::backoff::doubling;
use serde_json::Value;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use teloxide::prelude::*;
use teloxide::types::AllowedUpdate;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::inbox;

/// Where Telegram posts updates, on the public URL.
pub const WEBHOOK_PATH: &str = "/telegram/webhook";
/// The header Telegram puts the secret token in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// The channel a stored update is announced on.
pub const ARRIVED_CHANNEL: &str = "bot_updates_arrived";

/// The webhook Telegram is told to call.
#[derive(Clone)]
pub struct Webhook {
    /// The full URL (`<public URL>/telegram/webhook`).
    pub url: String,
    secret: String,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Webhook")
            .field("url", &self.url)
            .field("secret", &"<set>")
            .finish()
    }
}

/// Why an update posted to the webhook was not taken.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the secret token is missing or wrong")]
    WrongSecret,
    #[error("the body is no Telegram update: {0}")]
    Unreadable(String),
    #[error("the update could not be stored: {0}")]
    Database(#[from] sqlx::Error),
}

impl Webhook {
    /// The webhook on `public_url` with `secret` (1 to 256 of `A-Z a-z 0-9 _ -`),
    /// or a secret derived from the bot's token, the same in every process.
    pub fn new(public_url: &str, secret: Option<String>, token: &str) -> Self {
        let secret = secret.unwrap_or_else(|| {
            domain::use_cases::login_codes::digest_of(&format!("telegram-webhook:{token}"))
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect()
        });
        Self {
            url: format!("{}{WEBHOOK_PATH}", public_url.trim_end_matches('/')),
            secret,
        }
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// Takes an update Telegram posted: the secret checked, the update stored (a
    /// repeat changes nothing) and announced. Only after `Ok` may the 200 go.
    pub async fn accept(
        &self,
        pool: &PgPool,
        secret: Option<&[u8]>,
        body: &[u8],
    ) -> Result<(), WebhookError> {
        if !same_secret(secret.unwrap_or_default(), self.secret.as_bytes()) {
            return Err(WebhookError::WrongSecret);
        }
        let update: Value = serde_json::from_slice(body)
            .map_err(|error| WebhookError::Unreadable(error.to_string()))?;
        let Some(update_id) = update.get("update_id").and_then(Value::as_i64) else {
            return Err(WebhookError::Unreadable("no update_id".to_owned()));
        };
        let chat = inbox::parse(&update).and_then(|parsed| parsed.chat().map(|chat| chat.id.0));
        inbox::store(pool, update_id, chat, &update).await?;
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(ARRIVED_CHANNEL)
            .execute(pool)
            .await?;
        Ok(())
    }
}

/// Tells Telegram to post updates to the webhook (asked until it agrees or
/// `shutdown`), then wakes `arrived` whenever a process stored an update, until
/// `shutdown`. The inbox is also read every half second, so a lost NOTIFY only
/// delays.
pub async fn serve(
    bot: Bot,
    pool: PgPool,
    webhook: Webhook,
    arrived: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let mut attempt = 0;
    loop {
        let set = match webhook.url.parse() {
            Ok(url) => bot
                .set_webhook(url)
                .secret_token(webhook.secret.clone())
                .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery])
                // One at a time: updates are stored in the order Telegram sends them,
                // so a chat's are handled in order.
                .max_connections(1)
                .await
                .map(|_| ())
                .map_err(|error| error.to_string()),
            Err(error) => Err(format!("{}: {error}", webhook.url)),
        };
        match set {
            Ok(()) => {
                tracing::info!(url = %webhook.url, "Telegram posts updates to the webhook");
                break;
            }
            Err(error) => {
                attempt += 1;
                tracing::warn!(%error, "the webhook could not be set; trying again");
            }
        }
        let pause = doubling(attempt, Duration::from_secs(1), Duration::from_secs(60));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
    while !shutdown.is_cancelled() {
        if let Err(error) = listen(&pool, &arrived, &shutdown).await {
            tracing::warn!(%error, "stored updates are not announced; reading the inbox every half second");
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }
}

async fn listen(
    pool: &PgPool,
    arrived: &Notify,
    shutdown: &CancellationToken,
) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(ARRIVED_CHANNEL).await?;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            notification = listener.recv() => {
                notification?;
                arrived.notify_one();
            }
        }
    }
}

/// `given == expected`, in a time that depends on `expected`'s length only.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = given.len() ^ expected.len();
    for (index, byte) in expected.iter().enumerate() {
        let other = given.get(index).copied().unwrap_or(0);
        difference |= usize::from(byte ^ other);
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_secret_is_the_same() {
        assert!(same_secret(b"abc_DEF-1", b"abc_DEF-1"));
        assert!(!same_secret(b"abc_DEF-2", b"abc_DEF-1"));
        assert!(!same_secret(b"abc_DEF-1x", b"abc_DEF-1"));
        assert!(!same_secret(b"abc_DEF-", b"abc_DEF-1"));
        assert!(!same_secret(b"", b"abc"));
    }

    #[test]
    fn the_derived_secret_is_stable_and_fits_telegrams_alphabet() {
        let first = Webhook::new("https://shop.example/", None, "1:token");
        let again = Webhook::new("https://shop.example", None, "1:token");
        let other = Webhook::new("https://shop.example", None, "2:token");
        assert_eq!(first.url, "https://shop.example/telegram/webhook");
        assert_eq!(first.secret(), again.secret());
        assert_ne!(first.secret(), other.secret());
        assert!(first.secret().len() <= 256);
        assert!(first.secret().chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
