//! Who may call and how often: Telegram sign-in and tokens, the bot's username,
//! rate and time limits, CORS.

use std::fmt;
use std::time::Duration;

use crate::http::limits::LimitSettings;

use super::ConfigError;
use super::parse::{parsed, ranged};

/// Telegram login and the API's tokens. Secrets never appear in `Debug`.
#[derive(Clone)]
pub struct AuthSettings {
    /// The bot's token: the key of Mini App initData. Without it, Telegram login is
    /// refused with 503 (the rest of the API works).
    pub bot_token: Option<String>,
    /// Signs access tokens (HS256). Without it a random one is made at start, so
    /// tokens do not survive a restart and cannot be shared by several API processes.
    pub jwt_secret: Option<String>,
    /// Oldest initData accepted: an hour by default, as initData is a credential that
    /// signs in (a session then lives on through refresh tokens).
    pub init_data_max_age: Duration,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
}

impl fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |value: &Option<String>| if value.is_some() { "***" } else { "unset" };
        f.debug_struct("AuthSettings")
            .field("bot_token", &set(&self.bot_token))
            .field("jwt_secret", &set(&self.jwt_secret))
            .field("init_data_max_age", &self.init_data_max_age)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .finish()
    }
}

/// An hour: long enough to open the Mini App and sign in, short enough that a copy
/// of initData found later signs nobody in.
pub const DEFAULT_INIT_DATA_MAX_AGE_SECS: u64 = 3_600;

pub(super) fn auth(get: &dyn Fn(&str) -> Option<String>) -> Result<AuthSettings, ConfigError> {
    let bot_token = get("LEDGERBOT_BOT_TOKEN").map(|token| token.trim().to_owned());
    if let Some(token) = &bot_token {
        let well_formed = token
            .split_once(':')
            .is_some_and(|(id, secret)| id.parse::<i64>().is_ok() && !secret.is_empty());
        if !well_formed {
            return Err(ConfigError {
                variable: "LEDGERBOT_BOT_TOKEN",
                expected: "a bot token from @BotFather, like 123456:ABC-DEF",
                found: None,
            });
        }
    }
    let jwt_secret = get("LEDGERBOT_JWT_SECRET");
    if jwt_secret.as_ref().is_some_and(|secret| secret.len() < 32) {
        return Err(ConfigError {
            variable: "LEDGERBOT_JWT_SECRET",
            expected: "at least 32 characters (for example the output of `openssl rand -hex 32`)",
            found: None,
        });
    }
    Ok(AuthSettings {
        bot_token,
        jwt_secret,
        init_data_max_age: Duration::from_secs(ranged(
            "LEDGERBOT_INIT_DATA_MAX_AGE_SECS",
            get("LEDGERBOT_INIT_DATA_MAX_AGE_SECS"),
            DEFAULT_INIT_DATA_MAX_AGE_SECS,
            60..=604_800,
            "a number of seconds from 60 to 604800",
        )?),
        access_token_ttl: Duration::from_secs(ranged(
            "LEDGERBOT_ACCESS_TOKEN_TTL_SECS",
            get("LEDGERBOT_ACCESS_TOKEN_TTL_SECS"),
            900,
            60..=86_400,
            "a number of seconds from 60 to 86400",
        )?),
        refresh_token_ttl: Duration::from_secs(
            86_400
                * ranged(
                    "LEDGERBOT_REFRESH_TOKEN_TTL_DAYS",
                    get("LEDGERBOT_REFRESH_TOKEN_TTL_DAYS"),
                    30,
                    1..=365,
                    "a number of days from 1 to 365",
                )?,
        ),
    })
}

pub(super) fn bot_username(value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(raw) = value else { return Ok(None) };
    let name = raw.trim().trim_start_matches('@').to_owned();
    let valid = (5..=32).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.to_ascii_lowercase().ends_with("bot");
    if valid {
        Ok(Some(name))
    } else {
        Err(ConfigError {
            variable: "LEDGERBOT_BOT_USERNAME",
            expected: "the bot's username, 5 to 32 letters, digits or '_', ending in bot",
            found: Some(raw),
        })
    }
}

pub(super) fn limits(get: &dyn Fn(&str) -> Option<String>) -> Result<LimitSettings, ConfigError> {
    let defaults = LimitSettings::default();
    Ok(LimitSettings {
        per_user_per_minute: ranged(
            "LEDGERBOT_RATE_LIMIT_PER_USER",
            get("LEDGERBOT_RATE_LIMIT_PER_USER"),
            defaults.per_user_per_minute,
            1..=1_000_000,
            "requests per minute, 1 to 1000000",
        )?,
        per_ip_per_minute: ranged(
            "LEDGERBOT_RATE_LIMIT_PER_IP",
            get("LEDGERBOT_RATE_LIMIT_PER_IP"),
            defaults.per_ip_per_minute,
            1..=1_000_000,
            "requests per minute, 1 to 1000000",
        )?,
        request_timeout: Duration::from_secs(ranged(
            "LEDGERBOT_REQUEST_TIMEOUT_SECS",
            get("LEDGERBOT_REQUEST_TIMEOUT_SECS"),
            defaults.request_timeout.as_secs(),
            1..=300,
            "a number of seconds from 1 to 300",
        )?),
        upload_timeout: Duration::from_secs(ranged(
            "LEDGERBOT_UPLOAD_TIMEOUT_SECS",
            get("LEDGERBOT_UPLOAD_TIMEOUT_SECS"),
            defaults.upload_timeout.as_secs(),
            1..=3_600,
            "a number of seconds from 1 to 3600",
        )?),
        trust_forwarded_for: parsed(
            "LEDGERBOT_TRUST_FORWARDED_FOR",
            get("LEDGERBOT_TRUST_FORWARDED_FOR"),
            defaults.trust_forwarded_for,
            "true or false",
        )?,
    })
}

pub(super) fn cors_origins(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = value else {
        return Ok(Vec::new());
    };
    let origins: Vec<String> = raw
        .split(',')
        .map(|origin| origin.trim().trim_end_matches('/').to_owned())
        .collect();
    let valid = origins.iter().all(|origin| {
        (origin.starts_with("https://")
            || origin.starts_with("http://localhost")
            || origin.starts_with("http://127.0.0.1"))
            && !origin.contains('*')
            && axum::http::HeaderValue::from_str(origin).is_ok()
    });
    if valid {
        Ok(origins)
    } else {
        Err(ConfigError {
            variable: "LEDGERBOT_CORS_ORIGINS",
            expected: "comma-separated https:// origins (http:// only for localhost), no wildcards",
            found: Some(raw),
        })
    }
}

/// The Mini App's sections, as `section` names; all of them when unset.
pub const APP_SECTIONS: [&str; 5] = ["coursework", "salon", "shop", "credits", "support"];

pub(super) fn app_sections(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = value else {
        return Ok(APP_SECTIONS.iter().map(|s| (*s).to_owned()).collect());
    };
    let mut sections: Vec<String> = Vec::new();
    for section in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !APP_SECTIONS.contains(&section) {
            return Err(ConfigError {
                variable: "LEDGERBOT_APP_SECTIONS",
                expected: "comma-separated sections of coursework, salon, shop, credits, support",
                found: Some(raw),
            });
        }
        if !sections.iter().any(|known| known == section) {
            sections.push(section.to_owned());
        }
    }
    Ok(sections)
}
