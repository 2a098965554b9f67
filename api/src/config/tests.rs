use std::collections::HashMap;

use super::infrastructure::DEFAULT_DATABASE_URL;
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
    let error = settings(&[("LEDGERBOT_YOOKASSA_SECRET_KEY", "live_s3cr3t")]).expect_err("half");
    assert!(!error.to_string().contains("live_s3cr3t"));
    let live = settings(&[
        ("LEDGERBOT_YOOKASSA_SHOP_ID", "100500"),
        ("LEDGERBOT_YOOKASSA_SECRET_KEY", "live_s3cr3t"),
        ("LEDGERBOT_YOOKASSA_NOTIFICATION_IPS", "any"),
        ("LEDGERBOT_YOOKASSA_FEE_PERCENT", "3.5"),
    ])
    .expect("valid");
    assert!(!format!("{live:?}").contains("live_s3cr3t"));
    assert_eq!(live.payments.mode, Some(PaymentMode::Live));
    assert_eq!(
        sandbox.payments.mode, None,
        "no mode is guessed without keys"
    );
    let chosen = settings(&[("LEDGERBOT_YOOKASSA_MODE", "sandbox")]).expect("sandbox");
    assert_eq!(chosen.payments.mode, Some(PaymentMode::Sandbox));
    let error = settings(&[("LEDGERBOT_YOOKASSA_MODE", "live")]).expect_err("live without keys");
    assert_eq!(error.variable, "LEDGERBOT_YOOKASSA_SHOP_ID");
    let error = settings(&[
        ("LEDGERBOT_YOOKASSA_MODE", "sandbox"),
        ("LEDGERBOT_YOOKASSA_SHOP_ID", "100500"),
        ("LEDGERBOT_YOOKASSA_SECRET_KEY", "live_s3cr3t"),
    ])
    .expect_err("sandbox with keys");
    assert_eq!(error.variable, "LEDGERBOT_YOOKASSA_MODE");
    assert_eq!(
        settings(&[("LEDGERBOT_YOOKASSA_MODE", "maybe")])
            .expect_err("maybe")
            .variable,
        "LEDGERBOT_YOOKASSA_MODE"
    );
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
    let read =
        settings(&[("LEDGERBOT_LOYALTY_TIERS", "basic:0:2.5, vip:20000:10")]).expect("valid tiers");
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
    let example = include_str!("../../../.env.example");
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

#[test]
fn init_data_is_good_for_an_hour_unless_configured() {
    let defaults = settings(&[]).expect("defaults are valid");
    assert_eq!(defaults.auth.init_data_max_age.as_secs(), 3_600);
    let longer =
        settings(&[("LEDGERBOT_INIT_DATA_MAX_AGE_SECS", "86400")]).expect("a day is allowed");
    assert_eq!(longer.auth.init_data_max_age.as_secs(), 86_400);
    let error = settings(&[("LEDGERBOT_INIT_DATA_MAX_AGE_SECS", "30")]).expect_err("too short");
    assert_eq!(error.variable, "LEDGERBOT_INIT_DATA_MAX_AGE_SECS");
}

#[test]
fn booking_rules_are_read_and_checked() {
    assert_eq!(
        settings(&[]).expect("defaults").booking_rules,
        domain::order::BookingRules {
            full_refund_hours: 24,
            late_refund_percent: 50,
            unpaid_hold_minutes: 15,
            max_unpaid_bookings: 3,
        }
    );
    let read = settings(&[
        ("LEDGERBOT_SALON_FULL_REFUND_HOURS", "48"),
        ("LEDGERBOT_SALON_LATE_REFUND_PERCENT", "30"),
        ("LEDGERBOT_SALON_UNPAID_HOLD_MINUTES", "20"),
        ("LEDGERBOT_SALON_MAX_UNPAID_BOOKINGS", "1"),
    ])
    .expect("valid rules");
    assert_eq!(
        read.booking_rules,
        domain::order::BookingRules {
            full_refund_hours: 48,
            late_refund_percent: 30,
            unpaid_hold_minutes: 20,
            max_unpaid_bookings: 1,
        }
    );
    for (variable, bad) in [
        ("LEDGERBOT_SALON_FULL_REFUND_HOURS", "-1"),
        ("LEDGERBOT_SALON_LATE_REFUND_PERCENT", "101"),
        ("LEDGERBOT_SALON_UNPAID_HOLD_MINUTES", "0"),
        ("LEDGERBOT_SALON_MAX_UNPAID_BOOKINGS", "0"),
        ("LEDGERBOT_SALON_MAX_UNPAID_BOOKINGS", "many"),
    ] {
        let error = settings(&[(variable, bad)]).expect_err(bad);
        assert_eq!(error.variable, variable, "{bad}");
    }
}
