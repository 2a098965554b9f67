//! What the businesses sell and reward: loyalty, referrals and allowances, the
//! scheduler's reminders, credit packs and plans, the salon's services, hours and
//! booking rules, the shop's products, and the first owners.

use std::str::FromStr;
use std::time::Duration;

use domain::catalogue::{
    Catalogue, CreditPack, Plan, Product, SalonHours, SalonService, Shopfront,
};
use domain::money::Money;
use domain::order::BookingRules;
use domain::programs::{Programs, Tier};
use projections::scheduler::SchedulerSettings;
use rust_decimal::Decimal;

use super::ConfigError;
use super::parse::ranged;

pub(super) fn programs(get: &dyn Fn(&str) -> Option<String>) -> Result<Programs, ConfigError> {
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
pub(super) fn loyalty_tiers(
    value: Option<String>,
    default: Vec<Tier>,
) -> Result<Vec<Tier>, ConfigError> {
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

pub(super) fn scheduler(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<SchedulerSettings, ConfigError> {
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

/// `LEDGERBOT_CREDIT_PACKS` as `id:credits:price`, `LEDGERBOT_PLANS` as
/// `id:credits_per_period:period_days:price`, comma-separated; prices in roubles.
/// The longest id of a pack, plan, service or product (they go into the bot's
/// buttons, whose data holds 64 bytes).
const ID_LIMIT: usize = 32;

pub(super) fn catalogue(get: &dyn Fn(&str) -> Option<String>) -> Result<Catalogue, ConfigError> {
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
                // Ids go into the bot's buttons (64 bytes of data in all).
                if fields.len() != parts
                    || fields.iter().any(String::is_empty)
                    || fields[0].len() > ID_LIMIT
                {
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
pub(super) fn shopfront(get: &dyn Fn(&str) -> Option<String>) -> Result<Shopfront, ConfigError> {
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
            if fields.len() != parts
                || fields.iter().any(String::is_empty)
                || fields[0].len() > ID_LIMIT
            {
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

pub(super) fn salon(get: &dyn Fn(&str) -> Option<String>) -> Result<SalonHours, ConfigError> {
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

/// The salon's booking rules: refunds of customers' cancellations (all up to
/// `LEDGERBOT_SALON_FULL_REFUND_HOURS` before the slot, then
/// `LEDGERBOT_SALON_LATE_REFUND_PERCENT`), how long an unpaid booking holds its slot
/// and how many a customer may hold at once.
pub(super) fn booking_rules(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<BookingRules, ConfigError> {
    let defaults = BookingRules::default();
    Ok(BookingRules {
        full_refund_hours: ranged(
            "LEDGERBOT_SALON_FULL_REFUND_HOURS",
            get("LEDGERBOT_SALON_FULL_REFUND_HOURS"),
            defaults.full_refund_hours,
            0..=720,
            "a number of hours from 0 (full refunds until the start) to 720",
        )?,
        late_refund_percent: ranged(
            "LEDGERBOT_SALON_LATE_REFUND_PERCENT",
            get("LEDGERBOT_SALON_LATE_REFUND_PERCENT"),
            defaults.late_refund_percent,
            0..=100,
            "a percentage from 0 to 100",
        )?,
        unpaid_hold_minutes: ranged(
            "LEDGERBOT_SALON_UNPAID_HOLD_MINUTES",
            get("LEDGERBOT_SALON_UNPAID_HOLD_MINUTES"),
            defaults.unpaid_hold_minutes,
            1..=10_080,
            "a number of minutes from 1 to 10080",
        )?,
        max_unpaid_bookings: ranged(
            "LEDGERBOT_SALON_MAX_UNPAID_BOOKINGS",
            get("LEDGERBOT_SALON_MAX_UNPAID_BOOKINGS"),
            defaults.max_unpaid_bookings,
            1..=100,
            "a number of bookings from 1 to 100",
        )?,
    })
}

/// `LEDGERBOT_OWNER_TELEGRAM_IDS`: Telegram user ids, comma-separated.
pub(super) fn owner_telegram_ids(value: Option<String>) -> Result<Vec<i64>, ConfigError> {
    let Some(raw) = value else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(|id| id.trim().parse::<i64>().ok().filter(|id| *id > 0))
        .collect::<Option<Vec<i64>>>()
        .ok_or(ConfigError {
            variable: "LEDGERBOT_OWNER_TELEGRAM_IDS",
            expected: "comma-separated Telegram user ids like 123456789,987654321",
            found: Some(raw),
        })
}
