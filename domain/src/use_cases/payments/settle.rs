//! Applying the provider's version of a payment or a refund. A notification is never
//! trusted: the object is read again from the provider and applied through the
//! Payment aggregate, which ignores what it already recorded. Reconciliation applies
//! pending payments the same way when their notification never came.

use chrono::Utc;
use tracing::{error, warn};
use uuid::Uuid;

use super::{
    ProviderError, ProviderPayment, ProviderPaymentStatus, ProviderRefund, ProviderRefundStatus,
};
use crate::command::{CommandContext, CommandError};
use crate::payment::{PaymentCommand, RefundOutcome};
use crate::use_cases::Core;

/// What became of one settlement. An `Err` means "not now": the store or the
/// provider could not be reached, so the notification should come again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    Applied,
    /// Not ours, not final, or refused for good (logged): nothing to do again.
    Ignored,
}

impl Core {
    /// Reads provider payment `provider_payment_id` from the provider and applies it.
    pub async fn settle_provider_payment(
        &self,
        provider_payment_id: &str,
    ) -> Result<Settled, CommandError> {
        match self.payments.get_payment(provider_payment_id).await {
            Ok(payment) => self.apply_provider_payment(&payment).await,
            Err(ProviderError::NotFound) => {
                warn!(
                    provider_payment = provider_payment_id,
                    "the provider does not know a payment it notified about"
                );
                Ok(Settled::Ignored)
            }
            Err(cause) => Err(super::provider_error(cause)),
        }
    }

    /// Reads provider refund `provider_refund_id` from the provider and applies it.
    pub async fn settle_provider_refund(
        &self,
        provider_refund_id: &str,
    ) -> Result<Settled, CommandError> {
        match self.payments.get_refund(provider_refund_id).await {
            Ok(refund) => self.apply_provider_refund(&refund).await,
            Err(ProviderError::NotFound) => {
                warn!(
                    provider_refund = provider_refund_id,
                    "the provider does not know a refund it notified about"
                );
                Ok(Settled::Ignored)
            }
            Err(cause) => Err(super::provider_error(cause)),
        }
    }

    /// Applies the provider's version of a payment, if it is one of ours and final.
    pub async fn apply_provider_payment(
        &self,
        payment: &ProviderPayment,
    ) -> Result<Settled, CommandError> {
        let ours = match payment.payment_id {
            Some(id) => Some(id),
            None => {
                sqlx::query_scalar(
                    "SELECT payment_id FROM provider_payments WHERE provider_payment_id = $1",
                )
                .bind(&payment.id)
                .fetch_optional(self.pool())
                .await?
            }
        };
        let Some(payment_id) = ours else {
            warn!(provider_payment = %payment.id, "a provider payment that is not ours");
            return Ok(Settled::Ignored);
        };
        let command = match payment.status {
            ProviderPaymentStatus::Succeeded => PaymentCommand::Succeed {
                provider_payment_id: payment.id.clone(),
                amount_received: payment.amount,
                currency: payment.currency.clone(),
                provider_fee: self.payment_rules.fee_of(payment),
                paid_at: payment.captured_at.unwrap_or_else(Utc::now),
                test: payment.test || self.payment_rules.sandbox,
            },
            ProviderPaymentStatus::Canceled => PaymentCommand::Cancel {
                reason: payment
                    .cancellation
                    .clone()
                    .unwrap_or_else(|| "canceled at YooKassa".to_owned()),
            },
            // Payments are created with capture: nothing to do until they settle.
            ProviderPaymentStatus::Pending | ProviderPaymentStatus::WaitingForCapture => {
                return Ok(Settled::Ignored);
            }
        };
        self.record_from_provider(&payment_id.to_string(), command)
            .await
    }

    /// Applies the provider's version of a refund, if it is one of ours and final.
    pub async fn apply_provider_refund(
        &self,
        refund: &ProviderRefund,
    ) -> Result<Settled, CommandError> {
        let ours: Option<(Uuid, String)> = sqlx::query_as(
            "SELECT payment_id, refund_id FROM yookassa_refunds WHERE provider_refund_id = $1",
        )
        .bind(&refund.id)
        .fetch_optional(self.pool())
        .await?;
        let Some((payment_id, refund_id)) = ours else {
            // Of one of our payments: the executor has not written its mapping yet
            // (the notification overtook the provider's answer). Not now.
            let our_payment: Option<Uuid> = sqlx::query_scalar(
                "SELECT payment_id FROM provider_payments WHERE provider_payment_id = $1",
            )
            .bind(&refund.provider_payment_id)
            .fetch_optional(self.pool())
            .await?;
            if our_payment.is_some() {
                return Err(CommandError::unavailable(format!(
                    "refund {} of our payment is not mapped yet",
                    refund.id
                )));
            }
            warn!(provider_refund = %refund.id, "a provider refund that is not ours");
            return Ok(Settled::Ignored);
        };
        let outcome = match refund.status {
            ProviderRefundStatus::Succeeded => RefundOutcome::Succeeded {
                provider_refund_id: refund.id.clone(),
                refunded_at: refund.created_at,
            },
            ProviderRefundStatus::Canceled => RefundOutcome::Failed {
                reason: refund
                    .cancellation
                    .clone()
                    .unwrap_or_else(|| "canceled at YooKassa".to_owned()),
            },
            ProviderRefundStatus::Pending => return Ok(Settled::Ignored),
        };
        self.record_from_provider(
            &payment_id.to_string(),
            PaymentCommand::RecordRefundResult { refund_id, outcome },
        )
        .await
    }

    /// Runs a command of the provider's on a payment. An outage is "not now"; a
    /// refusal will not change on another try: acknowledged, and loud.
    async fn record_from_provider(
        &self,
        payment_id: &str,
        command: PaymentCommand,
    ) -> Result<Settled, CommandError> {
        let context = CommandContext::system("yookassa");
        match self
            .commands
            .payments
            .execute(payment_id, command, &context)
            .await
        {
            Ok(_) => Ok(Settled::Applied),
            Err(error) if error.is_transient() => Err(error),
            Err(refused) => {
                error!(payment = payment_id, reason = %refused.message, "the provider's version of a payment was refused by the payment");
                Ok(Settled::Ignored)
            }
        }
    }
}
