//! Configuration: read once from the environment (and an optional `.env` file) into
//! typed settings. Every setting has a default for a local setup; a malformed one
//! stops start-up with a [`ConfigError`] naming the variable and the expected form.
//! `.env.example` at the top of the repository documents each of them.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::http::limits::LimitSettings;
use domain::catalogue::{Catalogue, CreditPack, Plan, Product, SalonService, Shopfront};
use domain::money::Money;
use domain::programs::{Programs, Tier};
use projections::StreamSettings;
use projections::relay::RelaySettings;
use projections::scheduler::SchedulerSettings;
use projections::stream::MIN_DUPLICATE_WINDOW;
use rust_decimal::Decimal;

/// Every variable the configuration reads, so a misspelt one can be pointed out.
pub const KNOWN_VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_MAX_CONNECTIONS",
    "NATS_URL",
    "LEDGERBOT_HTTP_ADDR",
    "LEDGERBOT_STREAM",
    "LEDGERBOT_SUBJECT_PREFIX",
    "LEDGERBOT_STREAM_DUPLICATE_WINDOW_SECS",
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
    "LEDGERBOT_BOT_USERNAME",
    "LEDGERBOT_RATE_LIMIT_PER_USER",
    "LEDGERBOT_RATE_LIMIT_PER_IP",
    "LEDGERBOT_REQUEST_TIMEOUT_SECS",
    "LEDGERBOT_TRUST_FORWARDED_FOR",
    "LEDGERBOT_CORS_ORIGINS",
    "LEDGERBOT_LIVE_UPDATES_RETENTION_DAYS",
    "LEDGERBOT_SALON_SERVICES",
    "LEDGERBOT_SHOP_PRODUCTS",
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
    /// The salon's services and the shop's products, with their prices.
    pub shopfront: Shopfront,
    /// The bot's @username (without the @), for t.me links.
    pub bot_username: Option<String>,
    /// Request rates and time limits of the API.
    pub limits: LimitSettings,
    /// Browser origins (the Mini App's) allowed to call the API.
    pub cors_origins: Vec<String>,
    /// How long live updates stay readable for clients that reconnect.
    pub live_updates_retention: Duration,
    /// YooKassa, or the built-in sandbox when no keys are set.
    pub payments: PaymentSettings,
    /// Where browsers reach this server (`https://shop.example`), for links it hands
    /// out; unset: `http://` + the HTTP address.
    pub public_url: Option<String>,
}

/// Taking money through YooKassa. Secrets never appear in `Debug`.
#[derive(Clone, PartialEq)]
pub struct PaymentSettings {
    /// Shop id and secret key; `None` runs the built-in sandbox (no money moves).
    pub credentials: Option<(String, String)>,
    /// YooKassa's API, `https://api.yookassa.ru/v3` unless pointed elsewhere.
    pub api_url: String,
    /// Where YooKassa sends the customer after paying; unset: the public URL.
    pub return_url: Option<String>,
    /// Addresses notifications are accepted from: `None` accepts any (behind a
    /// trusted proxy that checks them), otherwise CIDRs.
    pub notification_ips: Option<String>,
    /// YooKassa's fee when a notification does not say (`income_amount` absent).
    pub fee_percent: rust_decimal::Decimal,
    /// 54-FZ receipts with this VAT code (1 = no VAT), or none.
    pub receipt_vat_code: Option<u8>,
    pub timeout: Duration,
    pub attempts: u32,
}

impl fmt::Debug for PaymentSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentSettings")
            .field(
                "credentials",
                &self
                    .credentials
                    .as_ref()
                    .map(|(shop, _)| (shop.as_str(), "***")),
            )
            .field("api_url", &self.api_url)
            .field("return_url", &self.return_url)
            .field("notification_ips", &self.notification_ips)
            .field("fee_percent", &self.fee_percent)
            .field("receipt_vat_code", &self.receipt_vat_code)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .finish()
    }
}

/// YooKassa's published notification addresses (its SDKs' allowlist).
pub const YOOKASSA_NOTIFICATION_IPS: &str = "185.71.76.0/27,185.71.77.0/27,77.75.153.0/25,\
77.75.154.128/25,77.75.156.11,77.75.156.35,2a02:5180:0:1509::/64,2a02:5180:0:2655::/64,\
2a02:5180:0:1533::/64,2a02:5180:0:2669::/64";

fn payments(get: &dyn Fn(&str) -> Option<String>) -> Result<PaymentSettings, ConfigError> {
    let shop_id = get("LEDGERBOT_YOOKASSA_SHOP_ID");
    let secret = get("LEDGERBOT_YOOKASSA_SECRET_KEY");
    let credentials = match (shop_id, secret) {
        (Some(shop), Some(secret)) => Some((shop.trim().to_owned(), secret.trim().to_owned())),
        (None, None) => None,
        (Some(_), None) => {
            return Err(ConfigError {
                variable: "LEDGERBOT_YOOKASSA_SECRET_KEY",
                expected: "set together with LEDGERBOT_YOOKASSA_SHOP_ID",
                found: None,
            });
        }
        (None, Some(_)) => {
            return Err(ConfigError {
                variable: "LEDGERBOT_YOOKASSA_SHOP_ID",
                expected: "set together with LEDGERBOT_YOOKASSA_SECRET_KEY",
                found: None,
            });
        }
    };
    let url = |variable: &'static str| -> Result<Option<String>, ConfigError> {
        match get(variable) {
            None => Ok(None),
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                Ok(Some(url.trim().trim_end_matches('/').to_owned()))
            }
            Some(other) => Err(ConfigError {
                variable,
                expected: "an http:// or https:// URL",
                found: Some(other),
            }),
        }
    };
    let notification_ips = match get("LEDGERBOT_YOOKASSA_NOTIFICATION_IPS") {
        None => Some(YOOKASSA_NOTIFICATION_IPS.to_owned()),
        Some(value) if value.trim() == "any" => None,
        Some(value) => Some(value),
    };
    let fee_percent = parsed(
        "LEDGERBOT_YOOKASSA_FEE_PERCENT",
        get("LEDGERBOT_YOOKASSA_FEE_PERCENT"),
        rust_decimal::Decimal::new(28, 1),
        "a percentage like 2.8",
    )?;
    if fee_percent < rust_decimal::Decimal::ZERO || fee_percent >= rust_decimal::Decimal::from(100)
    {
        return Err(ConfigError {
            variable: "LEDGERBOT_YOOKASSA_FEE_PERCENT",
            expected: "a percentage from 0 to below 100",
            found: get("LEDGERBOT_YOOKASSA_FEE_PERCENT"),
        });
    }
    let receipt_vat_code = match get("LEDGERBOT_YOOKASSA_RECEIPT_VAT_CODE") {
        None => None,
        Some(code) => Some(
            code.trim()
                .parse::<u8>()
                .ok()
                .filter(|code| (1..=12).contains(code))
                .ok_or(ConfigError {
                    variable: "LEDGERBOT_YOOKASSA_RECEIPT_VAT_CODE",
                    expected: "a VAT code from 1 to 12 (1: no VAT)",
                    found: Some(code.clone()),
                })?,
        ),
    };
    Ok(PaymentSettings {
        credentials,
        api_url: url("LEDGERBOT_YOOKASSA_API_URL")?
            .unwrap_or_else(|| "https://api.yookassa.ru/v3".to_owned()),
        return_url: url("LEDGERBOT_YOOKASSA_RETURN_URL")?,
        notification_ips,
        fee_percent,
        receipt_vat_code,
        timeout: Duration::from_secs(ranged(
            "LEDGERBOT_YOOKASSA_TIMEOUT_SECS",
            get("LEDGERBOT_YOOKASSA_TIMEOUT_SECS"),
            10,
            1..=60,
            "a number of seconds from 1 to 60",
        )?),
        attempts: ranged(
            "LEDGERBOT_YOOKASSA_ATTEMPTS",
            get("LEDGERBOT_YOOKASSA_ATTEMPTS"),
            4,
            1..=10,
            "a number of tries from 1 to 10",
        )?,
    })
}

/// The salon's working day, in its own time zone (a fixed UTC offset; Russia has no
/// daylight saving time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SalonHours {
    pub opens: chrono::NaiveTime,
    pub closes: chrono::NaiveTime,
    pub utc_offset: chrono::FixedOffset,
}

impl SalonHours {
    /// True when `start`..`end` lies within one working day of the salon.
    pub fn contains(
        &self,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        let (start, end) = (
            start.with_timezone(&self.utc_offset),
            end.with_timezone(&self.utc_offset),
        );
        start.date_naive() == end.date_naive()
            && start.time() >= self.opens
            && end.time() <= self.closes
            && start < end
    }
}

/// Telegram login and the API's tokens. Secrets never appear in `Debug`.
#[derive(Clone)]
pub struct AuthSettings {
    /// The bot's token: the key of Mini App initData. Without it, Telegram login is
    /// refused with 503 (the rest of the API works).
    pub bot_token: Option<String>,
    /// Signs access tokens (HS256). Without it a random one is made at start, so
    /// tokens do not survive a restart and cannot be shared by several API processes.
    pub jwt_secret: Option<String>,
    /// Oldest initData accepted.
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

#[derive(Clone)]
pub struct DatabaseSettings {
    /// May carry a password: never log it; use [`DatabaseSettings::redacted_url`].
    pub url: String,
    pub max_connections: u32,
}

impl DatabaseSettings {
    pub fn redacted_url(&self) -> String {
        domain::event_store::redact_url(&self.url)
    }
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &self.redacted_url())
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

#[derive(Clone)]
pub struct NatsSettings {
    /// One or more server URLs (comma-separated in the variable); may carry credentials.
    pub urls: Vec<String>,
}

impl NatsSettings {
    pub fn redacted_urls(&self) -> String {
        self.urls
            .iter()
            .map(|url| domain::event_store::redact_url(url))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Debug for NatsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSettings")
            .field("urls", &self.redacted_urls())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSettings {
    /// A `tracing` filter such as `info` or `info,ledgerbot=debug,sqlx=warn`.
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// JSON when stdout is not a terminal, human-readable text when it is.
    Auto,
    Json,
    Text,
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
            shopfront: shopfront(&get)?,
            bot_username: bot_username(get("LEDGERBOT_BOT_USERNAME"))?,
            limits: limits(&get)?,
            cors_origins: cors_origins(get("LEDGERBOT_CORS_ORIGINS"))?,
            payments: payments(&get)?,
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

fn parsed<T: FromStr>(
    variable: &'static str,
    value: Option<String>,
    default: T,
    expected: &'static str,
) -> Result<T, ConfigError> {
    match value {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|_| ConfigError {
            variable,
            expected,
            found: Some(raw),
        }),
    }
}

fn ranged<T: FromStr + PartialOrd>(
    variable: &'static str,
    value: Option<String>,
    default: T,
    range: std::ops::RangeInclusive<T>,
    expected: &'static str,
) -> Result<T, ConfigError> {
    let number = parsed(variable, value.clone(), default, expected)?;
    if range.contains(&number) {
        Ok(number)
    } else {
        Err(ConfigError {
            variable,
            expected,
            found: value,
        })
    }
}

const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/ledgerbot";

fn database_url(value: Option<String>) -> Result<String, ConfigError> {
    let Some(url) = value else {
        return Ok(DEFAULT_DATABASE_URL.to_owned());
    };
    let malformed = ConfigError {
        variable: "DATABASE_URL",
        expected: "a URL like postgres://USER[:PASSWORD]@HOST:PORT/DATABASE",
        found: None, // may hold a password
    };
    let url = url.trim().to_owned();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(malformed);
    }
    let options =
        sqlx::postgres::PgConnectOptions::from_str(&url).map_err(|_| malformed.clone())?;
    match options.get_database() {
        Some(name) if !name.is_empty() => Ok(url),
        _ => Err(malformed),
    }
}

fn nats_urls(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = value else {
        return Ok(vec!["nats://127.0.0.1:4222".to_owned()]);
    };
    let malformed = ConfigError {
        variable: "NATS_URL",
        expected: "one or more comma-separated URLs like nats://HOST:4222",
        found: None, // may hold credentials
    };
    let urls: Vec<String> = raw.split(',').map(|url| url.trim().to_owned()).collect();
    for url in &urls {
        let has_scheme = ["nats://", "tls://", "ws://", "wss://"]
            .iter()
            .any(|scheme| url.starts_with(scheme));
        if !has_scheme || async_nats::ServerAddr::from_str(url).is_err() {
            return Err(malformed);
        }
    }
    Ok(urls)
}

fn stream_name(value: Option<String>) -> Result<String, ConfigError> {
    let name = value.unwrap_or_else(|| StreamSettings::default().name);
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(name)
    } else {
        Err(ConfigError {
            variable: "LEDGERBOT_STREAM",
            expected: "a JetStream stream name of letters, digits, '_' and '-' (at most 64)",
            found: Some(name),
        })
    }
}

fn subject_prefix(value: Option<String>) -> Result<String, ConfigError> {
    let prefix = value.unwrap_or_else(|| StreamSettings::default().subject_prefix);
    let valid = prefix.split('.').all(|token| {
        !token.is_empty()
            && token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if valid {
        Ok(prefix)
    } else {
        Err(ConfigError {
            variable: "LEDGERBOT_SUBJECT_PREFIX",
            expected: "dot-separated tokens of letters, digits, '_' and '-', like ledger or acme.ledger",
            found: Some(prefix),
        })
    }
}

fn programs(get: &dyn Fn(&str) -> Option<String>) -> Result<Programs, ConfigError> {
    let defaults = Programs::default();
    Ok(Programs {
        tiers: loyalty_tiers(get("LEDGERBOT_LOYALTY_TIERS"), defaults.tiers)?,
        points_lifetime_days: ranged(
            "LEDGERBOT_POINTS_LIFETIME_DAYS",
            get("LEDGERBOT_POINTS_LIFETIME_DAYS"),
            defaults.points_lifetime_days,
            1..=3_650,
            "a number of days from 1 to 3650",
        )?,
        referral_bonus: ranged(
            "LEDGERBOT_REFERRAL_BONUS",
            get("LEDGERBOT_REFERRAL_BONUS"),
            defaults.referral_bonus,
            0..=1_000_000,
            "a number of credits from 0 (no bonus) to 1000000",
        )?,
        monthly_allowance: ranged(
            "LEDGERBOT_MONTHLY_ALLOWANCE",
            get("LEDGERBOT_MONTHLY_ALLOWANCE"),
            defaults.monthly_allowance,
            0..=1_000_000,
            "a number of credits from 0 (no allowance) to 1000000",
        )?,
    })
}

/// `name:from_total:percent` entries separated by commas, the first from 0, totals
/// rising, percentages from 0 to 100; an empty list turns cashback off.
fn loyalty_tiers(value: Option<String>, default: Vec<Tier>) -> Result<Vec<Tier>, ConfigError> {
    let Some(raw) = value else {
        return Ok(default);
    };
    let malformed = ConfigError {
        variable: "LEDGERBOT_LOYALTY_TIERS",
        expected: "comma-separated name:from_total:percent entries with rising totals, the first from 0, \
                   like bronze:0:3,silver:10000:5 (or none)",
        found: Some(raw.clone()),
    };
    if raw.trim() == "none" {
        return Ok(Vec::new());
    }
    let mut tiers: Vec<Tier> = Vec::new();
    for entry in raw.split(',') {
        let parts: Vec<&str> = entry.trim().split(':').collect();
        let [name, from, percent] = parts.as_slice() else {
            return Err(malformed);
        };
        let (Ok(from_total), Ok(cashback_percent)) = (
            Decimal::from_str(from.trim()),
            Decimal::from_str(percent.trim()),
        ) else {
            return Err(malformed);
        };
        let rising = tiers.last().is_none_or(|last| last.from_total < from_total);
        let first_from_zero = !tiers.is_empty() || from_total.is_zero();
        if name.trim().is_empty()
            || !rising
            || !first_from_zero
            || cashback_percent.is_sign_negative()
            || cashback_percent > Decimal::ONE_HUNDRED
        {
            return Err(malformed);
        }
        tiers.push(Tier {
            name: name.trim().to_owned(),
            from_total,
            cashback_percent,
        });
    }
    Ok(tiers)
}

fn scheduler(get: &dyn Fn(&str) -> Option<String>) -> Result<SchedulerSettings, ConfigError> {
    let defaults = SchedulerSettings::default();
    Ok(SchedulerSettings {
        interval: Duration::from_secs(ranged(
            "LEDGERBOT_SCHEDULER_INTERVAL_SECS",
            get("LEDGERBOT_SCHEDULER_INTERVAL_SECS"),
            defaults.interval.as_secs(),
            1..=3_600,
            "a number of seconds from 1 to 3600",
        )?),
        booking_reminder_ahead: chrono::Duration::hours(ranged(
            "LEDGERBOT_BOOKING_REMINDER_HOURS",
            get("LEDGERBOT_BOOKING_REMINDER_HOURS"),
            defaults.booking_reminder_ahead.num_hours(),
            1..=168,
            "a number of hours from 1 to 168",
        )?),
        ticket_reminder_after: chrono::Duration::hours(ranged(
            "LEDGERBOT_TICKET_REMINDER_HOURS",
            get("LEDGERBOT_TICKET_REMINDER_HOURS"),
            defaults.ticket_reminder_after.num_hours(),
            1..=720,
            "a number of hours from 1 to 720",
        )?),
    })
}

fn auth(get: &dyn Fn(&str) -> Option<String>) -> Result<AuthSettings, ConfigError> {
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
            86_400,
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

/// `LEDGERBOT_CREDIT_PACKS` as `id:credits:price`, `LEDGERBOT_PLANS` as
/// `id:credits_per_period:period_days:price`, comma-separated; prices in roubles.
fn catalogue(get: &dyn Fn(&str) -> Option<String>) -> Result<Catalogue, ConfigError> {
    let defaults = Catalogue::default();
    let entries = |variable: &'static str, parts: usize, expected: &'static str| {
        let raw = get(variable);
        move || -> Result<Option<Vec<Vec<String>>>, ConfigError> {
            let Some(raw) = raw else { return Ok(None) };
            let malformed = ConfigError {
                variable,
                expected,
                found: Some(raw.clone()),
            };
            let mut rows = Vec::new();
            for entry in raw.split(',') {
                let fields: Vec<String> = entry
                    .trim()
                    .split(':')
                    .map(|f| f.trim().to_owned())
                    .collect();
                if fields.len() != parts || fields.iter().any(String::is_empty) {
                    return Err(malformed);
                }
                rows.push(fields);
            }
            Ok(Some(rows))
        }
    };
    let price = |variable: &'static str, expected: &'static str, text: &str| {
        text.parse::<Money>()
            .ok()
            .filter(|money| !money.is_zero())
            .ok_or(ConfigError {
                variable,
                expected,
                found: Some(text.to_owned()),
            })
    };
    let number = |variable: &'static str, expected: &'static str, text: &str| {
        text.parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(ConfigError {
                variable,
                expected,
                found: Some(text.to_owned()),
            })
    };
    const PACKS: &str = "comma-separated id:credits:price entries like S:100:499.00";
    const PLANS: &str =
        "comma-separated id:credits_per_period:period_days:price entries like pro:300:30:990.00";
    let packs = match entries("LEDGERBOT_CREDIT_PACKS", 3, PACKS)()? {
        None => defaults.packs,
        Some(rows) => rows
            .iter()
            .map(|row| {
                Ok(CreditPack {
                    id: row[0].clone(),
                    credits: number("LEDGERBOT_CREDIT_PACKS", PACKS, &row[1])?,
                    price: price("LEDGERBOT_CREDIT_PACKS", PACKS, &row[2])?,
                })
            })
            .collect::<Result<_, ConfigError>>()?,
    };
    let plans = match entries("LEDGERBOT_PLANS", 4, PLANS)()? {
        None => defaults.plans,
        Some(rows) => rows
            .iter()
            .map(|row| {
                let days = number("LEDGERBOT_PLANS", PLANS, &row[2])?;
                Ok(Plan {
                    id: row[0].clone(),
                    credits_per_period: number("LEDGERBOT_PLANS", PLANS, &row[1])?,
                    period_days: u32::try_from(days).map_err(|_| ConfigError {
                        variable: "LEDGERBOT_PLANS",
                        expected: PLANS,
                        found: Some(row[2].clone()),
                    })?,
                    price: price("LEDGERBOT_PLANS", PLANS, &row[3])?,
                })
            })
            .collect::<Result<_, ConfigError>>()?,
    };
    Ok(Catalogue { packs, plans })
}

/// `LEDGERBOT_SALON_SERVICES` as `id:minutes:price:name` and
/// `LEDGERBOT_SHOP_PRODUCTS` as `id:price:name`, comma-separated; the name is the
/// rest of the entry, so it may hold colons but not commas.
fn shopfront(get: &dyn Fn(&str) -> Option<String>) -> Result<Shopfront, ConfigError> {
    const SERVICES: &str =
        "comma-separated id:minutes:price:name entries like haircut:60:1500.00:Стрижка";
    const PRODUCTS: &str = "comma-separated id:price:name entries like mug:490.00:Кружка";
    let defaults = Shopfront::default();
    let rows = |variable: &'static str, parts: usize, expected: &'static str| {
        let Some(raw) = get(variable) else {
            return Ok(None);
        };
        let malformed = |found: &str| ConfigError {
            variable,
            expected,
            found: Some(found.to_owned()),
        };
        let mut rows = Vec::new();
        for entry in raw.split(',') {
            let fields: Vec<String> = entry
                .trim()
                .splitn(parts, ':')
                .map(|field| field.trim().to_owned())
                .collect();
            if fields.len() != parts || fields.iter().any(String::is_empty) {
                return Err(malformed(entry));
            }
            rows.push(fields);
        }
        let mut ids: Vec<&String> = rows.iter().map(|row| &row[0]).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(malformed(&raw));
        }
        Ok(Some(rows))
    };
    let price = |variable: &'static str, expected: &'static str, text: &str| {
        text.parse::<Money>()
            .ok()
            .filter(|money| !money.is_zero())
            .ok_or(ConfigError {
                variable,
                expected,
                found: Some(text.to_owned()),
            })
    };
    let services = match rows("LEDGERBOT_SALON_SERVICES", 4, SERVICES)? {
        None => defaults.services,
        Some(rows) => rows
            .into_iter()
            .map(|row| {
                let duration_minutes = row[1]
                    .parse::<u32>()
                    .ok()
                    .filter(|minutes| (5..=720).contains(minutes))
                    .ok_or(ConfigError {
                        variable: "LEDGERBOT_SALON_SERVICES",
                        expected: SERVICES,
                        found: Some(row[1].clone()),
                    })?;
                Ok(SalonService {
                    price: price("LEDGERBOT_SALON_SERVICES", SERVICES, &row[2])?,
                    id: row[0].clone(),
                    name: row[3].clone(),
                    duration_minutes,
                })
            })
            .collect::<Result<_, ConfigError>>()?,
    };
    let products = match rows("LEDGERBOT_SHOP_PRODUCTS", 3, PRODUCTS)? {
        None => defaults.products,
        Some(rows) => rows
            .into_iter()
            .map(|row| {
                Ok(Product {
                    price: price("LEDGERBOT_SHOP_PRODUCTS", PRODUCTS, &row[1])?,
                    id: row[0].clone(),
                    name: row[2].clone(),
                })
            })
            .collect::<Result<_, ConfigError>>()?,
    };
    Ok(Shopfront { services, products })
}

fn salon(get: &dyn Fn(&str) -> Option<String>) -> Result<SalonHours, ConfigError> {
    const HOURS: &str = "opening and closing times like 10:00-20:00";
    let hours = get("LEDGERBOT_SALON_HOURS").unwrap_or_else(|| "10:00-20:00".to_owned());
    let malformed_hours = || ConfigError {
        variable: "LEDGERBOT_SALON_HOURS",
        expected: HOURS,
        found: Some(hours.clone()),
    };
    let (opens, closes) = hours.trim().split_once('-').ok_or_else(malformed_hours)?;
    let time = |text: &str| {
        chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| malformed_hours())
    };
    let (opens, closes) = (time(opens)?, time(closes)?);
    if closes <= opens {
        return Err(malformed_hours());
    }
    let offset = get("LEDGERBOT_SALON_UTC_OFFSET").unwrap_or_else(|| "+03:00".to_owned());
    let malformed_offset = ConfigError {
        variable: "LEDGERBOT_SALON_UTC_OFFSET",
        expected: "an offset from UTC like +03:00",
        found: Some(offset.clone()),
    };
    let utc_offset =
        chrono::DateTime::parse_from_rfc3339(&format!("2026-01-01T00:00:00{}", offset.trim()))
            .map(|time| *time.offset())
            .map_err(|_| malformed_offset)?;
    Ok(SalonHours {
        opens,
        closes,
        utc_offset,
    })
}

fn bot_username(value: Option<String>) -> Result<Option<String>, ConfigError> {
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

fn limits(get: &dyn Fn(&str) -> Option<String>) -> Result<LimitSettings, ConfigError> {
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
        trust_forwarded_for: parsed(
            "LEDGERBOT_TRUST_FORWARDED_FOR",
            get("LEDGERBOT_TRUST_FORWARDED_FOR"),
            defaults.trust_forwarded_for,
            "true or false",
        )?,
    })
}

fn cors_origins(value: Option<String>) -> Result<Vec<String>, ConfigError> {
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

fn log_filter(value: Option<String>) -> Result<String, ConfigError> {
    let filter = value.unwrap_or_else(|| "info".to_owned());
    match tracing_subscriber::EnvFilter::try_new(&filter) {
        Ok(_) => Ok(filter),
        Err(_) => Err(ConfigError {
            variable: "LEDGERBOT_LOG",
            expected: "a tracing filter like info or info,sqlx=warn",
            found: Some(filter),
        }),
    }
}

fn log_format(value: Option<String>) -> Result<LogFormat, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("auto") => Ok(LogFormat::Auto),
        Some("json") => Ok(LogFormat::Json),
        Some("text") => Ok(LogFormat::Text),
        Some(other) => Err(ConfigError {
            variable: "LEDGERBOT_LOG_FORMAT",
            expected: "one of auto, json, text",
            found: Some(other.to_owned()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_describe_a_local_setup() {
        let settings = settings(&[]).expect("defaults are valid");
        assert_eq!(settings.database.url, DEFAULT_DATABASE_URL);
        assert_eq!(settings.nats.urls, vec!["nats://127.0.0.1:4222"]);
        assert_eq!(settings.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.stream, StreamSettings::default());
        assert_eq!(settings.relay, RelaySettings::default());
        assert_eq!(settings.log.format, LogFormat::Auto);
    }

    #[test]
    fn a_malformed_value_names_the_variable_and_the_form() {
        let error = settings(&[("LEDGERBOT_HTTP_ADDR", "localhost")]).expect_err("malformed");
        assert_eq!(
            error.to_string(),
            "LEDGERBOT_HTTP_ADDR must be a socket address like 127.0.0.1:8080 or 0.0.0.0:8080, got \"localhost\""
        );
        let error = settings(&[("LEDGERBOT_RELAY_BATCH_SIZE", "0")]).expect_err("out of range");
        assert_eq!(error.variable, "LEDGERBOT_RELAY_BATCH_SIZE");
        let error = settings(&[("LEDGERBOT_STREAM_DUPLICATE_WINDOW_SECS", "60")])
            .expect_err("window too short");
        assert_eq!(error.variable, "LEDGERBOT_STREAM_DUPLICATE_WINDOW_SECS");
        let error = settings(&[("LEDGERBOT_SUBJECT_PREFIX", "a..b")]).expect_err("empty token");
        assert_eq!(error.variable, "LEDGERBOT_SUBJECT_PREFIX");
        let error = settings(&[("LEDGERBOT_LOG_FORMAT", "xml")]).expect_err("unknown format");
        assert_eq!(error.variable, "LEDGERBOT_LOG_FORMAT");
    }

    #[test]
    fn yookassa_keys_come_in_pairs_and_never_show() {
        let sandbox = settings(&[]).expect("defaults");
        assert_eq!(sandbox.payments.credentials, None);
        assert_eq!(
            sandbox.payments.notification_ips.as_deref(),
            Some(YOOKASSA_NOTIFICATION_IPS)
        );
        let error = settings(&[("LEDGERBOT_YOOKASSA_SHOP_ID", "100500")]).expect_err("half");
        assert_eq!(error.variable, "LEDGERBOT_YOOKASSA_SECRET_KEY");
        let error =
            settings(&[("LEDGERBOT_YOOKASSA_SECRET_KEY", "live_s3cr3t")]).expect_err("half");
        assert!(!error.to_string().contains("live_s3cr3t"));
        let live = settings(&[
            ("LEDGERBOT_YOOKASSA_SHOP_ID", "100500"),
            ("LEDGERBOT_YOOKASSA_SECRET_KEY", "live_s3cr3t"),
            ("LEDGERBOT_YOOKASSA_NOTIFICATION_IPS", "any"),
            ("LEDGERBOT_YOOKASSA_FEE_PERCENT", "3.5"),
        ])
        .expect("valid");
        assert!(!format!("{live:?}").contains("live_s3cr3t"));
        assert_eq!(live.payments.notification_ips, None);
        assert_eq!(live.payments.fee_percent.to_string(), "3.5");
        for (variable, bad) in [
            ("LEDGERBOT_YOOKASSA_FEE_PERCENT", "100"),
            ("LEDGERBOT_YOOKASSA_RECEIPT_VAT_CODE", "13"),
            ("LEDGERBOT_YOOKASSA_API_URL", "api.yookassa.ru"),
        ] {
            assert_eq!(
                settings(&[(variable, bad)]).expect_err(bad).variable,
                variable
            );
        }
    }

    #[test]
    fn salon_services_and_shop_products_are_read_with_names_holding_colons() {
        let read = settings(&[
            (
                "LEDGERBOT_SALON_SERVICES",
                "cut:45:1200.00:Стрижка: короткая, brows:15:400:Брови",
            ),
            ("LEDGERBOT_SHOP_PRODUCTS", "mug:490.00:Кружка"),
        ])
        .expect("valid entries");
        let cut = read.shopfront.service("cut").expect("a service");
        assert_eq!(
            (
                cut.name.as_str(),
                cut.duration_minutes,
                cut.price.to_string().as_str()
            ),
            ("Стрижка: короткая", 45, "1200.00")
        );
        assert_eq!(read.shopfront.services.len(), 2);
        assert_eq!(
            read.shopfront.product("mug").map(|p| p.price.to_string()),
            Some("490.00".to_owned())
        );
        for (variable, bad) in [
            ("LEDGERBOT_SALON_SERVICES", "cut:0:1200.00:Стрижка"),
            ("LEDGERBOT_SALON_SERVICES", "cut:60:free:Стрижка"),
            ("LEDGERBOT_SALON_SERVICES", "cut:60:1200.00"),
            ("LEDGERBOT_SHOP_PRODUCTS", "mug:1.00:A, mug:2.00:B"),
        ] {
            let error = settings(&[(variable, bad)]).expect_err(bad);
            assert_eq!(error.variable, variable, "{bad}");
        }
        assert_eq!(
            settings(&[]).expect("defaults").shopfront,
            Shopfront::default()
        );
    }

    #[test]
    fn loyalty_tiers_are_read_checked_or_turned_off() {
        let read = settings(&[("LEDGERBOT_LOYALTY_TIERS", "basic:0:2.5, vip:20000:10")])
            .expect("valid tiers");
        let tiers: Vec<(String, String, String)> = read
            .programs
            .tiers
            .iter()
            .map(|tier| {
                (
                    tier.name.clone(),
                    tier.from_total.to_string(),
                    tier.cashback_percent.to_string(),
                )
            })
            .collect();
        assert_eq!(
            tiers,
            vec![
                ("basic".to_owned(), "0".to_owned(), "2.5".to_owned()),
                ("vip".to_owned(), "20000".to_owned(), "10".to_owned())
            ]
        );
        for bad in ["a:100:3", "a:0:3,b:0:5", "a:0:101", "a:0", "a:0:x", ":0:3"] {
            let error = settings(&[("LEDGERBOT_LOYALTY_TIERS", bad)]).expect_err(bad);
            assert_eq!(error.variable, "LEDGERBOT_LOYALTY_TIERS", "{bad}");
        }
        let off = settings(&[("LEDGERBOT_LOYALTY_TIERS", "none")]).expect("none");
        assert!(off.programs.tiers.is_empty());
    }

    #[test]
    fn secrets_never_appear_in_errors_or_debug_output() {
        let error =
            settings(&[("DATABASE_URL", "mysql://root:hunter2@db/x")]).expect_err("wrong scheme");
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let error = settings(&[("NATS_URL", "nats://u:hunter2@")]).expect_err("no host");
        assert!(!error.to_string().contains("hunter2"), "{error}");

        let settings = settings(&[
            ("DATABASE_URL", "postgres://app:hunter2@db:5432/ledgerbot"),
            ("NATS_URL", "nats://u:hunter2@nats:4222"),
        ])
        .expect("valid");
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            debug.contains("postgres://app:***@db:5432/ledgerbot"),
            "{debug}"
        );
    }

    #[test]
    fn a_database_url_must_name_a_database() {
        let error = settings(&[("DATABASE_URL", "postgres://postgres@127.0.0.1:5432")])
            .expect_err("no database");
        assert_eq!(error.variable, "DATABASE_URL");
        assert!(settings(&[("DATABASE_URL", "postgresql://postgres@h/db")]).is_ok());
    }

    #[test]
    fn several_nats_servers_may_be_listed_and_empty_values_mean_default() {
        let settings = settings(&[
            ("NATS_URL", "nats://a:4222, nats://b:4222"),
            ("LEDGERBOT_STREAM", ""),
        ])
        .expect("valid");
        assert_eq!(settings.nats.urls, vec!["nats://a:4222", "nats://b:4222"]);
        assert_eq!(settings.stream.name, "LEDGER_EVENTS");
    }

    #[test]
    fn env_example_documents_every_setting_with_a_valid_default() {
        let example = include_str!("../../.env.example");
        let pairs: Vec<(&str, &str)> = example
            .lines()
            .filter(|line| !line.trim_start().starts_with('#') && line.contains('='))
            .filter_map(|line| line.split_once('='))
            .collect();
        let documented: Vec<&str> = pairs.iter().map(|(name, _)| *name).collect();
        let mut known = KNOWN_VARIABLES.to_vec();
        known.sort_unstable();
        let mut listed = documented.clone();
        listed.sort_unstable();
        assert_eq!(listed, known, ".env.example and KNOWN_VARIABLES disagree");
        let from_example = settings(&pairs).expect(".env.example is valid");
        let defaults = settings(&[]).expect("defaults are valid");
        assert_eq!(format!("{from_example:?}"), format!("{defaults:?}"));
    }
}
