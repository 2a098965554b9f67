//! A small, self-contained client for the YooKassa v3 API
//! (<https://yookassa.ru/developers/api>): the wire types, the HTTP client and the
//! allowlist of addresses YooKassa sends notifications from.
//!
//! - [`amount`]: [`Amount`], `{"value": "100.00", "currency": "RUB"}`. Always written with
//!   two decimal places; read leniently (`"1"`, `0.1`, `250.0`), rounding half-up to kopecks.
//! - [`objects`]: payments, refunds, the request bodies that create them, notifications and
//!   YooKassa's error body. Readers ignore unknown fields; every type also serializes, so a
//!   sandbox can play YooKassa's part.
//! - [`client`]: [`YooKassaClient`], HTTP Basic auth with the shop id and secret key, an
//!   `Idempotence-Key` on every POST (the same key on every retry), retries with exponential
//!   delay on timeouts, connection errors and 5xx, and no retry on 4xx.
//! - [`allowlist`]: [`IpAllowlist`]. Notifications carry no signature; YooKassa's SDKs
//!   authenticate them by their source address.
//!
//! - [`provider`]: the client as the payments use case's `PaymentProvider` port.
//!
//! Money is [`domain::money::Money`] throughout, never a float.

pub mod allowlist;
pub mod amount;
pub mod client;
pub mod objects;
pub mod provider;
pub mod sandbox;

pub use allowlist::IpAllowlist;
pub use amount::Amount;
pub use client::{YooKassaClient, YooKassaError, YooKassaSettings};
pub use objects::{
    CancellationDetails, Confirmation, ConfirmationRequest, ErrorBody, NewPayment, NewRefund,
    Notification, PaymentObject, PaymentStatus, Receipt, ReceiptCustomer, ReceiptItem,
    RefundObject, RefundStatus,
};
