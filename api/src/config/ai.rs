//! Files (where they go, which types and sizes each purpose takes, how long they are
//! kept, the virus scanner) and the AI services (the image provider, the chat model,
//! prices in credits, the runner's attempts and limits).

use std::collections::BTreeMap;
use std::time::Duration;

use domain::files::{FilePolicy, FilePurpose, FileType};
use domain::use_cases::generation::AiRules;
use rust_decimal::Decimal;

use super::ConfigError;
use super::parse::{parsed, ranged};

#[derive(Clone, PartialEq)]
pub struct FileSettings {
    pub folder: std::path::PathBuf,
    pub policy: FilePolicy,
    /// `host:port` or `unix:/path` of a clamd; `None`: uploads are not scanned.
    pub clamav: Option<String>,
}

/// An HTTP AI service: where, with which key and model.
#[derive(Clone, PartialEq)]
pub struct ProviderSettings {
    pub url: String,
    pub key: Option<String>,
    pub model: String,
}

#[derive(Clone, PartialEq)]
pub struct AiSettings {
    pub images: ProviderSettings,
    pub image_cost: Decimal,
    pub chat: ProviderSettings,
    pub rules: AiRules,
    /// How many attempts one workers process makes at once.
    pub runners: usize,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("url", &self.url)
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("model", &self.model)
            .finish()
    }
}

impl std::fmt::Debug for AiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiSettings")
            .field("images", &self.images)
            .field("chat", &self.chat)
            .field("rules", &self.rules)
            .finish()
    }
}

impl std::fmt::Debug for FileSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSettings")
            .field("folder", &self.folder)
            .field("policy", &self.policy)
            .field("clamav", &self.clamav)
            .finish()
    }
}

const MB: u64 = 1024 * 1024;

/// `purpose=type:MB,type:MB;purpose=…`, each purpose given replacing its seed rules.
pub fn parse_limits(text: &str, policy: &mut FilePolicy) -> Result<(), String> {
    for part in text
        .split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let (purpose, rules) = part.split_once('=').ok_or("purpose=type:MB,…")?;
        let purpose: FilePurpose = purpose.trim().parse()?;
        let mut limits = BTreeMap::new();
        for rule in rules
            .split(',')
            .map(str::trim)
            .filter(|rule| !rule.is_empty())
        {
            let (kind, size) = rule.split_once(':').ok_or("type:MB")?;
            let kind: FileType = kind.trim().parse()?;
            let megabytes: u64 = size.trim().parse().map_err(|_| "a size in MB")?;
            if megabytes == 0 || megabytes > 1024 {
                return Err("sizes from 1 to 1024 MB".into());
            }
            limits.insert(kind, megabytes * MB);
        }
        let entry = policy
            .purposes
            .entry(purpose)
            .or_insert(domain::files::PurposeRules {
                limits: BTreeMap::new(),
                keep_for: None,
            });
        entry.limits = limits;
    }
    Ok(())
}

/// `purpose=24h,purpose=none` (hours).
pub fn parse_retention(text: &str, policy: &mut FilePolicy) -> Result<(), String> {
    for part in text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let (purpose, keep) = part.split_once('=').ok_or("purpose=24h or purpose=none")?;
        let purpose: FilePurpose = purpose.trim().parse()?;
        let keep = keep.trim();
        let keep_for = if keep == "none" {
            None
        } else {
            let hours: i64 = keep
                .strip_suffix('h')
                .ok_or("hours like 24h")?
                .parse()
                .map_err(|_| "hours like 24h")?;
            if !(1..=24 * 3650).contains(&hours) {
                return Err("from 1h to 87600h".into());
            }
            Some(chrono::Duration::hours(hours))
        };
        if let Some(rules) = policy.purposes.get_mut(&purpose) {
            rules.keep_for = keep_for;
        }
    }
    Ok(())
}

pub fn limits_text(policy: &FilePolicy) -> String {
    policy
        .purposes
        .iter()
        .map(|(purpose, rules)| {
            let limits: Vec<String> = rules
                .limits
                .iter()
                .map(|(kind, size)| format!("{}:{}", kind.as_str(), size / MB))
                .collect();
            format!("{purpose}={}", limits.join(","))
        })
        .collect::<Vec<_>>()
        .join(";")
}

pub fn retention_text(policy: &FilePolicy) -> String {
    policy
        .purposes
        .iter()
        .map(|(purpose, rules)| match rules.keep_for {
            Some(keep) => format!("{purpose}={}h", keep.num_hours()),
            None => format!("{purpose}=none"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn files(get: &dyn Fn(&str) -> Option<String>) -> Result<FileSettings, ConfigError> {
    let mut policy = FilePolicy::seeds();
    if let Some(text) = get("LEDGERBOT_FILE_LIMITS") {
        parse_limits(&text, &mut policy).map_err(|_| ConfigError {
            variable: "LEDGERBOT_FILE_LIMITS",
            expected: "purpose=type:MB,type:MB;… (types jpeg, png, webp, pdf, docx, xlsx)",
            found: Some(text.clone()),
        })?;
    }
    if let Some(text) = get("LEDGERBOT_FILE_RETENTION") {
        parse_retention(&text, &mut policy).map_err(|_| ConfigError {
            variable: "LEDGERBOT_FILE_RETENTION",
            expected: "purpose=24h,purpose=none,…",
            found: Some(text.clone()),
        })?;
    }
    Ok(FileSettings {
        folder: get("LEDGERBOT_FILES_DIR")
            .map(|dir| dir.trim().to_owned())
            .filter(|dir| !dir.is_empty())
            .unwrap_or_else(|| "data/files".to_owned())
            .into(),
        policy,
        clamav: get("LEDGERBOT_CLAMAV_ADDRESS")
            .map(|address| address.trim().to_owned())
            .filter(|address| !address.is_empty()),
    })
}

fn url(
    get: &dyn Fn(&str) -> Option<String>,
    variable: &'static str,
    default: &str,
) -> Result<String, ConfigError> {
    match get(variable) {
        None => Ok(default.to_owned()),
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            Ok(url.trim().trim_end_matches('/').to_owned())
        }
        Some(other) => Err(ConfigError {
            variable,
            expected: "an http:// or https:// URL",
            found: Some(other),
        }),
    }
}

fn key(get: &dyn Fn(&str) -> Option<String>, variable: &str) -> Option<String> {
    get(variable)
        .map(|key| key.trim().to_owned())
        .filter(|key| !key.is_empty())
}

pub(super) fn ai(get: &dyn Fn(&str) -> Option<String>) -> Result<AiSettings, ConfigError> {
    let defaults = AiRules::default();
    let credits = |variable: &'static str, default: u64| {
        ranged(
            variable,
            get(variable),
            default,
            0..=10_000,
            "a number of credits from 0 to 10000",
        )
    };
    let millis =
        |variable: &'static str, default: Duration, range: std::ops::RangeInclusive<u64>| {
            ranged(
                variable,
                get(variable),
                u64::try_from(default.as_millis()).unwrap_or(u64::MAX),
                range,
                "a number of milliseconds",
            )
            .map(Duration::from_millis)
        };
    let task_timeout = ranged(
        "LEDGERBOT_GENERATION_TIMEOUT_SECS",
        get("LEDGERBOT_GENERATION_TIMEOUT_SECS"),
        defaults.task_timeout.as_secs(),
        5..=3600,
        "seconds from 5 to 3600",
    )?;
    let rules = AiRules {
        fitting_price: credits("LEDGERBOT_PRICE_FITTING", defaults.fitting_price)?,
        editing_price: credits("LEDGERBOT_PRICE_EDITING", defaults.editing_price)?,
        assistant_price: credits("LEDGERBOT_PRICE_ASSISTANT", defaults.assistant_price)?,
        monthly_allowance: 0,
        attempts: ranged(
            "LEDGERBOT_GENERATION_ATTEMPTS",
            get("LEDGERBOT_GENERATION_ATTEMPTS"),
            defaults.attempts,
            1..=10,
            "attempts from 1 to 10",
        )?,
        first_retry: millis(
            "LEDGERBOT_GENERATION_RETRY_MS",
            defaults.first_retry,
            10..=600_000,
        )?,
        running_per_user: ranged(
            "LEDGERBOT_GENERATIONS_PER_USER",
            get("LEDGERBOT_GENERATIONS_PER_USER"),
            defaults.running_per_user,
            1..=100,
            "jobs from 1 to 100",
        )?,
        lease: Duration::from_secs(ranged(
            "LEDGERBOT_GENERATION_LEASE_SECS",
            get("LEDGERBOT_GENERATION_LEASE_SECS"),
            defaults.lease.as_secs(),
            2..=3600,
            "seconds from 2 to 3600",
        )?),
        poll_every: millis(
            "LEDGERBOT_GENERATION_POLL_MS",
            defaults.poll_every,
            10..=60_000,
        )?,
        task_timeout: Duration::from_secs(task_timeout),
        fitting_prompt: defaults.fitting_prompt,
        link_valid_for: chrono::Duration::seconds(
            i64::try_from(task_timeout).unwrap_or(300) + 3600,
        ),
        chat_kept_for: chrono::Duration::days(ranged(
            "LEDGERBOT_CHAT_RETENTION_DAYS",
            get("LEDGERBOT_CHAT_RETENTION_DAYS"),
            30,
            1..=3650,
            "days from 1 to 3650",
        )?),
        assistant_per_minute: ranged(
            "LEDGERBOT_ASSISTANT_PER_MINUTE",
            get("LEDGERBOT_ASSISTANT_PER_MINUTE"),
            defaults.assistant_per_minute,
            1..=1000,
            "messages from 1 to 1000",
        )?,
    };
    Ok(AiSettings {
        images: ProviderSettings {
            url: url(get, "LEDGERBOT_KIE_API_URL", "https://api.kie.ai")?,
            key: key(get, "LEDGERBOT_KIE_API_KEY"),
            model: get("LEDGERBOT_KIE_MODEL").unwrap_or_else(|| "google/nano-banana-edit".into()),
        },
        image_cost: parsed(
            "LEDGERBOT_KIE_COST_PER_IMAGE",
            get("LEDGERBOT_KIE_COST_PER_IMAGE"),
            Decimal::new(2, 2),
            "a decimal amount like 0.02",
        )?,
        chat: ProviderSettings {
            url: url(
                get,
                "LEDGERBOT_CHAT_API_URL",
                "https://openrouter.ai/api/v1",
            )?,
            key: key(get, "LEDGERBOT_CHAT_API_KEY"),
            model: get("LEDGERBOT_CHAT_MODEL").unwrap_or_else(|| "openai/gpt-4o-mini".into()),
        },
        rules,
        runners: ranged(
            "LEDGERBOT_GENERATION_RUNNERS",
            get("LEDGERBOT_GENERATION_RUNNERS"),
            4,
            1..=256,
            "runners from 1 to 256",
        )?,
    })
}

/// Every variable here with its effective value, in `KNOWN_VARIABLES` order.
pub(super) fn printed(files: &FileSettings, ai: &AiSettings) -> Vec<(&'static str, String)> {
    let secret = |key: &Option<String>| key.as_ref().map_or_else(String::new, |_| "***".to_owned());
    let rules = &ai.rules;
    vec![
        ("LEDGERBOT_FILES_DIR", files.folder.display().to_string()),
        ("LEDGERBOT_FILE_LIMITS", limits_text(&files.policy)),
        ("LEDGERBOT_FILE_RETENTION", retention_text(&files.policy)),
        (
            "LEDGERBOT_CLAMAV_ADDRESS",
            files.clamav.clone().unwrap_or_default(),
        ),
        ("LEDGERBOT_KIE_API_URL", ai.images.url.clone()),
        ("LEDGERBOT_KIE_API_KEY", secret(&ai.images.key)),
        ("LEDGERBOT_KIE_MODEL", ai.images.model.clone()),
        ("LEDGERBOT_KIE_COST_PER_IMAGE", ai.image_cost.to_string()),
        ("LEDGERBOT_CHAT_API_URL", ai.chat.url.clone()),
        ("LEDGERBOT_CHAT_API_KEY", secret(&ai.chat.key)),
        ("LEDGERBOT_CHAT_MODEL", ai.chat.model.clone()),
        ("LEDGERBOT_PRICE_FITTING", rules.fitting_price.to_string()),
        ("LEDGERBOT_PRICE_EDITING", rules.editing_price.to_string()),
        (
            "LEDGERBOT_PRICE_ASSISTANT",
            rules.assistant_price.to_string(),
        ),
        ("LEDGERBOT_GENERATION_ATTEMPTS", rules.attempts.to_string()),
        (
            "LEDGERBOT_GENERATION_RETRY_MS",
            rules.first_retry.as_millis().to_string(),
        ),
        (
            "LEDGERBOT_GENERATION_TIMEOUT_SECS",
            rules.task_timeout.as_secs().to_string(),
        ),
        (
            "LEDGERBOT_GENERATION_POLL_MS",
            rules.poll_every.as_millis().to_string(),
        ),
        (
            "LEDGERBOT_GENERATION_LEASE_SECS",
            rules.lease.as_secs().to_string(),
        ),
        (
            "LEDGERBOT_GENERATIONS_PER_USER",
            rules.running_per_user.to_string(),
        ),
        ("LEDGERBOT_GENERATION_RUNNERS", ai.runners.to_string()),
        (
            "LEDGERBOT_ASSISTANT_PER_MINUTE",
            rules.assistant_per_minute.to_string(),
        ),
        (
            "LEDGERBOT_CHAT_RETENTION_DAYS",
            rules.chat_kept_for.num_days().to_string(),
        ),
    ]
}
