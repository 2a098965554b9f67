//! Payment succeeded → the order is marked paid, or the credit pack is granted, or
//! the subscription is activated with its period's credits; and a referred user's
//! first one earns their referrer the referral bonus. A payment that pays for nothing
//! (its order was cancelled or paid by another payment meanwhile, or the money came
//! after the payment was cancelled here) is refunded in full, once
//! (`returned_payment_refund_id`). Payment cancelled → an order it was for stops
//! waiting for it, so another can be started.

use std::sync::Arc;

use chrono::Duration;
use domain::command::{CommandContext, CommandError, Commands, ErrorKind};
use domain::credit::{CreditCommand, GrantReason};
use domain::order::OrderCommand;
use domain::payment::{PaymentCommand, PaymentEvent, PaymentPurpose, returned_payment_refund_id};
use domain::programs::Programs;
use sqlx::PgConnection;
use tracing::warn;
use uuid::Uuid;

use super::{retryable, settle};
use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct PaymentReactions {
    commands: Arc<Commands>,
    programs: Programs,
}

impl PaymentReactions {
    pub fn new(commands: Arc<Commands>, programs: Programs) -> Self {
        Self { commands, programs }
    }

    /// A referred user's first successful payment earns their referrer the bonus:
    /// the grant's reference is the referred user, so it happens once per user
    /// whichever of their payments is seen first.
    async fn referral_bonus(
        &self,
        payer: Uuid,
        because: &CommandContext,
    ) -> Result<(), ApplyError> {
        if self.programs.referral_bonus == 0 {
            return Ok(());
        }
        let (user, _) = self
            .commands
            .users
            .load(&payer.to_string())
            .await
            .map_err(retryable)?;
        let Some(referrer) = user.referrer_id() else {
            return Ok(());
        };
        self.commands
            .credits
            .execute(
                &referrer.to_string(),
                CreditCommand::Grant {
                    amount: self.programs.referral_bonus,
                    reason: GrantReason::Referral,
                    reference: payer.to_string(),
                    expires_at: None,
                },
                because,
            )
            .await
            .map(|_| ())
            .or_else(|error| settle(&format!("referral bonus for {payer}"), error))
    }

    /// A cancelled payment of an order: the order may be paid by another.
    async fn release(&self, event: &EventEnvelope) -> Result<(), ApplyError> {
        let (payment, _) = self
            .commands
            .payments
            .load(&event.aggregate_id)
            .await
            .map_err(retryable)?;
        let Some(PaymentPurpose::Order { order_id }) = payment.purpose() else {
            return Ok(());
        };
        let payment_id = event.aggregate_uuid()?;
        let because = CommandContext::system("payment-reactions").caused_by(event.message_id());
        self.commands
            .orders
            .execute(
                &order_id.to_string(),
                OrderCommand::ReleasePayment { payment_id },
                &because,
            )
            .await
            .map(|_| ())
            .or_else(|error| settle(&format!("payment {payment_id} cancelled"), error))
    }

    /// Refunds in full a payment that paid for nothing, under an id of its own so a
    /// redelivery asks once.
    async fn give_back(
        &self,
        event: &EventEnvelope,
        why: &str,
        because: &CommandContext,
    ) -> Result<(), ApplyError> {
        let payment_id = event.aggregate_uuid()?;
        warn!(payment = %payment_id, why, "a payment paid for nothing; it is refunded in full");
        self.commands
            .payments
            .execute(
                &event.aggregate_id,
                PaymentCommand::RequestRefundOfRest {
                    refund_id: returned_payment_refund_id(payment_id),
                    up_to: None,
                    share_percent: None,
                },
                because,
            )
            .await
            .map(|_| ())
            .or_else(|error| settle(&format!("return of payment {payment_id}"), error))
    }

    async fn react(&self, event: &EventEnvelope) -> Result<(), ApplyError> {
        let decoded = event.decode::<PaymentEvent>()?;
        if let PaymentEvent::PaymentCanceled { .. } = decoded {
            return self.release(event).await;
        }
        let PaymentEvent::PaymentSucceeded {
            amount,
            paid_at,
            after_cancellation,
            ..
        } = decoded
        else {
            return Ok(());
        };
        let because = CommandContext::system("payment-reactions").caused_by(event.message_id());
        if after_cancellation {
            return self
                .give_back(event, "it succeeded after it was cancelled", &because)
                .await;
        }
        let (payment, _) = self
            .commands
            .payments
            .load(&event.aggregate_id)
            .await
            .map_err(retryable)?;
        let (Some(purpose), Some(payer)) = (payment.purpose(), payment.payer_user_id()) else {
            return Err(ApplyError::Decode(format!(
                "payment {} succeeded but was never created",
                event.aggregate_id
            )));
        };
        let payment_id = event.aggregate_id.clone();
        let outcome: Result<(), CommandError> = match purpose.clone() {
            PaymentPurpose::Order { order_id } => {
                let payment_uuid = event.aggregate_uuid()?;
                self.commands
                    .orders
                    .execute(
                        &order_id.to_string(),
                        OrderCommand::MarkPaid {
                            payment_id: payment_uuid,
                            amount,
                        },
                        &because,
                    )
                    .await
                    .map(|_| ())
            }
            PaymentPurpose::CreditPack { credits, .. } => self
                .commands
                .credits
                .execute(
                    &payer.to_string(),
                    CreditCommand::Grant {
                        amount: credits,
                        reason: GrantReason::Purchase,
                        reference: payment_id.clone(),
                        expires_at: None,
                    },
                    &because,
                )
                .await
                .map(|_| ()),
            PaymentPurpose::Subscription {
                plan,
                credits_per_period,
                period_days,
            } => self
                .commands
                .credits
                .execute(
                    &payer.to_string(),
                    CreditCommand::ActivateSubscription {
                        plan,
                        period_end: paid_at + Duration::days(i64::from(period_days)),
                        credits_per_period,
                    },
                    &because,
                )
                .await
                .map(|_| ()),
        };
        match outcome {
            Ok(()) => self.referral_bonus(payer, &because).await,
            Err(error) if error.is_transient() => Err(retryable(error)),
            Err(error) if error.kind == ErrorKind::Internal => {
                Err(ApplyError::Permanent(error.message))
            }
            // What it pays for refused it (the order cancelled or paid by another
            // payment, another price; a grant that cannot be made): the money goes back.
            Err(error) => {
                let why = format!("{purpose:?} refused it: {}", error.message);
                self.give_back(event, &why, &because).await
            }
        }
    }
}

impl Projection for PaymentReactions {
    fn name(&self) -> &'static str {
        crate::ProjectionName::PaymentReactions.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["Payment"]
    }

    fn apply<'a>(
        &'a self,
        _connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(self.react(event))
    }
}
