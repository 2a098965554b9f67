//! Starting the Telegram bot as a part of this process, when a bot token is set.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::info;

use super::parts::RunningParts;
use crate::config::Settings;
use crate::http::AppState;

/// The bot's settings from the product's, or `None` (said in one log line) without a
/// bot token.
pub fn bot_settings(settings: &Settings) -> Option<bot::BotSettings> {
    let Some(token) = settings.auth.bot_token.clone() else {
        info!("the Telegram bot is off: LEDGERBOT_BOT_TOKEN is not set");
        return None;
    };
    Some(bot::BotSettings {
        webhook: webhook_of(settings),
        token,
        api_url: settings.bot.api_url.clone(),
        username: settings.bot_username.clone(),
        terms_version: settings.bot.terms_version.clone(),
        terms_url: settings.bot.terms_url.clone(),
        staff_chat_id: settings.bot.staff_chat_id,
        owner_telegram_ids: settings.owner_telegram_ids.clone(),
        long_poll: Duration::from_secs(settings.bot.long_poll_secs),
        sends_per_second: settings.bot.sends_per_second,
        sender_poll: Duration::from_millis(250),
        app_url: app_url(settings),
    })
}

/// The Mini App's address for Telegram's buttons: only over https, which Telegram
/// requires of web apps.
fn app_url(settings: &Settings) -> Option<url::Url> {
    let public = settings.public_url.as_deref()?;
    if !public.starts_with("https://") {
        info!("the bot offers no Mini App button: LEDGERBOT_PUBLIC_URL is not an https:// URL");
        return None;
    }
    url::Url::parse(&format!("{public}{}/", crate::http::mini_app::APP_PATH)).ok()
}

/// The bot's webhook in webhook mode (with a bot token and a public URL).
pub fn webhook_of(settings: &Settings) -> Option<bot::Webhook> {
    let token = settings.auth.bot_token.as_deref()?;
    let public_url = settings.bot.webhook_on.as_deref()?;
    Some(bot::Webhook::new(
        public_url,
        settings.bot.webhook_secret.clone(),
        token,
    ))
}

/// Spawns the bot over the API's core and read models.
pub(super) fn bot_part(
    running: &mut RunningParts,
    settings: &Settings,
    state: &AppState,
    shutdown: &CancellationToken,
) {
    let Some(bot_settings) = bot_settings(settings) else {
        return;
    };
    let (core, reads, token) = (state.core.clone(), state.reads.clone(), shutdown.clone());
    running.spawn("bot", async move {
        bot::run(core, reads, bot_settings, token)
            .await
            .map_err(|error| error.to_string())
    });
}
