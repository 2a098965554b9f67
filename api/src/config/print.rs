//! `ledgerbot config`: every setting as the process would use it, one
//! `VARIABLE=value` line each, secrets redacted, in the order of
//! [`super::KNOWN_VARIABLES`].

use super::{LogFormat, Settings};

/// Shown instead of a secret that is set.
const REDACTED: &str = "***";

/// Every setting's effective value, by variable.
pub fn effective_settings(settings: &Settings) -> Vec<(&'static str, String)> {
    let secret = |value: Option<&str>| value.map_or_else(String::new, |_| REDACTED.to_owned());
    let optional = |value: Option<&str>| value.unwrap_or_default().to_owned();
    let list = |items: Vec<String>| items.join(",");
    let programs = &settings.programs;
    let payments = &settings.payments;
    let salon = &settings.salon;
    let rules = &settings.booking_rules;
    let limits = &settings.limits;
    let auth = &settings.auth;
    vec![
        ("DATABASE_URL", settings.database.redacted_url()),
        (
            "DATABASE_MAX_CONNECTIONS",
            settings.database.max_connections.to_string(),
        ),
        ("NATS_URL", settings.nats.redacted_urls()),
        ("LEDGERBOT_HTTP_ADDR", settings.http_addr.to_string()),
        ("LEDGERBOT_STREAM", settings.stream.name.clone()),
        (
            "LEDGERBOT_SUBJECT_PREFIX",
            settings.stream.subject_prefix.clone(),
        ),
        (
            "LEDGERBOT_STREAM_DUPLICATE_WINDOW_SECS",
            settings.stream.duplicate_window.as_secs().to_string(),
        ),
        (
            "LEDGERBOT_STREAM_REPLICAS",
            settings.stream.replicas.to_string(),
        ),
        (
            "LEDGERBOT_RELAY_BATCH_SIZE",
            settings.relay.batch_size.to_string(),
        ),
        (
            "LEDGERBOT_RELAY_POLL_MS",
            settings.relay.poll_interval.as_millis().to_string(),
        ),
        (
            "LEDGERBOT_RELAY_ACK_TIMEOUT_MS",
            settings.relay.ack_timeout.as_millis().to_string(),
        ),
        ("LEDGERBOT_LOG", settings.log.filter.clone()),
        (
            "LEDGERBOT_LOG_FORMAT",
            match settings.log.format {
                LogFormat::Auto => "auto",
                LogFormat::Json => "json",
                LogFormat::Text => "text",
            }
            .to_owned(),
        ),
        (
            "LEDGERBOT_SHUTDOWN_GRACE_SECS",
            settings.shutdown_grace.as_secs().to_string(),
        ),
        (
            "LEDGERBOT_LOYALTY_TIERS",
            if programs.tiers.is_empty() {
                "none".to_owned()
            } else {
                list(
                    programs
                        .tiers
                        .iter()
                        .map(|tier| {
                            format!(
                                "{}:{}:{}",
                                tier.name, tier.from_total, tier.cashback_percent
                            )
                        })
                        .collect(),
                )
            },
        ),
        (
            "LEDGERBOT_POINTS_LIFETIME_DAYS",
            programs.points_lifetime_days.to_string(),
        ),
        (
            "LEDGERBOT_REFERRAL_BONUS",
            programs.referral_bonus.to_string(),
        ),
        (
            "LEDGERBOT_MONTHLY_ALLOWANCE",
            programs.monthly_allowance.to_string(),
        ),
        (
            "LEDGERBOT_SCHEDULER_INTERVAL_SECS",
            settings.scheduler.interval.as_secs().to_string(),
        ),
        (
            "LEDGERBOT_BOOKING_REMINDER_HOURS",
            settings
                .scheduler
                .booking_reminder_ahead
                .num_hours()
                .to_string(),
        ),
        (
            "LEDGERBOT_TICKET_REMINDER_HOURS",
            settings
                .scheduler
                .ticket_reminder_after
                .num_hours()
                .to_string(),
        ),
        ("LEDGERBOT_BOT_TOKEN", secret(auth.bot_token.as_deref())),
        ("LEDGERBOT_JWT_SECRET", secret(auth.jwt_secret.as_deref())),
        (
            "LEDGERBOT_INIT_DATA_MAX_AGE_SECS",
            auth.init_data_max_age.as_secs().to_string(),
        ),
        (
            "LEDGERBOT_ACCESS_TOKEN_TTL_SECS",
            auth.access_token_ttl.as_secs().to_string(),
        ),
        (
            "LEDGERBOT_REFRESH_TOKEN_TTL_DAYS",
            (auth.refresh_token_ttl.as_secs() / 86_400).to_string(),
        ),
        (
            "LEDGERBOT_CREDIT_PACKS",
            list(
                settings
                    .catalogue
                    .packs
                    .iter()
                    .map(|pack| format!("{}:{}:{}", pack.id, pack.credits, pack.price))
                    .collect(),
            ),
        ),
        (
            "LEDGERBOT_PLANS",
            list(
                settings
                    .catalogue
                    .plans
                    .iter()
                    .map(|plan| {
                        format!(
                            "{}:{}:{}:{}",
                            plan.id, plan.credits_per_period, plan.period_days, plan.price
                        )
                    })
                    .collect(),
            ),
        ),
        (
            "LEDGERBOT_SALON_HOURS",
            format!(
                "{}-{}",
                salon.opens.format("%H:%M"),
                salon.closes.format("%H:%M")
            ),
        ),
        ("LEDGERBOT_SALON_UTC_OFFSET", salon.utc_offset.to_string()),
        (
            "LEDGERBOT_SALON_FULL_REFUND_HOURS",
            rules.full_refund_hours.to_string(),
        ),
        (
            "LEDGERBOT_SALON_LATE_REFUND_PERCENT",
            rules.late_refund_percent.to_string(),
        ),
        (
            "LEDGERBOT_SALON_UNPAID_HOLD_MINUTES",
            rules.unpaid_hold_minutes.to_string(),
        ),
        (
            "LEDGERBOT_SALON_MAX_UNPAID_BOOKINGS",
            rules.max_unpaid_bookings.to_string(),
        ),
        (
            "LEDGERBOT_BOT_USERNAME",
            optional(settings.bot_username.as_deref()),
        ),
        ("LEDGERBOT_BOT_API_URL", settings.bot.api_url.clone()),
        (
            "LEDGERBOT_STAFF_CHAT_ID",
            optional(
                settings
                    .bot
                    .staff_chat_id
                    .map(|id| id.to_string())
                    .as_deref(),
            ),
        ),
        (
            "LEDGERBOT_TERMS_VERSION",
            settings.bot.terms_version.clone(),
        ),
        (
            "LEDGERBOT_TERMS_URL",
            optional(settings.bot.terms_url.as_deref()),
        ),
        (
            "LEDGERBOT_BOT_LONG_POLL_SECS",
            settings.bot.long_poll_secs.to_string(),
        ),
        (
            "LEDGERBOT_BOT_SENDS_PER_SECOND",
            settings.bot.sends_per_second.to_string(),
        ),
        (
            "LEDGERBOT_BOT_MODE",
            if settings.bot.webhook_on.is_some() {
                "webhook".to_owned()
            } else {
                "polling".to_owned()
            },
        ),
        (
            "LEDGERBOT_BOT_WEBHOOK_SECRET",
            secret(settings.bot.webhook_secret.as_deref()),
        ),
        (
            "LEDGERBOT_RATE_LIMIT_PER_USER",
            limits.per_user_per_minute.to_string(),
        ),
        (
            "LEDGERBOT_RATE_LIMIT_PER_IP",
            limits.per_ip_per_minute.to_string(),
        ),
        (
            "LEDGERBOT_REQUEST_TIMEOUT_SECS",
            limits.request_timeout.as_secs().to_string(),
        ),
        (
            "LEDGERBOT_UPLOAD_TIMEOUT_SECS",
            limits.upload_timeout.as_secs().to_string(),
        ),
        (
            "LEDGERBOT_TRUST_FORWARDED_FOR",
            limits.trust_forwarded_for.to_string(),
        ),
        (
            "LEDGERBOT_CORS_ORIGINS",
            list(settings.cors_origins.clone()),
        ),
        (
            "LEDGERBOT_APP_SECTIONS",
            list(settings.app_sections.clone()),
        ),
        (
            "LEDGERBOT_LIVE_UPDATES_RETENTION_DAYS",
            (settings.live_updates_retention.as_secs() / 86_400).to_string(),
        ),
        (
            "LEDGERBOT_SALON_SERVICES",
            list(
                settings
                    .shopfront
                    .services
                    .iter()
                    .map(|service| {
                        format!(
                            "{}:{}:{}:{}",
                            service.id, service.duration_minutes, service.price, service.name
                        )
                    })
                    .collect(),
            ),
        ),
        (
            "LEDGERBOT_SHOP_PRODUCTS",
            list(
                settings
                    .shopfront
                    .products
                    .iter()
                    .map(|product| format!("{}:{}:{}", product.id, product.price, product.name))
                    .collect(),
            ),
        ),
        (
            "LEDGERBOT_YOOKASSA_MODE",
            optional(payments.mode.map(|mode| match mode {
                crate::config::PaymentMode::Sandbox => "sandbox",
                crate::config::PaymentMode::Live => "live",
            })),
        ),
        (
            "LEDGERBOT_YOOKASSA_SHOP_ID",
            optional(payments.credentials.as_ref().map(|(shop, _)| shop.as_str())),
        ),
        (
            "LEDGERBOT_YOOKASSA_SECRET_KEY",
            secret(payments.credentials.as_ref().map(|(_, key)| key.as_str())),
        ),
        ("LEDGERBOT_YOOKASSA_API_URL", payments.api_url.clone()),
        (
            "LEDGERBOT_YOOKASSA_RETURN_URL",
            optional(payments.return_url.as_deref()),
        ),
        (
            "LEDGERBOT_YOOKASSA_NOTIFICATION_IPS",
            payments
                .notification_ips
                .clone()
                .unwrap_or_else(|| "any".to_owned()),
        ),
        (
            "LEDGERBOT_YOOKASSA_FEE_PERCENT",
            payments.fee_percent.to_string(),
        ),
        (
            "LEDGERBOT_YOOKASSA_RECEIPT_VAT_CODE",
            payments
                .receipt_vat_code
                .map(|code| code.to_string())
                .unwrap_or_default(),
        ),
        (
            "LEDGERBOT_YOOKASSA_TIMEOUT_SECS",
            payments.timeout.as_secs().to_string(),
        ),
        ("LEDGERBOT_YOOKASSA_ATTEMPTS", payments.attempts.to_string()),
        (
            "LEDGERBOT_PUBLIC_URL",
            optional(settings.public_url.as_deref()),
        ),
        (
            "LEDGERBOT_OWNER_TELEGRAM_IDS",
            list(
                settings
                    .owner_telegram_ids
                    .iter()
                    .map(i64::to_string)
                    .collect(),
            ),
        ),
    ]
    .into_iter()
    .chain(super::ai::printed(&settings.files, &settings.ai))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::super::KNOWN_VARIABLES;
    use super::*;

    #[test]
    fn every_setting_is_printed_in_order_and_secrets_are_not() {
        let settings = Settings::from_lookup(|name| {
            match name {
                "LEDGERBOT_JWT_SECRET" => Some("a-very-secret-value-of-32-characters!"),
                "LEDGERBOT_BOT_TOKEN" => Some("42:very-secret-token"),
                "DATABASE_URL" => Some("postgres://user:hunter2@db:5432/ledgerbot"),
                _ => None,
            }
            .map(str::to_owned)
        })
        .expect("valid settings");
        let lines = effective_settings(&settings);
        let names: Vec<&str> = lines.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, KNOWN_VARIABLES);
        let text = format!("{lines:?}");
        for secret in ["a-very-secret-value", "very-secret-token", "hunter2"] {
            assert!(!text.contains(secret), "{secret} printed: {text}");
        }
    }

    #[test]
    fn printed_values_are_read_back_as_the_same_settings() {
        let defaults = Settings::from_lookup(|_| None).expect("defaults");
        let lines = effective_settings(&defaults);
        let again = Settings::from_lookup(|name| {
            lines
                .iter()
                .find(|(variable, _)| *variable == name)
                .map(|(_, value)| value.clone())
                .filter(|value| !value.is_empty() && value != REDACTED)
        })
        .expect("printed values are valid settings");
        assert_eq!(effective_settings(&again), lines);
    }
}
