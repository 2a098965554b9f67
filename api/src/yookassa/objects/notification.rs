//! Notifications (webhooks): the envelope around a payment or refund object.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{PaymentObject, RefundObject};

/// A notification (webhook) body: `{"type": "notification", "event": "payment.succeeded",
/// "object": {...}}`. The object is kept as JSON; read it with [`Notification::payment`]
/// or [`Notification::refund`] according to the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    /// `"notification"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `<object>.<status>`: `payment.succeeded`, `payment.waiting_for_capture`,
    /// `payment.canceled`, `refund.succeeded`, ...
    pub event: String,
    /// The payment or refund, as YooKassa has it; only its `id` is used (the object
    /// is read again from YooKassa's API).
    #[schema(value_type = Object)]
    pub object: Map<String, Value>,
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
        serde_json::from_value(Value::Object(self.object.clone()))
    }

    /// The object read as a refund.
    pub fn refund(&self) -> Result<RefundObject, serde_json::Error> {
        serde_json::from_value(Value::Object(self.object.clone()))
    }

    /// The `id` of the object, whatever its kind.
    pub fn object_id(&self) -> Option<&str> {
        self.object.get("id").and_then(Value::as_str)
    }
}
