//! Configuration: read once from the environment (and an optional `.env` file) into
//! typed settings. Every setting has a default for a local setup; a malformed one
//! stops start-up with a [`ConfigError`] naming the variable and the expected form.
//! `.env.example` at the top of the repository documents each of them.

mod access;
pub mod ai;
mod bot;
mod business;
mod infrastructure;
mod parse;
mod payments;
mod print;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::Duration;

use crate::http::limits::LimitSettings;
use domain::catalogue::{Catalogue, SalonHours, Shopfront};
use domain::order::BookingRules;
use domain::programs::Programs;
use projections::StreamSettings;
use projections::relay::RelaySettings;
use projections::scheduler::SchedulerSettings;
use projections::stream::MIN_DUPLICATE_WINDOW;

pub use access::AuthSettings;
use access::{app_sections, auth, bot_username, cors_origins, limits};
pub use bot::BotConfig;
use business::{
    booking_rules, catalogue, owner_telegram_ids, programs, salon, scheduler, shopfront,
};
pub use infrastructure::{DatabaseSettings, LogFormat, LogSettings, NatsSettings};
use infrastructure::{
    database_url, log_filter, log_format, nats_urls, stream_name, subject_prefix,
};
use parse::{parsed, ranged};
pub use payments::{PaymentMode, PaymentSettings, YOOKASSA_NOTIFICATION_IPS};
pub use print::effective_settings;

/// Every variable the configuration reads, so a misspelt one can be pointed out.
pub const KNOWN_VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_MAX_CONNECTIONS",
    "NATS_URL",
    "LEDGERBOT_HTTP_ADDR",
    "LEDGERBOT_STREAM",
    "LEDGERBOT_SUBJECT_PREFIX",
    "LEDGERBOT_STREAM_DUPLICATE_WINDOW_SECS",
    "LEDGERBOT_STREAM_REPLICAS",
    "LEDGERBOT_RELAY_BATCH_SIZE",
    "LEDGERBOT_RELAY_POLL_MS",
    "LEDGERBOT_RELAY_ACK_TIMEOUT_MS",
    "LEDGERBOT_LOG",
    "LEDGERBOT_LOG_FORMAT",
    "LEDGERBOT_SHUTDOWN_GRACE_SECS",
    "LEDGERBOT_LOYALTY_TIERS",
    "LEDGERBOT_POINTS_LIFETIME_DAYS",
    "LEDGERBOT_REFERRAL_BONUS",
    "LEDGERBOT_MONTHLY_ALLOWANCE",
    "LEDGERBOT_SCHEDULER_INTERVAL_SECS",
    "LEDGERBOT_BOOKING_REMINDER_HOURS",
    "LEDGERBOT_TICKET_REMINDER_HOURS",
    "LEDGERBOT_BOT_TOKEN",
    "LEDGERBOT_JWT_SECRET",
    "LEDGERBOT_INIT_DATA_MAX_AGE_SECS",
    "LEDGERBOT_ACCESS_TOKEN_TTL_SECS",
    "LEDGERBOT_REFRESH_TOKEN_TTL_DAYS",
    "LEDGERBOT_CREDIT_PACKS",
    "LEDGERBOT_PLANS",
    "LEDGERBOT_SALON_HOURS",
    "LEDGERBOT_SALON_UTC_OFFSET",
    "LEDGERBOT_SALON_FULL_REFUND_HOURS",
    "LEDGERBOT_SALON_LATE_REFUND_PERCENT",
    "LEDGERBOT_SALON_UNPAID_HOLD_MINUTES",
    "LEDGERBOT_SALON_MAX_UNPAID_BOOKINGS",
    "LEDGERBOT_BOT_USERNAME",
    "LEDGERBOT_BOT_API_URL",
    "LEDGERBOT_STAFF_CHAT_ID",
    "LEDGERBOT_TERMS_VERSION",
    "LEDGERBOT_TERMS_URL",
    "LEDGERBOT_BOT_LONG_POLL_SECS",
    "LEDGERBOT_BOT_SENDS_PER_SECOND",
    "LEDGERBOT_BOT_MODE",
    "LEDGERBOT_BOT_WEBHOOK_SECRET",
    "LEDGERBOT_RATE_LIMIT_PER_USER",
    "LEDGERBOT_RATE_LIMIT_PER_IP",
    "LEDGERBOT_REQUEST_TIMEOUT_SECS",
    "LEDGERBOT_UPLOAD_TIMEOUT_SECS",
    "LEDGERBOT_TRUST_FORWARDED_FOR",
    "LEDGERBOT_CORS_ORIGINS",
    "LEDGERBOT_APP_SECTIONS",
    "LEDGERBOT_LIVE_UPDATES_RETENTION_DAYS",
    "LEDGERBOT_SALON_SERVICES",
    "LEDGERBOT_SHOP_PRODUCTS",
    "LEDGERBOT_YOOKASSA_MODE",
    "LEDGERBOT_YOOKASSA_SHOP_ID",
    "LEDGERBOT_YOOKASSA_SECRET_KEY",
    "LEDGERBOT_YOOKASSA_API_URL",
    "LEDGERBOT_YOOKASSA_RETURN_URL",
    "LEDGERBOT_YOOKASSA_NOTIFICATION_IPS",
    "LEDGERBOT_YOOKASSA_FEE_PERCENT",
    "LEDGERBOT_YOOKASSA_RECEIPT_VAT_CODE",
    "LEDGERBOT_YOOKASSA_TIMEOUT_SECS",
    "LEDGERBOT_YOOKASSA_ATTEMPTS",
    "LEDGERBOT_PUBLIC_URL",
    "LEDGERBOT_OWNER_TELEGRAM_IDS",
    "LEDGERBOT_FILES_DIR",
    "LEDGERBOT_FILE_LIMITS",
    "LEDGERBOT_FILE_RETENTION",
    "LEDGERBOT_CLAMAV_ADDRESS",
    "LEDGERBOT_KIE_API_URL",
    "LEDGERBOT_KIE_API_KEY",
    "LEDGERBOT_KIE_MODEL",
    "LEDGERBOT_KIE_COST_PER_IMAGE",
    "LEDGERBOT_CHAT_API_URL",
    "LEDGERBOT_CHAT_API_KEY",
    "LEDGERBOT_CHAT_MODEL",
    "LEDGERBOT_PRICE_FITTING",
    "LEDGERBOT_PRICE_EDITING",
    "LEDGERBOT_PRICE_ASSISTANT",
    "LEDGERBOT_GENERATION_ATTEMPTS",
    "LEDGERBOT_GENERATION_RETRY_MS",
    "LEDGERBOT_GENERATION_TIMEOUT_SECS",
    "LEDGERBOT_GENERATION_POLL_MS",
    "LEDGERBOT_GENERATION_LEASE_SECS",
    "LEDGERBOT_GENERATIONS_PER_USER",
    "LEDGERBOT_GENERATION_RUNNERS",
    "LEDGERBOT_ASSISTANT_PER_MINUTE",
    "LEDGERBOT_CHAT_RETENTION_DAYS",
];

#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub nats: NatsSettings,
    pub http_addr: SocketAddr,
    pub stream: StreamSettings,
    pub relay: RelaySettings,
    pub log: LogSettings,
    /// How long in-flight work may take to finish after SIGTERM / Ctrl-C.
    pub shutdown_grace: Duration,
    /// Loyalty tiers, points lifetime, referral bonus, monthly allowance.
    pub programs: Programs,
    /// Points expiry and reminders.
    pub scheduler: SchedulerSettings,
    /// Telegram login and the API's tokens.
    pub auth: AuthSettings,
    /// Credit packs and plans on sale.
    pub catalogue: Catalogue,
    /// When the salon takes bookings.
    pub salon: SalonHours,
    /// Refunds of customers' cancellations, the unpaid hold, the unpaid-bookings limit.
    pub booking_rules: BookingRules,
    /// The salon's services and the shop's products, with their prices.
    pub shopfront: Shopfront,
    /// The bot's @username (without the @), for t.me links.
    pub bot_username: Option<String>,
    /// How the bot reaches Telegram, the staff group, the terms.
    pub bot: BotConfig,
    /// Request rates and time limits of the API.
    pub limits: LimitSettings,
    /// Browser origins (the Mini App's) allowed to call the API.
    pub cors_origins: Vec<String>,
    /// The Mini App's sections this business offers (coursework, salon, shop,
    /// credits, support), in the order given.
    pub app_sections: Vec<String>,
    /// How long live updates stay readable for clients that reconnect.
    pub live_updates_retention: Duration,
    /// YooKassa, or the built-in sandbox when no keys are set.
    pub payments: PaymentSettings,
    /// Where browsers reach this server (`https://shop.example`), for links it hands
    /// out; unset: `http://` + the HTTP address.
    pub public_url: Option<String>,
    /// Telegram accounts granted the owner role at every start (a new deployment's
    /// first owners).
    pub owner_telegram_ids: Vec<i64>,
    /// Where files go, what each purpose takes, how long it is kept, the scanner.
    pub files: ai::FileSettings,
    /// The image provider, the chat model, prices and the runner's limits.
    pub ai: ai::AiSettings,
}

/// A setting that is present but malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} must be {expected}{}", found.as_ref().map(|f| format!(", got {f:?}")).unwrap_or_default())]
pub struct ConfigError {
    pub variable: &'static str,
    pub expected: &'static str,
    /// The offending value, left out for settings that may hold secrets.
    pub found: Option<String>,
}

impl Settings {
    /// Reads `.env` (when present; existing environment variables win) and then the
    /// process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(error) if error.not_found() => {}
            Err(_) => {
                return Err(ConfigError {
                    variable: ".env",
                    expected: "a file of NAME=value lines (see .env.example)",
                    found: None,
                });
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the settings from any source of variables; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let defaults = RelaySettings::default();
        Ok(Self {
            database: DatabaseSettings {
                url: database_url(get("DATABASE_URL"))?,
                max_connections: ranged(
                    "DATABASE_MAX_CONNECTIONS",
                    get("DATABASE_MAX_CONNECTIONS"),
                    10,
                    2..=1000,
                    "a whole number from 2 to 1000 (the relay's listener holds one)",
                )?,
            },
            nats: NatsSettings {
                urls: nats_urls(get("NATS_URL"))?,
            },
            http_addr: parsed(
                "LEDGERBOT_HTTP_ADDR",
                get("LEDGERBOT_HTTP_ADDR"),
                SocketAddr::from(([127, 0, 0, 1], 8080)),
                "a socket address like 127.0.0.1:8080 or 0.0.0.0:8080",
            )?,
            stream: StreamSettings {
                name: stream_name(get("LEDGERBOT_STREAM"))?,
                subject_prefix: subject_prefix(get("LEDGERBOT_SUBJECT_PREFIX"))?,
                duplicate_window: Duration::from_secs(ranged(
                    "LEDGERBOT_STREAM_DUPLICATE_WINDOW_SECS",
                    get("LEDGERBOT_STREAM_DUPLICATE_WINDOW_SECS"),
                    MIN_DUPLICATE_WINDOW.as_secs(),
                    MIN_DUPLICATE_WINDOW.as_secs()..=86_400,
                    "a number of seconds from 120 to 86400",
                )?),
                replicas: ranged(
                    "LEDGERBOT_STREAM_REPLICAS",
                    get("LEDGERBOT_STREAM_REPLICAS"),
                    1,
                    1..=5,
                    "a number of copies from 1 to 5 (3 on a cluster of three)",
                )?,
            },
            relay: RelaySettings {
                batch_size: ranged(
                    "LEDGERBOT_RELAY_BATCH_SIZE",
                    get("LEDGERBOT_RELAY_BATCH_SIZE"),
                    defaults.batch_size,
                    1..=10_000,
                    "a whole number from 1 to 10000",
                )?,
                poll_interval: Duration::from_millis(ranged(
                    "LEDGERBOT_RELAY_POLL_MS",
                    get("LEDGERBOT_RELAY_POLL_MS"),
                    defaults.poll_interval.as_millis() as u64,
                    10..=60_000,
                    "a number of milliseconds from 10 to 60000",
                )?),
                ack_timeout: Duration::from_millis(ranged(
                    "LEDGERBOT_RELAY_ACK_TIMEOUT_MS",
                    get("LEDGERBOT_RELAY_ACK_TIMEOUT_MS"),
                    defaults.ack_timeout.as_millis() as u64,
                    100..=120_000,
                    "a number of milliseconds from 100 to 120000",
                )?),
                ..defaults
            },
            log: LogSettings {
                filter: log_filter(get("LEDGERBOT_LOG"))?,
                format: log_format(get("LEDGERBOT_LOG_FORMAT"))?,
            },
            shutdown_grace: Duration::from_secs(ranged(
                "LEDGERBOT_SHUTDOWN_GRACE_SECS",
                get("LEDGERBOT_SHUTDOWN_GRACE_SECS"),
                30,
                1..=3_600,
                "a number of seconds from 1 to 3600",
            )?),
            programs: programs(&get)?,
            scheduler: scheduler(&get)?,
            auth: auth(&get)?,
            catalogue: catalogue(&get)?,
            salon: salon(&get)?,
            booking_rules: booking_rules(&get)?,
            shopfront: shopfront(&get)?,
            bot_username: bot_username(get("LEDGERBOT_BOT_USERNAME"))?,
            bot: bot::bot(&get)?,
            limits: limits(&get)?,
            cors_origins: cors_origins(get("LEDGERBOT_CORS_ORIGINS"))?,
            app_sections: app_sections(get("LEDGERBOT_APP_SECTIONS"))?,
            payments: payments::payments(&get)?,
            owner_telegram_ids: owner_telegram_ids(get("LEDGERBOT_OWNER_TELEGRAM_IDS"))?,
            files: ai::files(&get)?,
            ai: ai::ai(&get)?,
            public_url: match get("LEDGERBOT_PUBLIC_URL") {
                None => None,
                Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                    Some(url.trim().trim_end_matches('/').to_owned())
                }
                Some(other) => {
                    return Err(ConfigError {
                        variable: "LEDGERBOT_PUBLIC_URL",
                        expected: "an http:// or https:// URL",
                        found: Some(other),
                    });
                }
            },
            live_updates_retention: Duration::from_secs(
                86_400
                    * ranged(
                        "LEDGERBOT_LIVE_UPDATES_RETENTION_DAYS",
                        get("LEDGERBOT_LIVE_UPDATES_RETENTION_DAYS"),
                        7,
                        1..=365,
                        "a number of days from 1 to 365",
                    )?,
            ),
        })
    }
}

/// `LEDGERBOT_*` variables in the environment that no setting reads (likely typos).
pub fn unknown_variables() -> Vec<String> {
    std::env::vars()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with("LEDGERBOT_") && !KNOWN_VARIABLES.contains(&name.as_str()))
        .collect()
}
