//! The Telegram bot's settings (the token itself is `LEDGERBOT_BOT_TOKEN`, shared
//! with the Mini App's sign-in).

use super::ConfigError;
use super::parse::ranged;

/// How the bot reaches Telegram and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotConfig {
    /// The Bot API's address (`LEDGERBOT_BOT_API_URL`): Telegram's, or a local Bot
    /// API server.
    pub api_url: String,
    /// The staff group (`LEDGERBOT_STAFF_CHAT_ID`, a negative chat id) that gets the
    /// notices addressed to staff.
    pub staff_chat_id: Option<i64>,
    /// The terms a person agrees to before registering (`LEDGERBOT_TERMS_VERSION`).
    pub terms_version: String,
    /// Where the terms are published (`LEDGERBOT_TERMS_URL`).
    pub terms_url: Option<String>,
    /// How long one getUpdates waits (`LEDGERBOT_BOT_LONG_POLL_SECS`).
    pub long_poll_secs: u64,
    /// Requests a second to Telegram overall (`LEDGERBOT_BOT_SENDS_PER_SECOND`).
    pub sends_per_second: u32,
    /// Webhook mode: the public URL Telegram posts updates to (`LEDGERBOT_BOT_MODE`
    /// `webhook`, or unset with an https:// `LEDGERBOT_PUBLIC_URL`). `None`: polling.
    pub webhook_on: Option<String>,
    /// The webhook's secret token (`LEDGERBOT_BOT_WEBHOOK_SECRET`); derived from the
    /// bot token when unset.
    pub webhook_secret: Option<String>,
}

pub(super) fn bot(get: &dyn Fn(&str) -> Option<String>) -> Result<BotConfig, ConfigError> {
    let api_url = match get("LEDGERBOT_BOT_API_URL") {
        None => "https://api.telegram.org".to_owned(),
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            url.trim().trim_end_matches('/').to_owned()
        }
        Some(other) => {
            return Err(ConfigError {
                variable: "LEDGERBOT_BOT_API_URL",
                expected: "an http:// or https:// URL",
                found: Some(other),
            });
        }
    };
    let staff_chat_id = match get("LEDGERBOT_STAFF_CHAT_ID") {
        None => None,
        Some(text) => match text.trim().parse::<i64>() {
            Ok(id) if id < 0 => Some(id),
            _ => {
                return Err(ConfigError {
                    variable: "LEDGERBOT_STAFF_CHAT_ID",
                    expected: "a group's chat id (a negative number, -100… for a supergroup)",
                    found: Some(text),
                });
            }
        },
    };
    let terms_version = match get("LEDGERBOT_TERMS_VERSION") {
        None => "2026-12-01".to_owned(),
        Some(version) if !version.trim().is_empty() && version.chars().count() <= 40 => {
            version.trim().to_owned()
        }
        Some(other) => {
            return Err(ConfigError {
                variable: "LEDGERBOT_TERMS_VERSION",
                expected: "1 to 40 characters naming the terms' version",
                found: Some(other),
            });
        }
    };
    let public_url =
        get("LEDGERBOT_PUBLIC_URL").map(|url| url.trim().trim_end_matches('/').to_owned());
    let webhook_on = match get("LEDGERBOT_BOT_MODE").as_deref().map(str::trim) {
        None => public_url.filter(|url| url.starts_with("https://")),
        Some("polling") => None,
        Some("webhook")
            if public_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://")) =>
        {
            public_url
        }
        Some(other) => {
            return Err(ConfigError {
                variable: "LEDGERBOT_BOT_MODE",
                expected: "polling, or webhook (with LEDGERBOT_PUBLIC_URL an https:// URL, as Telegram requires)",
                found: Some(other.to_owned()),
            });
        }
    };
    let webhook_secret = match get("LEDGERBOT_BOT_WEBHOOK_SECRET") {
        None => None,
        Some(secret)
            if (1..=256).contains(&secret.len())
                && secret
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            Some(secret)
        }
        Some(_) => {
            return Err(ConfigError {
                variable: "LEDGERBOT_BOT_WEBHOOK_SECRET",
                expected: "1 to 256 characters of A-Z, a-z, 0-9, _ and -",
                found: Some("<hidden>".to_owned()),
            });
        }
    };
    Ok(BotConfig {
        sends_per_second: ranged(
            "LEDGERBOT_BOT_SENDS_PER_SECOND",
            get("LEDGERBOT_BOT_SENDS_PER_SECOND"),
            25,
            1..=1_000,
            "requests a second from 1 to 1000 (over 30 only with Telegram's paid broadcasts)",
        )?,
        webhook_on,
        webhook_secret,
        api_url,
        staff_chat_id,
        terms_version,
        terms_url: get("LEDGERBOT_TERMS_URL").map(|url| url.trim().to_owned()),
        long_poll_secs: ranged(
            "LEDGERBOT_BOT_LONG_POLL_SECS",
            get("LEDGERBOT_BOT_LONG_POLL_SECS"),
            25,
            1..=50,
            "a number of seconds from 1 to 50",
        )?,
    })
}
