//! initData parsing under random and mutated input: whatever arrives, both checks
//! answer a typed [`InitDataError`] (never a panic), and a signed string changed in
//! any one byte is refused.

use chrono::{Duration, Utc};
use proptest::prelude::*;

use super::init_data::tests::signed;
use super::init_data::{InitDataError, TELEGRAM_TEST_KEY, validate, validate_third_party};

const TOKEN: &str = "123456:proptest-bot-token";

fn signed_now(user: &str, start_param: &str) -> String {
    let auth = Utc::now().timestamp().to_string();
    signed(
        &[
            ("auth_date", &auth),
            ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
            ("user", user),
            ("start_param", start_param),
        ],
        TOKEN,
    )
}

/// Text that looks like a query string often enough to reach the deeper checks.
fn query_like() -> impl Strategy<Value = String> {
    let field = prop_oneof![
        Just("auth_date".to_owned()),
        Just("hash".to_owned()),
        Just("user".to_owned()),
        Just("signature".to_owned()),
        Just("query_id".to_owned()),
        "[a-z_%]{0,8}",
    ];
    let value = prop_oneof![
        "[0-9]{0,12}",
        "[0-9a-f]{64}",
        "%7B%22id%22%3A[0-9-]{1,20}%2C%22first_name%22%3A%22[^%&]{0,5}%22%7D",
        "\\PC{0,16}",
        "%[0-9A-Fa-f]{0,2}",
    ];
    prop::collection::vec((field, value), 0..6).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn any_text_gets_an_answer_never_a_panic(raw in prop_oneof!["\\PC{0,200}", query_like()]) {
        let now = Utc::now();
        let _ = validate(&raw, TOKEN, now, Some(Duration::hours(1)));
        let _ = validate(&raw, TOKEN, now, None);
        let _ = validate_third_party(&raw, 123456, TELEGRAM_TEST_KEY, now, None);
    }

    #[test]
    fn any_bytes_as_text_get_an_answer(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let raw = String::from_utf8_lossy(&bytes);
        let _ = validate(&raw, TOKEN, Utc::now(), None);
        let _ = validate_third_party(&raw, 123456, TELEGRAM_TEST_KEY, Utc::now(), None);
    }

    #[test]
    fn a_signed_string_changed_in_one_byte_is_refused(
        id in 1_i64..10_000_000_000,
        name in "\\PC{1,20}",
        start_param in "[A-Za-z0-9_-]{0,20}",
        at in any::<prop::sample::Index>(),
        replacement in any::<u8>(),
    ) {
        let user = serde_json::json!({"id": id, "first_name": name}).to_string();
        let raw = signed_now(&user, &start_param);
        let accepted = validate(&raw, TOKEN, Utc::now(), Some(Duration::hours(1)));
        prop_assert!(accepted.is_ok(), "the untouched string is accepted: {accepted:?}");
        let mut bytes = raw.into_bytes();
        let position = at.index(bytes.len());
        prop_assume!(bytes[position] != replacement);
        bytes[position] = replacement;
        let changed = String::from_utf8_lossy(&bytes).into_owned();
        let answer = validate(&changed, TOKEN, Utc::now(), Some(Duration::hours(1)));
        // A change that decodes to the same fields (a letter's case in a %-escape, a
        // `+` for a space's `%20`) still carries the same signed content.
        // Everything but the hash's own spelling (hex in either case) is the same.
        if let (Ok(data), Ok(original)) = (&answer, &accepted) {
            let (mut data, mut original) = (data.clone(), original.clone());
            data.fields.remove("hash");
            original.fields.remove("hash");
            prop_assert_eq!(data, original);
        } else {
            prop_assert!(!matches!(answer, Err(InitDataError::Empty)));
        }
    }

    #[test]
    fn a_string_signed_with_another_token_is_refused(other in "[0-9]{1,10}:[A-Za-z0-9_-]{10,40}") {
        prop_assume!(other != TOKEN);
        let raw = signed_now(r#"{"id":42,"first_name":"Ann"}"#, "x");
        prop_assert_eq!(
            validate(&raw, &other, Utc::now(), None).map(|_| ()),
            Err(InitDataError::SignatureInvalid)
        );
    }
}
