//! Refunds and what they undo:
//! - an order cancelled with a refund → the refund is requested on its payment, under
//!   an id derived from the order (`cancellation_refund_id`), so it is asked once, for
//!   what is still refundable (earlier partial refunds count);
//! - an order cancelled while a payment was open → that payment is cancelled (money
//!   the provider takes for it anyway is given back by the payment reactions);
//! - a refund that succeeded at the provider → the order records the money returned;
//!   for a credit pack or a plan, the refunded share of its credits is taken back from
//!   what is left on the account (credits already spent stay spent: the business took
//!   that risk when it refunded, and the shortfall is logged for staff).
//!
//! Requesting the refund at YooKassa is the API's refund executor's job.

use std::sync::Arc;

use domain::command::{CommandContext, CommandError, Commands};
use domain::credit::{CreditCommand, GrantReason};
use domain::money::Money;
use domain::order::{CancelDecision, OrderCommand, OrderEvent, cancellation_refund_id};
use domain::payment::{PaymentCommand, PaymentEvent, PaymentPurpose, PaymentStatus};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sqlx::PgConnection;
use tracing::warn;
use uuid::Uuid;

use super::{retryable, settle};
use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct RefundReactions {
    commands: Arc<Commands>,
}

impl RefundReactions {
    pub fn new(commands: Arc<Commands>) -> Self {
        Self { commands }
    }

    async fn react(&self, event: &EventEnvelope) -> Result<(), ApplyError> {
        let because = CommandContext::system("refund-reactions").caused_by(event.message_id());
        match event.aggregate_type.as_str() {
            "Order" => self.cancellation(event, &because).await,
            "Payment" => self.refunded(event, &because).await,
            _ => Ok(()),
        }
    }

    async fn cancellation(
        &self,
        event: &EventEnvelope,
        because: &CommandContext,
    ) -> Result<(), ApplyError> {
        let OrderEvent::OrderCancelled {
            refund, decision, ..
        } = event.decode::<OrderEvent>()?
        else {
            return Ok(());
        };
        // A policy's share is taken of what the payment has left, pending refunds
        // counted, not of what the order had seen.
        let share_percent = match decision {
            Some(CancelDecision::Policy { percent }) if percent < 100 => Some(percent),
            _ => None,
        };
        let order_id = event.aggregate_uuid()?;
        self.cancel_open_payment(order_id, because).await?;
        let Some(refund) = refund else {
            return Ok(());
        };
        // What is still refundable, decided by the payment itself: a partial refund
        // made or pending since the order last saw one is not given twice.
        self.commands
            .payments
            .execute(
                &refund.payment_id.to_string(),
                PaymentCommand::RequestRefundOfRest {
                    refund_id: cancellation_refund_id(order_id),
                    up_to: Some(refund.amount),
                    share_percent,
                },
                because,
            )
            .await
            .map(|_| ())
            .or_else(|error| settle(&format!("refund of cancelled order {order_id}"), error))
    }

    /// A payment the cancelled order still waited for is cancelled here, so the
    /// customer's checkout no longer pays for it; if the provider takes the money all
    /// the same, the payment reactions give it back.
    async fn cancel_open_payment(
        &self,
        order_id: Uuid,
        because: &CommandContext,
    ) -> Result<(), ApplyError> {
        let (order, _) = self
            .commands
            .orders
            .load(&order_id.to_string())
            .await
            .map_err(retryable)?;
        let Some(payment_id) = order.open_payment() else {
            return Ok(());
        };
        let (payment, _) = self
            .commands
            .payments
            .load(&payment_id.to_string())
            .await
            .map_err(retryable)?;
        if payment.status() != PaymentStatus::Pending {
            return Ok(());
        }
        self.commands
            .payments
            .execute(
                &payment_id.to_string(),
                PaymentCommand::Cancel {
                    reason: "the order was cancelled".to_owned(),
                },
                because,
            )
            .await
            .map(|_| ())
            .or_else(|error| {
                settle(
                    &format!("open payment of cancelled order {order_id}"),
                    error,
                )
            })
    }

    async fn refunded(
        &self,
        event: &EventEnvelope,
        because: &CommandContext,
    ) -> Result<(), ApplyError> {
        let PaymentEvent::RefundSucceeded {
            refund_id, amount, ..
        } = event.decode::<PaymentEvent>()?
        else {
            return Ok(());
        };
        let (payment, _) = self
            .commands
            .payments
            .load(&event.aggregate_id)
            .await
            .map_err(retryable)?;
        let (Some(purpose), Some(payer)) = (payment.purpose().cloned(), payment.payer_user_id())
        else {
            return Err(ApplyError::Decode(format!(
                "payment {} was refunded but never created",
                event.aggregate_id
            )));
        };
        let payment_id = event.aggregate_uuid()?;
        let outcome: Result<(), CommandError> = match purpose {
            PaymentPurpose::Order { order_id } => self
                .commands
                .orders
                .execute(
                    &order_id.to_string(),
                    OrderCommand::RecordRefund {
                        payment_id,
                        refund_id: refund_id.clone(),
                        amount,
                    },
                    because,
                )
                .await
                .map(|_| ()),
            PaymentPurpose::CreditPack { credits, .. } => {
                self.take_back(
                    payer,
                    GrantReason::Purchase,
                    Some(payment_id.to_string()),
                    refunded_share(credits, amount, payment.amount()),
                    format!("refund:{payment_id}:{refund_id}"),
                    because,
                )
                .await
            }
            // The period's grant is referenced by plan and period; the newest one is
            // what this payment bought.
            PaymentPurpose::Subscription {
                credits_per_period, ..
            } => {
                self.take_back(
                    payer,
                    GrantReason::Subscription,
                    None,
                    refunded_share(credits_per_period, amount, payment.amount()),
                    format!("refund:{payment_id}:{refund_id}"),
                    because,
                )
                .await
            }
        };
        outcome.or_else(|error| settle(&format!("effects of refund {refund_id}"), error))
    }
}

impl RefundReactions {
    /// Takes back up to `wanted` credits from what is left of the grant; what was
    /// already spent of it stays spent (logged, for staff to settle with the customer).
    async fn take_back(
        &self,
        payer: Uuid,
        reason: GrantReason,
        reference: Option<String>,
        wanted: u64,
        operation_id: String,
        because: &CommandContext,
    ) -> Result<(), CommandError> {
        if wanted == 0 {
            return Ok(());
        }
        let account = payer.to_string();
        let committed = self
            .commands
            .credits
            .execute(
                &account,
                CreditCommand::Revoke {
                    reason,
                    reference,
                    amount: wanted,
                    operation_id: operation_id.clone(),
                },
                because,
            )
            .await?;
        let taken: u64 = committed
            .events
            .iter()
            .filter_map(|event| match event {
                domain::credit::CreditEvent::CreditsRevoked { amount, .. } => Some(*amount),
                _ => None,
            })
            .sum();
        if !committed.events.is_empty() && taken < wanted {
            warn!(
                account,
                operation = operation_id,
                wanted,
                "credits of a refunded purchase were already spent; they stay with the customer"
            );
        }
        Ok(())
    }
}

/// The credits a refund takes back: the refunded share of what was bought, rounded
/// down (the customer keeps a part credit).
pub fn refunded_share(credits: u64, refunded: Money, paid: Money) -> u64 {
    if paid.is_zero() {
        return 0;
    }
    let share = Decimal::from(credits) * refunded.amount() / paid.amount();
    share.floor().to_u64().unwrap_or(0).min(credits)
}

impl Projection for RefundReactions {
    fn name(&self) -> &'static str {
        crate::ProjectionName::RefundReactions.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["Order", "Payment"]
    }

    fn apply<'a>(
        &'a self,
        _connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(self.react(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refunded_share_of_credits_is_rounded_down() {
        let money = |text: &str| text.parse::<Money>().expect("money");
        assert_eq!(refunded_share(300, money("1290.00"), money("1290.00")), 300);
        assert_eq!(refunded_share(300, money("645.00"), money("1290.00")), 150);
        assert_eq!(refunded_share(100, money("100.00"), money("499.00")), 20);
        assert_eq!(refunded_share(100, money("0.01"), money("499.00")), 0);
    }
}
