use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono::{DateTime, Utc};
use domain::money::Money;
use serde::Serialize;
use serde_json::{Value, json};

use super::*;
use crate::yookassa::amount::Amount;

fn rub(text: &str) -> Amount {
    Amount::rub(text.parse::<Money>().expect("valid money"))
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a time")
        .with_timezone(&Utc)
}

/// The reference samples (`../shared/reference/yookassa/*.json`), kept as fixtures in
/// `tests/fixtures/yookassa/` so the tests stand alone;
/// `the_copies_match_the_reference_folder` checks them against the folder when it is
/// present.
macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../../../tests/fixtures/yookassa/", $name)),
        )
    };
}

const FIXTURES: &[(&str, &str)] = &[
    fixture!("create_payment_response_pending__yookassa-docs.json"),
    fixture!("error_idempotence_key_duplicated__aleh-z.json"),
    fixture!("notification_payment.succeeded__arhitov.json"),
    fixture!("notification_payment.waiting_for_capture__hiqdev.json"),
    fixture!("notification_payment.waiting_for_capture__yookassa-sdk-python.json"),
    fixture!("notification_refund.succeeded__yookassa-sdk-python_QUIRKY.json"),
    fixture!("payment_object_canceled__aleh-z.json"),
    fixture!("payment_object_pending__arhitov.json"),
    fixture!("payment_object_succeeded__arhitov.json"),
    fixture!("payment_object_succeeded__hiqdev.json"),
    fixture!("payment_object_waiting_for_capture__hiqdev.json"),
    fixture!("refund_object_succeeded__aleh-z.json"),
];

/// The fixture named `name`.
fn sample(name: &str) -> &'static str {
    FIXTURES
        .iter()
        .find(|(fixture, _)| *fixture == name)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

/// Reads a sample by the kind its file name says, and checks that what we write reads
/// back to the same thing.
fn parse_by_name(name: &str, text: &str) {
    fn round_trip<T>(name: &str, text: &str) -> T
    where
        T: serde::de::DeserializeOwned + Serialize + PartialEq + fmt::Debug,
    {
        let parsed: T = serde_json::from_str(text)
            .unwrap_or_else(|error| panic!("{name} does not parse: {error}"));
        let written = serde_json::to_string(&parsed).expect("serializes");
        let again: T = serde_json::from_str(&written).expect("reads back");
        assert_eq!(again, parsed, "{name} does not survive a round trip");
        parsed
    }
    if name.starts_with("notification_") {
        let notification: Notification = round_trip(name, text);
        assert_eq!(notification.kind, "notification", "{name}");
        if notification.is_payment() {
            notification
                .payment()
                .unwrap_or_else(|error| panic!("{name}: object is not a payment: {error}"));
        } else {
            assert!(notification.is_refund(), "{name}");
            notification
                .refund()
                .unwrap_or_else(|error| panic!("{name}: object is not a refund: {error}"));
        }
    } else if name.starts_with("payment_object_") || name.starts_with("create_payment_") {
        round_trip::<PaymentObject>(name, text);
    } else if name.starts_with("refund_object_") {
        round_trip::<RefundObject>(name, text);
    } else if name.starts_with("error_") {
        round_trip::<ErrorBody>(name, text);
    } else {
        panic!("{name}: no type for this sample");
    }
}

#[test]
fn every_reference_sample_parses_into_its_type() {
    for (name, text) in FIXTURES {
        parse_by_name(name, text);
    }
}

/// The inline copies are the reference folder's files (as JSON), and every object
/// sample of the folder has a copy. Skipped where the folder is absent.
#[test]
fn the_copies_match_the_reference_folder() {
    let folder = std::env::var_os("YOOKASSA_REFERENCE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new("/work/shared/reference/yookassa").to_path_buf());
    let Ok(entries) = std::fs::read_dir(&folder) else {
        eprintln!("{} is absent; comparing nothing", folder.display());
        return;
    };
    let mut seen = 0;
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .expect("a file name")
            .to_owned();
        if !name.ends_with(".json")
            || name == "amount_format_vectors.json"
            || name == "ip_allowlist.json"
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable");
        parse_by_name(&name, &text);
        let copy = FIXTURES
            .iter()
            .find(|(fixture, _)| *fixture == name)
            .unwrap_or_else(|| panic!("{name} has no copy in FIXTURES"));
        let file: Value = serde_json::from_str(&text).expect("json");
        let copy: Value = serde_json::from_str(copy.1).expect("json");
        assert_eq!(file, copy, "{name} differs from its copy");
        seen += 1;
    }
    assert_eq!(seen, FIXTURES.len(), "a sample is missing from the folder");
}

#[test]
fn the_documented_create_response_reads_field_by_field() {
    let payment: PaymentObject = serde_json::from_str(sample(
        "create_payment_response_pending__yookassa-docs.json",
    ))
    .expect("parses");
    assert_eq!(payment.id, "23d93cac-000f-5000-8000-126628f15141");
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert!(!payment.paid);
    assert_eq!(payment.amount, rub("100.00"));
    let confirmation = payment.confirmation.expect("a confirmation");
    assert_eq!(confirmation.kind, "redirect");
    assert_eq!(
        confirmation.confirmation_url.as_deref(),
        Some(
            "https://yoomoney.ru/api-pages/v2/payment-confirm/epl?orderId=23d93cac-000f-5000-8000-126628f15141"
        )
    );
    assert_eq!(confirmation.return_url, None);
    assert_eq!(payment.created_at, time("2019-01-22T14:30:45.129Z"));
    assert_eq!(payment.description.as_deref(), Some("Заказ №1"));
    assert!(payment.metadata.is_empty());
    assert!(!payment.refundable);
    assert!(!payment.test);
    assert_eq!(payment.captured_at, None);
    assert_eq!(payment.income_amount, None);
}

#[test]
fn payment_objects_read_their_statuses_amounts_and_metadata() {
    let succeeded: PaymentObject =
        serde_json::from_str(sample("payment_object_succeeded__arhitov.json")).expect("parses");
    assert_eq!(succeeded.status, PaymentStatus::Succeeded);
    assert!(succeeded.paid && succeeded.refundable && !succeeded.test);
    assert_eq!(succeeded.refunded_amount, Some(rub("0.00")));
    assert_eq!(
        succeeded.captured_at,
        Some(time("2018-07-18T11:17:33.483Z"))
    );
    assert_eq!(
        succeeded.metadata_str("transactionId"),
        Some("5ce3cdb0d1436")
    );

    // No `refundable`, `test` or `paid`-less fields: the defaults apply.
    let hiqdev: PaymentObject =
        serde_json::from_str(sample("payment_object_succeeded__hiqdev.json")).expect("parses");
    assert_eq!(hiqdev.amount, rub("187.50"));
    assert!(!hiqdev.refundable && !hiqdev.test);

    let waiting: PaymentObject =
        serde_json::from_str(sample("payment_object_waiting_for_capture__hiqdev.json"))
            .expect("parses");
    assert_eq!(waiting.status, PaymentStatus::WaitingForCapture);
    assert!(!waiting.status.is_final());

    let pending: PaymentObject =
        serde_json::from_str(sample("payment_object_pending__arhitov.json")).expect("parses");
    assert_eq!(pending.status, PaymentStatus::Pending);
    assert!(pending.test);
    assert_eq!(
        pending
            .confirmation
            .as_ref()
            .and_then(|c| c.return_url.as_deref()),
        Some("https://www.example.com/return_url")
    );

    // Cancelled without `cancellation_details`.
    let canceled: PaymentObject =
        serde_json::from_str(sample("payment_object_canceled__aleh-z.json")).expect("parses");
    assert_eq!(canceled.status, PaymentStatus::Canceled);
    assert!(canceled.status.is_final());
    assert_eq!(canceled.cancellation_details, None);
    assert!(!canceled.refundable);
}

#[test]
fn cancellation_details_are_read_when_present() {
    let mut object: Value =
        serde_json::from_str(sample("payment_object_canceled__aleh-z.json")).expect("json");
    object["cancellation_details"] =
        json!({"party": "yoo_money", "reason": "expired_on_confirmation"});
    let notification: Notification = serde_json::from_value(json!({
        "type": "notification",
        "event": "payment.canceled",
        "object": object,
    }))
    .expect("parses");
    let payment = notification.payment().expect("a payment");
    assert_eq!(
        payment.cancellation_details,
        Some(CancellationDetails {
            party: "yoo_money".to_owned(),
            reason: "expired_on_confirmation".to_owned(),
        })
    );
}

#[test]
fn payment_notifications_carry_payment_objects() {
    let notification: Notification =
        serde_json::from_str(sample("notification_payment.succeeded__arhitov.json"))
            .expect("parses");
    assert_eq!(notification.event, "payment.succeeded");
    assert_eq!(notification.object_kind(), "payment");
    assert_eq!(
        notification.object_id(),
        Some("2db9930f-000f-5000-9000-18ab22edea46")
    );
    let payment = notification.payment().expect("a payment");
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    assert_eq!(payment.amount, rub("123.00"));
    assert_eq!(payment.income_amount, Some(rub("118.69")));
    assert!(payment.test && payment.paid && payment.refundable);
    assert!(notification.refund().is_err(), "a payment is no refund");

    for text in [
        sample("notification_payment.waiting_for_capture__hiqdev.json"),
        sample("notification_payment.waiting_for_capture__yookassa-sdk-python.json"),
    ] {
        let notification: Notification = serde_json::from_str(text).expect("parses");
        assert_eq!(notification.event, "payment.waiting_for_capture");
        let payment = notification.payment().expect("a payment");
        assert_eq!(payment.status, PaymentStatus::WaitingForCapture);
        assert!(payment.paid);
    }
}

#[test]
fn the_quirky_sdk_refund_notification_parses() {
    let notification: Notification = serde_json::from_str(sample(
        "notification_refund.succeeded__yookassa-sdk-python_QUIRKY.json",
    ))
    .expect("parses");
    assert_eq!(notification.event, "refund.succeeded");
    assert!(notification.is_refund());
    let refund = notification.refund().expect("a refund");
    assert_eq!(refund.id, "21b23b5b-000f-5061-a000-0674e49a8c10");
    assert_eq!(refund.payment_id, "21b23365-000f-500b-9000-070fa3554403");
    // A JSON number, and a status that disagrees with the event: read as written.
    assert_eq!(refund.amount, rub("250.00"));
    assert_eq!(refund.amount.value.to_string(), "250.00");
    assert_eq!(refund.status, RefundStatus::Pending);
    assert_eq!(refund.created_at, time("2017-11-30T15:11:33Z"));
    assert_eq!(refund.description, None);
}

#[test]
fn the_old_refund_example_with_value_one_reads_as_one_rouble() {
    let refund: RefundObject =
        serde_json::from_str(sample("refund_object_succeeded__aleh-z.json")).expect("parses");
    assert_eq!(refund.status, RefundStatus::Succeeded);
    assert!(refund.status.is_final());
    assert_eq!(refund.amount.value.to_string(), "1.00");
    assert_eq!(refund.payment_id, "216749da-000f-50be-b000-096747fad91e");
    assert_eq!(
        serde_json::to_value(&refund).expect("json")["amount"],
        json!({"value": "1.00", "currency": "RUB"})
    );
}

#[test]
fn the_error_body_reads_code_description_and_parameter() {
    let error: ErrorBody =
        serde_json::from_str(sample("error_idempotence_key_duplicated__aleh-z.json"))
            .expect("parses");
    assert_eq!(
        error,
        ErrorBody {
            kind: "error".to_owned(),
            id: Some("ab5a11cd-13cc-4e33-af8b-75a74e18dd09".to_owned()),
            code: "invalid_request".to_owned(),
            description: Some("Idempotence key duplicated".to_owned()),
            parameter: Some("Idempotence-Key".to_owned()),
        }
    );
    let bare: ErrorBody =
        serde_json::from_str(r#"{"code": "internal_server_error"}"#).expect("parses");
    assert_eq!(bare.kind, "error");
    assert_eq!(bare.description, None);
}

#[test]
fn statuses_are_written_in_snake_case() {
    for (status, text) in [
        (PaymentStatus::Pending, "pending"),
        (PaymentStatus::WaitingForCapture, "waiting_for_capture"),
        (PaymentStatus::Succeeded, "succeeded"),
        (PaymentStatus::Canceled, "canceled"),
    ] {
        assert_eq!(serde_json::to_value(status).expect("json"), json!(text));
        assert_eq!(status.to_string(), text);
    }
    for (status, text) in [
        (RefundStatus::Pending, "pending"),
        (RefundStatus::Succeeded, "succeeded"),
        (RefundStatus::Canceled, "canceled"),
    ] {
        assert_eq!(serde_json::to_value(status).expect("json"), json!(text));
        assert_eq!(status.to_string(), text);
    }
    assert!(serde_json::from_value::<PaymentStatus>(json!("paid")).is_err());
}

fn new_payment() -> NewPayment {
    NewPayment {
        amount: rub("100.00"),
        capture: true,
        confirmation: ConfirmationRequest::redirect("https://www.example.com/return_url"),
        description: "Заказ №1".to_owned(),
        metadata: BTreeMap::from([("order_id".to_owned(), "37".to_owned())]),
        receipt: None,
    }
}

/// The request of YooKassa's quick start
/// (<https://yookassa.ru/developers/payment-acceptance/getting-started/quick-start>).
#[test]
fn a_new_payment_is_written_as_yookassa_documents_it() {
    assert_eq!(
        serde_json::to_value(new_payment()).expect("json"),
        json!({
            "amount": {"value": "100.00", "currency": "RUB"},
            "capture": true,
            "confirmation": {
                "type": "redirect",
                "return_url": "https://www.example.com/return_url"
            },
            "description": "Заказ №1",
            "metadata": {"order_id": "37"}
        })
    );
    // Amounts are strings with two places, never numbers.
    let text = serde_json::to_string(&NewPayment {
        amount: rub("0.1"),
        ..new_payment()
    })
    .expect("json");
    assert!(
        text.contains(r#""amount":{"value":"0.10","currency":"RUB"}"#),
        "{text}"
    );
}

#[test]
fn a_new_payment_with_a_receipt_writes_the_receipt() {
    let payment = NewPayment {
        receipt: Some(Receipt {
            customer: ReceiptCustomer {
                email: Some("buyer@example.com".to_owned()),
                phone: None,
            },
            items: vec![ReceiptItem {
                description: "Консультация".to_owned(),
                quantity: "1.00".to_owned(),
                amount: rub("100.00"),
                vat_code: 1,
                payment_mode: "full_payment".to_owned(),
                payment_subject: "service".to_owned(),
            }],
        }),
        ..new_payment()
    };
    let value = serde_json::to_value(&payment).expect("json");
    assert_eq!(
        value["receipt"],
        json!({
            "customer": {"email": "buyer@example.com"},
            "items": [{
                "description": "Консультация",
                "quantity": "1.00",
                "amount": {"value": "100.00", "currency": "RUB"},
                "vat_code": 1,
                "payment_mode": "full_payment",
                "payment_subject": "service"
            }]
        })
    );
    // The sandbox reads back what the client writes.
    let again: NewPayment = serde_json::from_value(value).expect("reads back");
    assert_eq!(again, payment);
}

#[test]
fn a_new_refund_is_written_as_yookassa_documents_it() {
    let refund = NewRefund {
        payment_id: "215d8da0-000f-50be-b000-0003308c89be".to_owned(),
        amount: rub("2.00"),
        description: None,
    };
    assert_eq!(
        serde_json::to_value(&refund).expect("json"),
        json!({
            "payment_id": "215d8da0-000f-50be-b000-0003308c89be",
            "amount": {"value": "2.00", "currency": "RUB"}
        })
    );
    let described = NewRefund {
        description: Some("Отмена заказа".to_owned()),
        ..refund
    };
    let value = serde_json::to_value(&described).expect("json");
    assert_eq!(value["description"], json!("Отмена заказа"));
    assert_eq!(
        serde_json::from_value::<NewRefund>(value).expect("reads back"),
        described
    );
}

#[test]
fn written_payments_leave_absent_fields_out() {
    let payment: PaymentObject =
        serde_json::from_str(sample("payment_object_canceled__aleh-z.json")).expect("parses");
    let value = serde_json::to_value(&payment).expect("json");
    let object = value.as_object().expect("an object");
    for absent in [
        "income_amount",
        "refunded_amount",
        "confirmation",
        "captured_at",
        "cancellation_details",
    ] {
        assert!(!object.contains_key(absent), "{absent} was written");
    }
    assert_eq!(value["created_at"], json!("2018-07-18T10:51:18.139Z"));
    assert_eq!(value["status"], json!("canceled"));
    assert_eq!(value["amount"], json!({"value": "2.00", "currency": "RUB"}));
}
