//! The payment provider as the use cases see it: four calls, in the domain's types.
//! The YooKassa client implements it (and so does the built-in sandbox, through the
//! same client); tests may supply their own.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::money::Money;

pub type ProviderFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

/// What the provider does for us. Every call that creates something is made with an
/// idempotence key: the same key again returns the same object, never a second one.
pub trait PaymentProvider: Send + Sync {
    fn create_payment<'a>(
        &'a self,
        request: &'a ProviderPaymentRequest,
        idempotence_key: &'a str,
    ) -> ProviderFuture<'a, ProviderPayment>;

    fn get_payment<'a>(
        &'a self,
        provider_payment_id: &'a str,
    ) -> ProviderFuture<'a, ProviderPayment>;

    fn create_refund<'a>(
        &'a self,
        request: &'a ProviderRefundRequest,
        idempotence_key: &'a str,
    ) -> ProviderFuture<'a, ProviderRefund>;

    fn get_refund<'a>(&'a self, provider_refund_id: &'a str) -> ProviderFuture<'a, ProviderRefund>;
}

/// A payment to create: captured at once, confirmed by redirecting the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPaymentRequest {
    pub amount: Money,
    pub description: String,
    /// Where the customer returns after paying.
    pub return_url: String,
    /// Our payment id, kept in the provider's metadata.
    pub payment_id: Uuid,
    /// A 54-FZ receipt, when the shop sends them.
    pub receipt: Option<ReceiptRequest>,
}

/// What a receipt needs: the customer's contact and the VAT code of the one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRequest {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub vat_code: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderPaymentStatus {
    Pending,
    WaitingForCapture,
    Succeeded,
    Canceled,
}

/// A payment as the provider has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPayment {
    pub id: String,
    pub status: ProviderPaymentStatus,
    pub amount: Money,
    pub currency: String,
    /// What reaches the shop after the provider's fee, when it says.
    pub income: Option<Money>,
    pub captured_at: Option<DateTime<Utc>>,
    /// Where the customer confirms the payment.
    pub confirmation_url: Option<String>,
    /// Who cancelled and why (`"yoo_money: expired_on_confirmation"`).
    pub cancellation: Option<String>,
    /// Our payment id from the metadata, when it carries one.
    pub payment_id: Option<Uuid>,
    /// A payment of a test shop (or the sandbox): no money moved.
    pub test: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRefundRequest {
    pub provider_payment_id: String,
    pub amount: Money,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderRefundStatus {
    Pending,
    Succeeded,
    Canceled,
}

/// A refund as the provider has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRefund {
    pub id: String,
    pub provider_payment_id: String,
    pub amount: Money,
    pub status: ProviderRefundStatus,
    pub created_at: DateTime<Utc>,
    pub cancellation: Option<String>,
}

/// Why the provider did not answer with the object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Not reached, timed out or failed on its side after every attempt: no verdict.
    #[error("the provider could not be reached after {attempts} attempts: {reason}")]
    Unavailable { attempts: u32, reason: String },
    #[error("the provider does not know this object")]
    NotFound,
    /// A refusal with the provider's code.
    #[error("{message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// An answer that could not be read: no verdict either.
    #[error("the provider's answer could not be read: {0}")]
    Malformed(String),
    /// The idempotence key was used before with other content: the provider may hold
    /// a payment under it, so this is no reason to give up on ours.
    #[error("{0}")]
    KeyReused(String),
}

impl ProviderError {
    /// Whether the answer says nothing about what the provider did (so asking again,
    /// under the same key, is the only way to know).
    pub fn is_no_verdict(&self) -> bool {
        matches!(
            self,
            ProviderError::Unavailable { .. }
                | ProviderError::Malformed(_)
                | ProviderError::Rejected { status: 429, .. }
        )
    }
}
