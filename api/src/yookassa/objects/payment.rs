//! Payments: their status, how the customer confirms them, who cancelled them, the
//! object YooKassa answers with, and the body that creates one.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Receipt;
use crate::yookassa::amount::Amount;

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
