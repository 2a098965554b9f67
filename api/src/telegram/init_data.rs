//! Telegram Mini App `initData`: parsing and the two ways to check it.
//!
//! - [`validate`]: the bot's own check, HMAC-SHA256 with the key
//!   `HMAC_SHA256(key = "WebAppData", message = bot_token)` over the data-check string
//!   (every field but `hash`, as `key=value` lines sorted by key).
//! - [`validate_third_party`]: the Ed25519 `signature` Telegram adds for parties that
//!   do not hold the bot token, over `"<bot_id>:WebAppData\n"` and the data-check
//!   string without `hash` and `signature`, with Telegram's published keys
//!   ([`TELEGRAM_PRODUCTION_KEY`], [`TELEGRAM_TEST_KEY`]) or another key passed in.
//!
//! Both take the raw string exactly as the Mini App sent it, the current time and the
//! maximum age of `auth_date` (`None` skips the age check, for replaying old data), and
//! return the parsed fields or an [`InitDataError`] saying what is wrong.
//! <https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app>

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use ring::{hmac, signature};
use serde::Serialize;
use serde_json::Value;

/// Telegram's Ed25519 public key for production bots (hex).
pub const TELEGRAM_PRODUCTION_KEY: &str =
    "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d";
/// Telegram's Ed25519 public key for bots on the test environment (hex).
pub const TELEGRAM_TEST_KEY: &str =
    "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec";

/// How far in the future an `auth_date` may be (clock skew) before it is refused.
const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    #[error("initData is empty")]
    Empty,
    #[error("initData is not a query string: {0}")]
    Malformed(String),
    #[error("initData has no {0}")]
    Missing(&'static str),
    #[error("auth_date is not a Unix time")]
    AuthDateInvalid,
    #[error("initData was signed at {auth_date}, longer ago than {max_age_secs} s allows")]
    Expired {
        auth_date: DateTime<Utc>,
        max_age_secs: i64,
    },
    #[error("auth_date {0} is in the future")]
    FromTheFuture(DateTime<Utc>),
    #[error("the signature does not match (wrong bot token or key, or tampered data)")]
    SignatureInvalid,
    #[error("the public key is not 32 bytes of hex")]
    BadPublicKey,
    #[error("the {0} field is not valid: {1}")]
    BadField(&'static str, String),
}

/// The Telegram user a Mini App was opened by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelegramUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub photo_url: Option<String>,
    pub is_premium: bool,
}

impl TelegramUser {
    /// The person as the use cases know them.
    pub fn profile(&self) -> domain::use_cases::identity::TelegramProfile {
        domain::use_cases::identity::TelegramProfile {
            id: self.id,
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            username: self.username.clone(),
            language_code: self.language_code.clone(),
            photo_url: self.photo_url.clone(),
        }
    }
}

/// The checked contents of an initData string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitData {
    pub auth_date: DateTime<Utc>,
    /// Absent when the Mini App was opened from an attachment menu without a user.
    pub user: Option<TelegramUser>,
    pub query_id: Option<String>,
    /// The `startapp` parameter of the link that opened the Mini App.
    pub start_param: Option<String>,
    pub chat_type: Option<String>,
    pub chat_instance: Option<String>,
    /// Every field as received (decoded), for anything not modelled above.
    pub fields: BTreeMap<String, String>,
}

/// Checks `raw` with the bot token (the check a bot's own backend does).
pub fn validate(
    raw: &str,
    bot_token: &str,
    now: DateTime<Utc>,
    max_age: Option<Duration>,
) -> Result<InitData, InitDataError> {
    let fields = parse(raw)?;
    let hash = fields.get("hash").ok_or(InitDataError::Missing("hash"))?;
    let auth_date = auth_date(&fields)?;
    let expected = hex::decode(hash).map_err(|_| InitDataError::SignatureInvalid)?;
    let secret = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, b"WebAppData"),
        bot_token.as_bytes(),
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_ref());
    hmac::verify(
        &key,
        data_check_string(&fields, &["hash"]).as_bytes(),
        &expected,
    )
    .map_err(|_| InitDataError::SignatureInvalid)?;
    fresh(auth_date, now, max_age)?;
    contents(fields, auth_date)
}

/// Checks `raw`'s Ed25519 `signature` for `bot_id` with `public_key_hex` (one of
/// Telegram's published keys, or another for tests), without the bot token.
pub fn validate_third_party(
    raw: &str,
    bot_id: i64,
    public_key_hex: &str,
    now: DateTime<Utc>,
    max_age: Option<Duration>,
) -> Result<InitData, InitDataError> {
    let key = hex::decode(public_key_hex).map_err(|_| InitDataError::BadPublicKey)?;
    if key.len() != 32 {
        return Err(InitDataError::BadPublicKey);
    }
    let fields = parse(raw)?;
    let signature_text = fields
        .get("signature")
        .ok_or(InitDataError::Missing("signature"))?;
    let auth_date = auth_date(&fields)?;
    let signature_bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature_text.trim_end_matches('='))
        .map_err(|_| InitDataError::SignatureInvalid)?;
    let message = format!(
        "{bot_id}:WebAppData\n{}",
        data_check_string(&fields, &["hash", "signature"])
    );
    signature::UnparsedPublicKey::new(&signature::ED25519, &key)
        .verify(message.as_bytes(), &signature_bytes)
        .map_err(|_| InitDataError::SignatureInvalid)?;
    fresh(auth_date, now, max_age)?;
    contents(fields, auth_date)
}

/// Splits a query string strictly: `key=value` pairs joined by `&`, `+` for spaces
/// and `%XX` escapes, UTF-8, no empty or repeated keys, no `;` separators.
fn parse(raw: &str) -> Result<BTreeMap<String, String>, InitDataError> {
    if raw.trim().is_empty() {
        return Err(InitDataError::Empty);
    }
    if raw.contains(';') {
        return Err(InitDataError::Malformed(
            "';' is not a separator".to_owned(),
        ));
    }
    let mut fields = BTreeMap::new();
    for pair in raw.split('&') {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(InitDataError::Malformed(format!("{pair:?} has no '='")));
        };
        let key = decode(key)?;
        if key.is_empty() {
            return Err(InitDataError::Malformed("an empty key".to_owned()));
        }
        let value = decode(value)?;
        if fields.insert(key.clone(), value).is_some() {
            return Err(InitDataError::Malformed(format!("{key} appears twice")));
        }
    }
    Ok(fields)
}

fn decode(text: &str) -> Result<String, InitDataError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex_digits = bytes
                    .get(index + 1..index + 3)
                    .and_then(|pair| std::str::from_utf8(pair).ok())
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(|| InitDataError::Malformed("a bad %-escape".to_owned()))?;
                out.push(hex_digits);
                index += 2;
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8(out).map_err(|_| InitDataError::Malformed("not UTF-8".to_owned()))
}

fn data_check_string(fields: &BTreeMap<String, String>, leave_out: &[&str]) -> String {
    fields
        .iter()
        .filter(|(key, _)| !leave_out.contains(&key.as_str()))
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn auth_date(fields: &BTreeMap<String, String>) -> Result<DateTime<Utc>, InitDataError> {
    let text = fields
        .get("auth_date")
        .ok_or(InitDataError::Missing("auth_date"))?;
    let seconds: i64 = text.parse().map_err(|_| InitDataError::AuthDateInvalid)?;
    DateTime::from_timestamp(seconds, 0).ok_or(InitDataError::AuthDateInvalid)
}

fn fresh(
    auth_date: DateTime<Utc>,
    now: DateTime<Utc>,
    max_age: Option<Duration>,
) -> Result<(), InitDataError> {
    let Some(max_age) = max_age else {
        return Ok(());
    };
    if auth_date > now + MAX_CLOCK_SKEW {
        return Err(InitDataError::FromTheFuture(auth_date));
    }
    if now - auth_date > max_age {
        return Err(InitDataError::Expired {
            auth_date,
            max_age_secs: max_age.num_seconds(),
        });
    }
    Ok(())
}

fn contents(
    fields: BTreeMap<String, String>,
    auth_date: DateTime<Utc>,
) -> Result<InitData, InitDataError> {
    let user = fields.get("user").map(|text| user(text)).transpose()?;
    let text = |key: &str| fields.get(key).cloned();
    Ok(InitData {
        auth_date,
        user,
        query_id: text("query_id"),
        start_param: text("start_param"),
        chat_type: text("chat_type"),
        chat_instance: text("chat_instance"),
        fields,
    })
}

/// The `user` JSON. Telegram sends numbers and booleans; some clients (and test
/// suites) send them as strings, which are accepted when they read as such.
fn user(text: &str) -> Result<TelegramUser, InitDataError> {
    let bad = |why: &str| InitDataError::BadField("user", why.to_owned());
    let value: Value = serde_json::from_str(text).map_err(|error| bad(&error.to_string()))?;
    let string = |key: &str| match value.get(key) {
        Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
        _ => None,
    };
    let id = match value.get("id") {
        Some(Value::Number(number)) => number.as_i64(),
        Some(Value::String(text)) => text.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| bad("id is missing or not a whole number"))?;
    let first_name = string("first_name").ok_or_else(|| bad("first_name is missing"))?;
    let is_premium = match value.get("is_premium") {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(text)) => text == "true",
        _ => false,
    };
    Ok(TelegramUser {
        id,
        first_name,
        last_name: string("last_name"),
        username: string("username"),
        language_code: string("language_code"),
        photo_url: string("photo_url"),
        is_premium,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Signs `fields` as Telegram would for `bot_token`.
    pub(crate) fn signed(fields: &[(&str, &str)], bot_token: &str) -> String {
        let map: BTreeMap<String, String> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let secret = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, b"WebAppData"),
            bot_token.as_bytes(),
        );
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_ref());
        let hash = hex::encode(hmac::sign(&key, data_check_string(&map, &[]).as_bytes()));
        let mut query: Vec<String> = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                )
            })
            .collect();
        query.push(format!("hash={hash}"));
        query.join("&")
    }

    #[test]
    fn a_fresh_signed_init_data_gives_its_user_and_start_param() {
        let now = Utc::now();
        let auth = now.timestamp().to_string();
        let raw = signed(
            &[
                ("auth_date", &auth),
                ("query_id", "AAH"),
                ("start_param", "ref_ABC+1"),
                (
                    "user",
                    r#"{"id":7387289974,"first_name":"Артём","last_name":"","username":"typexin","language_code":"ru","photo_url":"https:\/\/t.me\/i\/userpic\/320\/x.svg"}"#,
                ),
            ],
            "123:ABC",
        );
        let data = validate(&raw, "123:ABC", now, Some(Duration::hours(24))).expect("valid");
        let user = data.user.expect("a user");
        assert_eq!(user.id, 7_387_289_974);
        assert_eq!(user.first_name, "Артём");
        assert_eq!(user.last_name, None, "an empty last name is no last name");
        assert_eq!(
            user.photo_url.as_deref(),
            Some("https://t.me/i/userpic/320/x.svg")
        );
        assert_eq!(data.start_param.as_deref(), Some("ref_ABC+1"));
    }

    #[test]
    fn stale_future_and_tampered_data_are_refused() {
        let now = Utc::now();
        let old = (now - Duration::hours(25)).timestamp().to_string();
        let raw = signed(
            &[
                ("auth_date", &old),
                ("user", r#"{"id":1,"first_name":"A"}"#),
            ],
            "1:T",
        );
        assert!(matches!(
            validate(&raw, "1:T", now, Some(Duration::hours(24))),
            Err(InitDataError::Expired { .. })
        ));
        assert!(
            validate(&raw, "1:T", now, None).is_ok(),
            "no age check asked"
        );
        let future = (now + Duration::hours(1)).timestamp().to_string();
        let raw = signed(&[("auth_date", &future)], "1:T");
        assert!(matches!(
            validate(&raw, "1:T", now, Some(Duration::hours(24))),
            Err(InitDataError::FromTheFuture(_))
        ));
        let raw = signed(
            &[
                ("auth_date", &now.timestamp().to_string()),
                ("user", r#"{"id":1,"first_name":"A"}"#),
            ],
            "1:T",
        );
        let tampered = raw.replace("%22A%22", "%22B%22");
        assert_ne!(raw, tampered);
        assert_eq!(
            validate(&tampered, "1:T", now, None),
            Err(InitDataError::SignatureInvalid)
        );
        assert_eq!(
            validate(&raw, "1:WRONG", now, None),
            Err(InitDataError::SignatureInvalid)
        );
    }
}
