//! YooKassa's objects as they travel over the wire: payments and refunds (API responses
//! and the `object` of notifications), the request bodies that create them, the
//! notification envelope and the error body.
//!
//! Readers ignore fields they do not know (YooKassa adds fields freely: `recipient`,
//! `payment_method`, `authorization_details`, ...). Every type serializes too, so a
//! sandbox can answer the way YooKassa does; optional fields that are absent are left out
//! rather than written as `null`, as YooKassa does.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::amount::Amount;

/// The state of a payment (<https://yookassa.ru/developers/payment-acceptance/getting-started/payment-process#lifecycle>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Created; waiting for the customer.
    Pending,
    /// Paid and authorized; waiting for capture or cancellation (two-stage payments).
    WaitingForCapture,
    /// Captured: the money is the shop's. Final.
    Succeeded,
    /// Cancelled or failed; see `cancellation_details`. Final.
    Canceled,
}

impl PaymentStatus {
    /// The status as YooKassa writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::WaitingForCapture => "waiting_for_capture",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Canceled => "canceled",
        }
    }

    /// Whether the payment can change no further.
    pub fn is_final(self) -> bool {
        matches!(self, PaymentStatus::Succeeded | PaymentStatus::Canceled)
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Canceled,
}

impl RefundStatus {
    /// The status as YooKassa writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Canceled => "canceled",
        }
    }

    /// Whether the refund can change no further.
    pub fn is_final(self) -> bool {
        matches!(self, RefundStatus::Succeeded | RefundStatus::Canceled)
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the customer confirms a payment, as YooKassa answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// `"redirect"` for the flows Ledgerbot uses.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where to send the customer to pay (redirect confirmations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// Who cancelled a payment or refund, and why
/// (<https://yookassa.ru/developers/payment-acceptance/after-the-payment/declined-payments>).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationDetails {
    /// `yoo_money`, `payment_network` or `merchant`.
    pub party: String,
    /// `expired_on_confirmation`, `insufficient_funds`, `canceled_by_merchant`, ...
    pub reason: String,
}

/// A payment, as `POST /payments`, `GET /payments/{id}` and notifications return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentObject {
    pub id: String,
    pub status: PaymentStatus,
    #[serde(default)]
    pub paid: bool,
    pub amount: Amount,
    /// What the shop receives after YooKassa's fee (only once paid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub income_amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_amount: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub metadata: serde_json::Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_details: Option<CancellationDetails>,
    #[serde(default)]
    pub refundable: bool,
    /// True for payments in a test shop.
    #[serde(default)]
    pub test: bool,
}

impl PaymentObject {
    /// A metadata value that is a string (what [`NewPayment::metadata`] sends).
    pub fn metadata_str(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }
}

/// A refund, as `POST /refunds`, `GET /refunds/{id}` and notifications return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundObject {
    pub id: String,
    pub payment_id: String,
    pub status: RefundStatus,
    pub amount: Amount,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation_details: Option<CancellationDetails>,
}

/// How the customer is to confirm a new payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmationRequest {
    /// `"redirect"`: YooKassa answers with a `confirmation_url` to send the customer to.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where YooKassa sends the customer back to afterwards.
    pub return_url: String,
}

impl ConfirmationRequest {
    /// A redirect confirmation that returns the customer to `return_url`.
    pub fn redirect(return_url: impl Into<String>) -> Self {
        Self {
            kind: "redirect".to_owned(),
            return_url: return_url.into(),
        }
    }
}

/// The buyer of a 54-FZ receipt: an email or a phone (at least one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptCustomer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// One line of a 54-FZ receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptItem {
    pub description: String,
    /// A decimal string, `"1.00"`.
    pub quantity: String,
    pub amount: Amount,
    /// 1: no VAT, ... (YooKassa's VAT codes 1 to 12).
    pub vat_code: u8,
    /// `"full_payment"`.
    pub payment_mode: String,
    /// `"service"` or `"commodity"`.
    pub payment_subject: String,
}

/// A 54-FZ receipt sent with a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub customer: ReceiptCustomer,
    pub items: Vec<ReceiptItem>,
}

/// The body of `POST /payments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPayment {
    pub amount: Amount,
    /// True: capture at once (one-stage payment); false: wait in `waiting_for_capture`.
    #[serde(default)]
    pub capture: bool,
    pub confirmation: ConfirmationRequest,
    /// Shown to the customer; YooKassa allows up to 128 characters.
    #[serde(default)]
    pub description: String,
    /// Returned on the payment and in its notifications.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

/// The body of `POST /refunds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRefund {
    pub payment_id: String,
    pub amount: Amount,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A notification (webhook) body: `{"type": "notification", "event": "payment.succeeded",
/// "object": {...}}`. The object is kept as JSON; read it with [`Notification::payment`]
/// or [`Notification::refund`] according to the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// `"notification"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `<object>.<status>`: `payment.succeeded`, `payment.waiting_for_capture`,
    /// `payment.canceled`, `refund.succeeded`, ...
    pub event: String,
    pub object: Value,
}

impl Notification {
    /// The kind of object the event is about: `"payment"` in `payment.succeeded`.
    pub fn object_kind(&self) -> &str {
        self.event
            .split_once('.')
            .map_or(self.event.as_str(), |(kind, _)| kind)
    }

    /// Whether the event is about a payment (`payment.*`).
    pub fn is_payment(&self) -> bool {
        self.object_kind() == "payment"
    }

    /// Whether the event is about a refund (`refund.*`).
    pub fn is_refund(&self) -> bool {
        self.object_kind() == "refund"
    }

    /// The object read as a payment.
    pub fn payment(&self) -> Result<PaymentObject, serde_json::Error> {
        PaymentObject::deserialize(&self.object)
    }

    /// The object read as a refund.
    pub fn refund(&self) -> Result<RefundObject, serde_json::Error> {
        RefundObject::deserialize(&self.object)
    }

    /// The `id` of the object, whatever its kind.
    pub fn object_id(&self) -> Option<&str> {
        self.object.get("id").and_then(Value::as_str)
    }
}

/// YooKassa's error body (4xx and 5xx):
/// `{"type": "error", "id": "...", "code": "invalid_request", "description": "...",
/// "parameter": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `"error"`.
    #[serde(rename = "type", default = "error_kind")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `invalid_request`, `invalid_credentials`, `forbidden`, `not_found`,
    /// `too_many_requests`, `internal_server_error`, ...
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The request parameter (or header) the error is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

fn error_kind() -> String {
    "error".to_owned()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use domain::money::Money;
    use serde_json::json;

    use super::*;

    fn rub(text: &str) -> Amount {
        Amount::rub(text.parse::<Money>().expect("valid money"))
    }

    fn time(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a time")
            .with_timezone(&Utc)
    }

    // Copies of the reference samples (/work/shared/reference/yookassa/*.json), kept here
    // so the tests stand alone; `the_copies_match_the_reference_folder` checks them
    // against the folder when it is present.

    const CREATE_PAYMENT_RESPONSE_PENDING_YOOKASSA_DOCS: &str = r#"{
  "id": "23d93cac-000f-5000-8000-126628f15141",
  "status": "pending",
  "paid": false,
  "amount": {
    "value": "100.00",
    "currency": "RUB"
  },
  "confirmation": {
    "type": "redirect",
    "confirmation_url": "https://yoomoney.ru/api-pages/v2/payment-confirm/epl?orderId=23d93cac-000f-5000-8000-126628f15141"
  },
  "created_at": "2019-01-22T14:30:45.129Z",
  "description": "Заказ №1",
  "metadata": {},
  "recipient": {
    "account_id": "100500",
    "gateway_id": "100700"
  },
  "refundable": false,
  "test": false
}"#;

    const ERROR_IDEMPOTENCE_KEY_DUPLICATED_ALEH_Z: &str = r#"{
  "type": "error",
  "id": "ab5a11cd-13cc-4e33-af8b-75a74e18dd09",
  "code": "invalid_request",
  "description": "Idempotence key duplicated",
  "parameter": "Idempotence-Key"
}"#;

    const NOTIFICATION_PAYMENT_SUCCEEDED_ARHITOV: &str = r#"{
  "type": "notification",
  "event": "payment.succeeded",
  "object": {
    "id": "2db9930f-000f-5000-9000-18ab22edea46",
    "status": "succeeded",
    "amount": {
      "value": "123.00",
      "currency": "RUB"
    },
    "income_amount": {
      "value": "118.69",
      "currency": "RUB"
    },
    "description": "Test payment",
    "recipient": {
      "account_id": "371134",
      "gateway_id": "2227041"
    },
    "payment_method": {
      "type": "bank_card",
      "id": "2db9930f-000f-5000-9000-18ab22edea46",
      "saved": false,
      "title": "Bank card *2987",
      "card": {
        "first6": "220247",
        "last4": "2987",
        "expiry_year": "2024",
        "expiry_month": "11",
        "card_type": "Mir"
      }
    },
    "captured_at": "2024-04-23T09:28:58.427Z",
    "created_at": "2024-04-23T09:28:47.242Z",
    "test": true,
    "refunded_amount": {
      "value": "0.00",
      "currency": "RUB"
    },
    "paid": true,
    "refundable": true,
    "metadata": {
      "transactionId": "9be004a2-0163-43b5-80b7-6173cc5e8743"
    },
    "authorization_details": {
      "rrn": "903375765931827",
      "auth_code": "497297",
      "three_d_secure": {
        "applied": false,
        "method_completed": false,
        "challenge_completed": false
      }
    }
  }
}"#;

    const NOTIFICATION_PAYMENT_WAITING_FOR_CAPTURE_HIQDEV: &str = r#"{
  "type": "notification",
  "event": "payment.waiting_for_capture",
  "object": {
    "id": "2475e163-000f-5000-9000-18030530d620",
    "status": "waiting_for_capture",
    "paid": true,
    "amount": {
      "value": "187.50",
      "currency": "RUB"
    },
    "authorization_details": {
      "rrn": "203768039024",
      "auth_code": "037229"
    },
    "created_at": "2019-05-21T10:09:54.154Z",
    "description": "domaincontext.com: deposit silverfire@hiqdev.com for 3.00USD",
    "expires_at": "2019-05-28T10:09:56.787Z",
    "metadata": {
      "transactionId": "5ce3cdb0d1436"
    },
    "payment_method": {
      "type": "bank_card",
      "id": "2475e163-000f-5000-9000-18030530d620",
      "saved": false,
      "card": {
        "first6": "555555",
        "last4": "4444",
        "expiry_month": "04",
        "expiry_year": "2024",
        "card_type": "MasterCard"
      },
      "title": "Bank card *4444"
    },
    "recipient": {
      "account_id": "54401",
      "gateway_id": "289250"
    }
  }
}"#;

    const NOTIFICATION_PAYMENT_WAITING_FOR_CAPTURE_YOOKASSA_SDK_PYTHON: &str = r#"{
  "type": "notification",
  "event": "payment.waiting_for_capture",
  "object": {
    "id": "22d6d597-000f-5000-9000-145f6df21d6f",
    "status": "waiting_for_capture",
    "paid": true,
    "amount": {
      "value": "2.00",
      "currency": "RUB"
    },
    "authorization_details": {
      "rrn": "10000000000",
      "auth_code": "000000",
      "three_d_secure": {
        "applied": true
      }
    },
    "created_at": "2018-07-10T14:27:54.691Z",
    "description": "Заказ №72",
    "expires_at": "2018-07-17T14:28:32.484Z",
    "metadata": {},
    "payment_method": {
      "type": "bank_card",
      "id": "22d6d597-000f-5000-9000-145f6df21d6f",
      "saved": false,
      "card": {
        "first6": "555555",
        "last4": "4444",
        "expiry_month": "07",
        "expiry_year": "2021",
        "card_type": "MasterCard",
        "issuer_country": "RU",
        "issuer_name": "Sberbank"
      },
      "title": "Bank card *4444"
    },
    "refundable": false,
    "test": false
  }
}"#;

    const NOTIFICATION_REFUND_SUCCEEDED_YOOKASSA_SDK_PYTHON_QUIRKY: &str = r#"{
  "type": "notification",
  "event": "refund.succeeded",
  "object": {
    "id": "21b23b5b-000f-5061-a000-0674e49a8c10",
    "payment_id": "21b23365-000f-500b-9000-070fa3554403",
    "created_at": "2017-11-30T15:11:33+00:00",
    "amount": {
      "value": 250.0,
      "currency": "RUB"
    },
    "receipt_registration": "pending",
    "comment": "test comment",
    "status": "pending"
  }
}"#;

    const PAYMENT_OBJECT_CANCELED_ALEH_Z: &str = r#"{
  "id": "22e12f66-000f-5000-8000-18db351245c7",
  "status": "canceled",
  "paid": false,
  "amount": {
    "value": "2.00",
    "currency": "RUB"
  },
  "created_at": "2018-07-18T10:51:18.139Z",
  "description": "Order No. 72",
  "metadata": {},
  "payment_method": {
    "type": "bank_card",
    "id": "22e12f66-000f-5000-8000-18db351245c7",
    "saved": false,
    "card": {
      "first6": "555555",
      "last4": "4444",
      "expiry_month": "07",
      "expiry_year": "2022",
      "card_type": "MasterCard"
    },
    "title": "Bank card *4444"
  },
  "test": false
}"#;

    const PAYMENT_OBJECT_PENDING_ARHITOV: &str = r#"{
  "id": "22e12f66-000f-5000-8000-18db351245c7",
  "status": "pending",
  "paid": false,
  "amount": {
    "value": "2.00",
    "currency": "RUB"
  },
  "confirmation": {
    "type": "redirect",
    "return_url": "https://www.example.com/return_url",
    "confirmation_url": "https://yoomoney.ru/checkout/payments/v2/contract?orderId=22e12f66-000f-5000-8000-18db351245c7"
  },
  "created_at": "2018-07-18T10:51:18.139Z",
  "description": "Заказ №72",
  "metadata" : {
    "transactionId" : "5ce3cdb0d1436"
  },
  "payment_method": {
    "type": "bank_card",
    "id": "22e12f66-000f-5000-8000-18db351245c7",
    "saved": false
  },
  "recipient": {
    "account_id": "100500",
    "gateway_id": "100700"
  },
  "refundable": false,
  "test": true
}"#;

    const PAYMENT_OBJECT_SUCCEEDED_ARHITOV: &str = r#"{
  "id": "22e12f66-000f-5000-8000-18db351245c7",
  "status": "succeeded",
  "paid": true,
  "amount": {
    "value": "2.00",
    "currency": "RUB"
  },
  "captured_at": "2018-07-18T11:17:33.483Z",
  "created_at": "2018-07-18T10:51:18.139Z",
  "description": "Заказ №72",
  "metadata" : {
    "transactionId" : "5ce3cdb0d1436"
  },
  "payment_method": {
    "type": "bank_card",
    "id": "22e12f66-000f-5000-8000-18db351245c7",
    "saved": false,
    "card": {
      "first6": "555555",
      "last4": "4444",
      "expiry_month": "07",
      "expiry_year": "2024",
      "card_type": "Mir",
      "card_product": {
        "code": "MCP",
        "name": "MIR Privilege"
      },
      "issuer_country": "RU",
      "issuer_name": "Sberbank"
    },
    "title": "Bank card *4444"
  },
  "recipient": {
    "account_id": "100500",
    "gateway_id": "100700"
  },
  "refundable": true,
  "refunded_amount": {
    "value": "0.00",
    "currency": "RUB"
  },
  "test": false
}"#;

    const PAYMENT_OBJECT_SUCCEEDED_HIQDEV: &str = r#"{
  "id" : "2475e163-000f-5000-9000-18030530d620",
  "status" : "succeeded",
  "paid" : true,
  "amount" : {
    "value" : "187.50",
    "currency" : "RUB"
  },
  "authorization_details" : {
    "rrn" : "203768039024",
    "auth_code" : "037229"
  },
  "captured_at" : "2019-05-21T10:21:46.325Z",
  "created_at" : "2019-05-21T10:09:54.154Z",
  "description" : "domaincontext.com: deposit silverfire@hiqdev.com for 3.00USD",
  "metadata" : {
    "transactionId" : "5ce3cdb0d1436"
  },
  "payment_method" : {
    "type" : "bank_card",
    "id" : "2475e163-000f-5000-9000-18030530d620",
    "saved" : false,
    "card" : {
      "first6" : "555555",
      "last4" : "4444",
      "expiry_month" : "04",
      "expiry_year" : "2024",
      "card_type" : "MasterCard"
    },
    "title" : "Bank card *4444"
  },
  "recipient" : {
    "account_id" : "54401",
    "gateway_id" : "289250"
  },
  "refunded_amount" : {
    "value" : "0.00",
    "currency" : "RUB"
  }
}"#;

    const PAYMENT_OBJECT_WAITING_FOR_CAPTURE_HIQDEV: &str = r#"{
  "id": "2475e163-000f-5000-9000-18030530d620",
  "status": "waiting_for_capture",
  "paid": true,
  "amount": {
    "value": "187.50",
    "currency": "RUB"
  },
  "authorization_details": {
    "rrn": "203768039024",
    "auth_code": "037229"
  },
  "created_at": "2019-05-21T10:09:54.154Z",
  "description": "domaincontext.com: deposit silverfire@hiqdev.com for 3.00USD",
  "expires_at": "2019-05-28T10:09:56.787Z",
  "metadata": {
    "transactionId": "5ce3cdb0d1436"
  },
  "payment_method": {
    "type": "bank_card",
    "id": "2475e163-000f-5000-9000-18030530d620",
    "saved": false,
    "card": {
      "first6": "555555",
      "last4": "4444",
      "expiry_month": "04",
      "expiry_year": "2024",
      "card_type": "MasterCard"
    },
    "title": "Bank card *4444"
  },
  "recipient": {
    "account_id": "54401",
    "gateway_id": "289250"
  }
}"#;

    const REFUND_OBJECT_SUCCEEDED_ALEH_Z: &str = r#"{
  "id": "216749f7-0016-50be-b000-078d43a63ae4",
  "status": "succeeded",
  "amount": {
    "value": "1",
    "currency": "RUB"
  },
  "created_at": "2017-10-04T19:27:51.407Z",
  "payment_id": "216749da-000f-50be-b000-096747fad91e"
}"#;

    /// Every JSON sample of the reference folder, by file name, except the two that are
    /// not objects (`amount_format_vectors.json`, tested in `amount.rs`, and
    /// `ip_allowlist.json`, tested in `allowlist.rs`).
    const FIXTURES: &[(&str, &str)] = &[
        (
            "create_payment_response_pending__yookassa-docs.json",
            CREATE_PAYMENT_RESPONSE_PENDING_YOOKASSA_DOCS,
        ),
        (
            "error_idempotence_key_duplicated__aleh-z.json",
            ERROR_IDEMPOTENCE_KEY_DUPLICATED_ALEH_Z,
        ),
        (
            "notification_payment.succeeded__arhitov.json",
            NOTIFICATION_PAYMENT_SUCCEEDED_ARHITOV,
        ),
        (
            "notification_payment.waiting_for_capture__hiqdev.json",
            NOTIFICATION_PAYMENT_WAITING_FOR_CAPTURE_HIQDEV,
        ),
        (
            "notification_payment.waiting_for_capture__yookassa-sdk-python.json",
            NOTIFICATION_PAYMENT_WAITING_FOR_CAPTURE_YOOKASSA_SDK_PYTHON,
        ),
        (
            "notification_refund.succeeded__yookassa-sdk-python_QUIRKY.json",
            NOTIFICATION_REFUND_SUCCEEDED_YOOKASSA_SDK_PYTHON_QUIRKY,
        ),
        (
            "payment_object_canceled__aleh-z.json",
            PAYMENT_OBJECT_CANCELED_ALEH_Z,
        ),
        (
            "payment_object_pending__arhitov.json",
            PAYMENT_OBJECT_PENDING_ARHITOV,
        ),
        (
            "payment_object_succeeded__arhitov.json",
            PAYMENT_OBJECT_SUCCEEDED_ARHITOV,
        ),
        (
            "payment_object_succeeded__hiqdev.json",
            PAYMENT_OBJECT_SUCCEEDED_HIQDEV,
        ),
        (
            "payment_object_waiting_for_capture__hiqdev.json",
            PAYMENT_OBJECT_WAITING_FOR_CAPTURE_HIQDEV,
        ),
        (
            "refund_object_succeeded__aleh-z.json",
            REFUND_OBJECT_SUCCEEDED_ALEH_Z,
        ),
    ];

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
        let payment: PaymentObject =
            serde_json::from_str(CREATE_PAYMENT_RESPONSE_PENDING_YOOKASSA_DOCS).expect("parses");
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
            serde_json::from_str(PAYMENT_OBJECT_SUCCEEDED_ARHITOV).expect("parses");
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
            serde_json::from_str(PAYMENT_OBJECT_SUCCEEDED_HIQDEV).expect("parses");
        assert_eq!(hiqdev.amount, rub("187.50"));
        assert!(!hiqdev.refundable && !hiqdev.test);

        let waiting: PaymentObject =
            serde_json::from_str(PAYMENT_OBJECT_WAITING_FOR_CAPTURE_HIQDEV).expect("parses");
        assert_eq!(waiting.status, PaymentStatus::WaitingForCapture);
        assert!(!waiting.status.is_final());

        let pending: PaymentObject =
            serde_json::from_str(PAYMENT_OBJECT_PENDING_ARHITOV).expect("parses");
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
            serde_json::from_str(PAYMENT_OBJECT_CANCELED_ALEH_Z).expect("parses");
        assert_eq!(canceled.status, PaymentStatus::Canceled);
        assert!(canceled.status.is_final());
        assert_eq!(canceled.cancellation_details, None);
        assert!(!canceled.refundable);
    }

    #[test]
    fn cancellation_details_are_read_when_present() {
        let mut object: Value = serde_json::from_str(PAYMENT_OBJECT_CANCELED_ALEH_Z).expect("json");
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
            serde_json::from_str(NOTIFICATION_PAYMENT_SUCCEEDED_ARHITOV).expect("parses");
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
            NOTIFICATION_PAYMENT_WAITING_FOR_CAPTURE_HIQDEV,
            NOTIFICATION_PAYMENT_WAITING_FOR_CAPTURE_YOOKASSA_SDK_PYTHON,
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
        let notification: Notification =
            serde_json::from_str(NOTIFICATION_REFUND_SUCCEEDED_YOOKASSA_SDK_PYTHON_QUIRKY)
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
            serde_json::from_str(REFUND_OBJECT_SUCCEEDED_ALEH_Z).expect("parses");
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
            serde_json::from_str(ERROR_IDEMPOTENCE_KEY_DUPLICATED_ALEH_Z).expect("parses");
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
            serde_json::from_str(PAYMENT_OBJECT_CANCELED_ALEH_Z).expect("parses");
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
}
