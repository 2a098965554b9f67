//! Taking money through a payment provider (YooKassa, or the built-in sandbox), behind
//! the [`PaymentProvider`] port the composition root injects:
//! - [`Core::start_payment`] pays for an order, a credit pack or a plan;
//! - [`Core::settle_provider_payment`] / [`Core::settle_provider_refund`] apply the
//!   provider's version of a payment or refund (from a notification, or from
//!   reconciliation), never the notification's own body;
//! - [`Core::refund_payment`] (staff) and [`Core::execute_refund`] (the refund
//!   executor) give money back.
//!
//! The provider is asked with our ids as Idempotence-Keys (the payment id, the refund
//! id), so a retry, a repeated request or a second worker never makes a second
//! payment or refund there.

mod port;
mod refund_calls;
mod refunds;
mod settle;
mod start;

pub use port::{
    PaymentProvider, ProviderError, ProviderFuture, ProviderPayment, ProviderPaymentRequest,
    ProviderPaymentStatus, ProviderRefund, ProviderRefundRequest, ProviderRefundStatus,
    ReceiptRequest,
};
pub use refund_calls::{CallOutcome, RefundCall, RefundCallPauses, record_refund_call};
pub use refunds::{RefundDone, RefundState};
pub use settle::Settled;
pub use start::{EARLIER_PAYMENTS_SQL, PaymentOrder, PurposeRequest, StartedPayment};

use rust_decimal::{Decimal, RoundingStrategy};

use crate::command::CommandError;
use crate::money::Money;

/// How payments are taken, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRules {
    /// True when the provider is the built-in sandbox: no money moves.
    pub sandbox: bool,
    /// Where customers come back to after paying.
    pub return_url: String,
    /// The provider's fee when it does not say what it kept.
    pub fee_percent: Decimal,
    /// 54-FZ receipts with this VAT code, or none.
    pub receipt_vat_code: Option<u8>,
    /// How long a refund call is kept from others once taken: longer than the
    /// provider client's longest call with every attempt.
    pub refund_call_lease: std::time::Duration,
}

impl PaymentRules {
    /// The provider's fee on a payment: what it kept (`amount - income`) when it says,
    /// else the configured percentage, rounded to kopecks half up.
    pub fn fee_of(&self, payment: &ProviderPayment) -> Money {
        if let Some(income) = payment.income
            && let Some(fee) = payment.amount.checked_sub(income)
        {
            return fee;
        }
        let fee = (payment.amount.amount() * self.fee_percent / Decimal::from(100))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        Money::new(fee).unwrap_or(Money::ZERO)
    }
}

/// The provider's failures as a use case's: unreachable → unavailable (repeat the
/// request), refused → upstream with its reason.
pub(crate) fn provider_error(error: ProviderError) -> CommandError {
    match error {
        ProviderError::Unavailable { attempts, reason } => {
            tracing::warn!(attempts, %reason, "the payment provider could not be reached");
            CommandError::unavailable(
                "YooKassa could not be reached; repeat the request with the same key",
            )
            .with_code("payment_provider_unavailable")
        }
        other => {
            tracing::warn!(error = %other, "the payment provider refused a request");
            CommandError::new(
                crate::command::ErrorKind::Upstream,
                format!("YooKassa refused: {other}"),
            )
            .with_code("payment_provider_refused")
        }
    }
}
