//! What the bot needs to know, given by the composition root.

use std::time::Duration;

use crate::webhook::Webhook;

/// The bot's settings (read from the environment by the `ledgerbot` binary).
#[derive(Clone)]
pub struct BotSettings {
    /// `<bot id>:<secret>` from @BotFather.
    pub token: String,
    /// The Bot API's address: `https://api.telegram.org` or a local Bot API server.
    pub api_url: String,
    /// The bot's @username without the @, for t.me links.
    pub username: Option<String>,
    /// The version of the terms a person agrees to before registering.
    pub terms_version: String,
    /// Where the terms can be read, shown with the consent step.
    pub terms_url: Option<String>,
    /// The staff group that gets notices addressed to staff.
    pub staff_chat_id: Option<i64>,
    /// Who is told (with the error's id) when a handler fails unexpectedly.
    pub owner_telegram_ids: Vec<i64>,
    /// Webhook mode: where Telegram posts updates. `None`: long polling.
    pub webhook: Option<Webhook>,
    /// How long one getUpdates call waits for updates.
    pub long_poll: Duration,
    /// Requests a second to Telegram overall (25 by default, under Telegram's about
    /// 30; more only with Telegram's paid broadcasts or a local Bot API server).
    pub sends_per_second: u32,
    /// How often the sender looks for notifications when nothing woke it.
    pub sender_poll: Duration,
    /// The Mini App's address (`https://…/app/`): the chat's menu button and the
    /// main menu open it. `None` (no https public URL; Telegram opens only https
    /// web apps): no app buttons.
    pub app_url: Option<url::Url>,
}

impl std::fmt::Debug for BotSettings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("BotSettings")
            .field("token", &"<set>")
            .field("api_url", &self.api_url)
            .field("username", &self.username)
            .field("terms_version", &self.terms_version)
            .field("staff_chat_id", &self.staff_chat_id)
            .field("webhook", &self.webhook)
            .finish_non_exhaustive()
    }
}
