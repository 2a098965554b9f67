//! Taking money through YooKassa (or the built-in sandbox).

use std::fmt;
use std::time::Duration;

use super::ConfigError;
use super::parse::{parsed, ranged};

/// How payments are taken: `LEDGERBOT_YOOKASSA_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMode {
    /// The built-in sandbox: a checkout page of this process, no money moves.
    Sandbox,
    /// YooKassa with the shop's keys.
    Live,
}

/// Taking money through YooKassa. Secrets never appear in `Debug`.
#[derive(Clone, PartialEq)]
pub struct PaymentSettings {
    /// `None` when neither a mode nor keys were given: the process refuses to take
    /// payments (it does not guess that no money should move).
    pub mode: Option<PaymentMode>,
    /// Shop id and secret key (always set in `Live` mode, never in `Sandbox`).
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
            .field("mode", &self.mode)
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

pub(super) fn payments(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<PaymentSettings, ConfigError> {
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
    let mode = match get("LEDGERBOT_YOOKASSA_MODE").as_deref().map(str::trim) {
        None | Some("") => credentials.is_some().then_some(PaymentMode::Live),
        Some("sandbox") if credentials.is_some() => {
            return Err(ConfigError {
                variable: "LEDGERBOT_YOOKASSA_MODE",
                expected: "live when YooKassa keys are set (remove the keys for the sandbox)",
                found: Some("sandbox".to_owned()),
            });
        }
        Some("sandbox") => Some(PaymentMode::Sandbox),
        Some("live") if credentials.is_none() => {
            return Err(ConfigError {
                variable: "LEDGERBOT_YOOKASSA_SHOP_ID",
                expected: "set with LEDGERBOT_YOOKASSA_SECRET_KEY in live mode (or LEDGERBOT_YOOKASSA_MODE=sandbox)",
                found: None,
            });
        }
        Some("live") => Some(PaymentMode::Live),
        Some(other) => {
            return Err(ConfigError {
                variable: "LEDGERBOT_YOOKASSA_MODE",
                expected: "sandbox or live",
                found: Some(other.to_owned()),
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
        mode,
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
