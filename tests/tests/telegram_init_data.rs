//! `api::telegram::init_data` against 36 initData vectors from five third-party test
//! suites (see `tests/fixtures/telegram/SOURCES.md`): real Mini App data with Cyrillic
//! names, `\/` escapes and `+` in values, both signature schemes, and malformed input.

use api::telegram::init_data::{
    InitDataError, TELEGRAM_PRODUCTION_KEY, TELEGRAM_TEST_KEY, validate, validate_third_party,
};
use chrono::{Duration, Utc};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let file: Value =
        serde_json::from_str(include_str!("../fixtures/telegram/initdata_vectors.json"))
            .expect("the vectors parse");
    file["vectors"].as_array().expect("a list").clone()
}

fn key_of(vector: &Value) -> String {
    match vector["public_key_env"].as_str() {
        Some("production") => TELEGRAM_PRODUCTION_KEY.to_owned(),
        Some("test") => TELEGRAM_TEST_KEY.to_owned(),
        _ => vector["public_key_hex"].as_str().expect("a key").to_owned(),
    }
}

#[test]
fn every_vector_is_judged_as_its_source_says() {
    let mut checked = 0;
    for vector in vectors() {
        let id = vector["id"].as_i64().expect("an id");
        let raw = vector["init_data"].as_str().expect("init_data");
        let expected = vector["expected_valid"].as_bool().expect("expected_valid");
        // The vectors are from 2022–2025: the age check is asked separately below.
        let outcome = match vector["scheme"].as_str() {
            Some("hmac_sha256_webappdata") => validate(
                raw,
                vector["bot_token"].as_str().expect("token"),
                Utc::now(),
                None,
            ),
            Some("ed25519_third_party") => validate_third_party(
                raw,
                vector["bot_id"].as_i64().expect("bot id"),
                &key_of(&vector),
                Utc::now(),
                None,
            ),
            other => panic!("vector {id}: unknown scheme {other:?}"),
        };
        assert_eq!(
            outcome.is_ok(),
            expected,
            "vector {id} ({}): {outcome:?}",
            vector["note"].as_str().unwrap_or_default()
        );
        checked += 1;
    }
    assert_eq!(checked, 36);
}

#[test]
fn real_data_parses_into_the_user_it_describes() {
    let vectors = vectors();
    let by_id = |id: i64| {
        vectors
            .iter()
            .find(|vector| vector["id"].as_i64() == Some(id))
            .expect("the vector")
    };
    let cyrillic = by_id(20);
    let data = validate(
        cyrillic["init_data"].as_str().expect("data"),
        cyrillic["bot_token"].as_str().expect("token"),
        Utc::now(),
        None,
    )
    .expect("valid");
    let user = data.user.expect("a user");
    assert_eq!(
        (user.id, user.first_name.as_str()),
        (7_387_289_974, "Артём")
    );
    assert_eq!(user.last_name.as_deref(), Some("Онуфрий"));

    let escaped = by_id(14);
    let data = validate(
        escaped["init_data"].as_str().expect("data"),
        escaped["bot_token"].as_str().expect("token"),
        Utc::now(),
        None,
    )
    .expect("valid");
    let user = data.user.expect("a user");
    assert_eq!(user.first_name, "Vladislav + - ? /", "JSON \\/ is a slash");
    assert!(
        user.photo_url
            .as_deref()
            .is_some_and(|url| url.starts_with("https://t.me/i/userpic/")),
        "JSON-escaped slashes are unescaped: {:?}",
        user.photo_url
    );

    let plus_for_space = by_id(2);
    let data = validate(
        plus_for_space["init_data"].as_str().expect("data"),
        plus_for_space["bot_token"].as_str().expect("token"),
        Utc::now(),
        None,
    )
    .expect("valid");
    let user = data.user.expect("a user");
    assert_eq!(user.id, 123_456_789);
    assert!(
        user.last_name
            .as_deref()
            .is_some_and(|name| name.starts_with("PlaceholderLastName "))
    );
}

#[test]
fn old_vectors_are_refused_once_an_age_limit_applies() {
    let vector = &vectors()[0];
    let outcome = validate(
        vector["init_data"].as_str().expect("data"),
        vector["bot_token"].as_str().expect("token"),
        Utc::now(),
        Some(Duration::hours(24)),
    );
    assert!(
        matches!(outcome, Err(InitDataError::Expired { .. })),
        "{outcome:?}"
    );
}
