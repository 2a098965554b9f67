//! Where the process runs: Postgres, NATS and its stream, and the logs.

use std::fmt;
use std::str::FromStr;

use projections::StreamSettings;

use super::ConfigError;

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

pub(super) const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/ledgerbot";

pub(super) fn database_url(value: Option<String>) -> Result<String, ConfigError> {
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

pub(super) fn nats_urls(value: Option<String>) -> Result<Vec<String>, ConfigError> {
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

pub(super) fn stream_name(value: Option<String>) -> Result<String, ConfigError> {
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

pub(super) fn subject_prefix(value: Option<String>) -> Result<String, ConfigError> {
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

pub(super) fn log_filter(value: Option<String>) -> Result<String, ConfigError> {
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

pub(super) fn log_format(value: Option<String>) -> Result<LogFormat, ConfigError> {
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
