//! Telegram's side of sign-in, for tests: initData signed as Telegram signs it.

use ring::hmac;

/// `fields` as a Mini App's initData query string, with the `hash` Telegram would
/// compute for `bot_token`.
pub fn signed_init_data(fields: &[(&str, &str)], bot_token: &str) -> String {
    let mut sorted: Vec<(&str, &str)> = fields.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let check = sorted
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("\n");
    let secret = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, b"WebAppData"),
        bot_token.as_bytes(),
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_ref());
    let hash = hex::encode(hmac::sign(&key, check.as_bytes()));
    let mut query: Vec<String> = fields
        .iter()
        .map(|(key, value)| {
            format!(
                "{key}={}",
                form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>()
            )
        })
        .collect();
    query.push(format!("hash={hash}"));
    query.join("&")
}

/// A user JSON as Telegram sends it.
pub fn user_json(id: i64, first_name: &str) -> String {
    serde_json::json!({
        "id": id,
        "first_name": first_name,
        "last_name": "Тестова",
        "username": format!("user{id}"),
        "language_code": "ru",
        "allows_write_to_pm": true,
        "photo_url": "https://t.me/i/userpic/320/x.svg"
    })
    .to_string()
}
