//! YooKassa notification parsing under random and mutated input: whatever body
//! arrives, the answer is a notification or a 400/422 naming what is wrong — never a
//! panic, never another status. Mutations start from the real notifications in
//! the project's reference samples, as copied into `tests/fixtures/yookassa`.

use axum::http::StatusCode;
use proptest::prelude::*;
use serde_json::Value;

use super::webhook::parse_notification;

const SAMPLES: [&str; 4] = [
    include_str!("../../../tests/fixtures/yookassa/notification_payment.succeeded__arhitov.json"),
    include_str!(
        "../../../tests/fixtures/yookassa/notification_payment.waiting_for_capture__hiqdev.json"
    ),
    include_str!(
        "../../../tests/fixtures/yookassa/notification_payment.waiting_for_capture__yookassa-sdk-python.json"
    ),
    include_str!(
        "../../../tests/fixtures/yookassa/notification_refund.succeeded__yookassa-sdk-python_QUIRKY.json"
    ),
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        Just(Value::from("a\u{0}b")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,8}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Every object and array inside `value`, by the path of keys and indices to it.
fn paths(value: &Value, at: Vec<String>, found: &mut Vec<Vec<String>>) {
    found.push(at.clone());
    match value {
        Value::Object(map) => map.iter().for_each(|(key, child)| {
            let mut next = at.clone();
            next.push(key.clone());
            paths(child, next, found);
        }),
        Value::Array(items) => items.iter().enumerate().for_each(|(n, child)| {
            let mut next = at.clone();
            next.push(n.to_string());
            paths(child, next, found);
        }),
        _ => {}
    }
}

fn at_path<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(value, |value, key| match value {
        Value::Object(map) => map.get_mut(key).expect("a path found above"),
        Value::Array(items) => &mut items[key.parse::<usize>().expect("an index")],
        _ => unreachable!("paths only go through objects and arrays"),
    })
}

fn answered(body: &[u8]) -> Result<(), TestCaseError> {
    match parse_notification(body) {
        Ok(notification) => {
            // What the handler reads of it.
            let _ = (
                notification.object_id(),
                notification.is_payment(),
                notification.is_refund(),
            );
            let _ = (notification.payment(), notification.refund());
        }
        Err(error) => prop_assert!(
            error.status == StatusCode::BAD_REQUEST
                || error.status == StatusCode::UNPROCESSABLE_ENTITY,
            "a bad body is a 400 or a 422, not {}",
            error.status
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_are_answered(body in prop::collection::vec(any::<u8>(), 0..400)) {
        answered(&body)?;
    }

    #[test]
    fn any_json_is_answered(value in json_value()) {
        answered(value.to_string().as_bytes())?;
    }

    #[test]
    fn a_real_notification_with_one_part_replaced_is_answered(
        sample in 0..SAMPLES.len(),
        which in any::<prop::sample::Index>(),
        replacement in json_value(),
        drop_it in any::<bool>(),
    ) {
        let mut value: Value = serde_json::from_str(SAMPLES[sample]).expect("the samples are JSON");
        let mut found = Vec::new();
        paths(&value, Vec::new(), &mut found);
        let path = which.get(&found).clone();
        match path.split_last() {
            Some((last, parent)) if drop_it => match at_path(&mut value, parent) {
                Value::Object(map) => { map.remove(last); }
                Value::Array(items) => { items.remove(last.parse::<usize>().expect("an index")); }
                _ => {}
            },
            _ => *at_path(&mut value, &path) = replacement,
        }
        answered(value.to_string().as_bytes())?;
    }

    #[test]
    fn a_real_notification_cut_or_changed_in_one_byte_is_answered(
        sample in 0..SAMPLES.len(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let mut body = SAMPLES[sample].as_bytes().to_vec();
        let position = at.index(body.len());
        if cut { body.truncate(position); } else { body[position] = byte; }
        answered(&body)?;
    }
}

#[test]
fn the_real_notifications_parse() {
    for sample in SAMPLES {
        let notification =
            parse_notification(sample.as_bytes()).expect("a real notification parses");
        assert!(notification.object_id().is_some());
    }
}
