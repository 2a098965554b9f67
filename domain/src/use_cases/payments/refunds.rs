//! Giving money back. Staff ask for a refund ([`Core::refund_payment`]); the domain
//! records it as requested, and the refund executor (or this request, at once) asks
//! the provider under the refund's own id as its Idempotence-Key
//! ([`Core::execute_refund`]) and records the answer.

use uuid::Uuid;

use super::{ProviderError, ProviderRefundRequest, ProviderRefundStatus, provider_error};
use crate::command::{CommandContext, CommandError, Committed};
use crate::money::Money;
use crate::order::OrderStatus;
use crate::payment::{PaymentCommand, PaymentEvent, PaymentPurpose, PaymentStatus, RefundOutcome};
use crate::permissions::{Action, Caller};
use crate::use_cases::Core;

/// Where a refund stands after asking the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundState {
    Succeeded,
    /// The provider is still on it; its notification settles it.
    Pending,
    Failed,
    /// It had its result already.
    Settled,
}

/// A refund staff asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundDone {
    pub refund_id: String,
    pub amount: Money,
    pub state: RefundState,
    /// The payment's sequence after: what a read of it must wait for.
    pub payment_sequence: usize,
}

impl Core {
    /// Staff refund payment `payment_id`: `amount`, or everything still refundable.
    /// `key` makes a repeat of the request ask once. A paid order that is still
    /// running is refunded in full by cancelling it, not here.
    pub async fn refund_payment(
        &self,
        caller: Caller,
        payment_id: Uuid,
        amount: Option<Money>,
        key: Option<&str>,
    ) -> Result<RefundDone, CommandError> {
        caller.require(Action::RefundPayment)?;
        let id = payment_id.to_string();
        let (payment, _) = self.commands.payments.load(&id).await?;
        if payment.status() == PaymentStatus::New {
            return Err(CommandError::not_found("no such payment"));
        }
        let amount = amount.unwrap_or_else(|| payment.refundable());
        if let Some(PaymentPurpose::Order { order_id }) = payment.purpose() {
            let (order, _) = self.commands.orders.load(&order_id.to_string()).await?;
            let running = !matches!(
                order.status(),
                OrderStatus::Completed | OrderStatus::Cancelled
            );
            if running && amount == payment.amount() {
                return Err(CommandError::invalid_state(format!(
                    "order {order_id} is still running: cancel it with a refund instead"
                ))
                .with_code("cancel_the_order"));
            }
        }
        let key = match key.map(str::trim) {
            None => Uuid::now_v7().to_string(),
            Some(key)
                if (1..=40).contains(&key.len())
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                key.to_owned()
            }
            Some(_) => {
                return Err(CommandError::invalid(
                    "idempotence_key",
                    "1 to 40 letters, digits, - or _",
                ));
            }
        };
        let refund_id = format!("refund-{key}");
        let requested = self
            .commands
            .payments
            .execute(
                &id,
                PaymentCommand::RequestRefund {
                    refund_id: refund_id.clone(),
                    amount,
                },
                &caller.context(),
            )
            .await?;
        // A repeat of a refund that has its result: nothing to ask.
        let (payment, _) = self.commands.payments.load(&id).await?;
        let settled = requested.events.is_empty() && payment.pending_refund(&refund_id).is_none();
        // Asked at once, under the call's lease, so the refund calls loop does not ask
        // at the same time; taken already, it is on its way.
        let leased = if settled {
            None
        } else {
            self.lease_refund_call(payment_id, &refund_id).await?
        };
        let state = match leased {
            None if settled => RefundState::Settled,
            None => RefundState::Pending,
            Some(call) => match self
                .make_refund_call(&call, &super::RefundCallPauses::default())
                .await?
            {
                super::CallOutcome::Done(state) => state,
                super::CallOutcome::Pending => RefundState::Pending,
                // Recorded as requested: the refund calls loop asks again.
                super::CallOutcome::AskAgain(_) => {
                    return Err(CommandError::unavailable(
                        "the refund is recorded; YooKassa could not be reached, it is asked again shortly",
                    )
                    .with_code("payment_provider_unavailable"));
                }
                super::CallOutcome::Parked(error) => return Err(error),
            },
        };
        let (_, payment_sequence) = self.commands.payments.load(&id).await?;
        Ok(RefundDone {
            refund_id,
            amount,
            state,
            payment_sequence,
        })
    }

    /// Asks the provider for refund `refund_id` of payment `payment_id`, once, and
    /// records its verdict; a refund the provider already has is re-read instead
    /// (how a pending one is reconciled). An answer that is no verdict (unreachable,
    /// unreadable, "too many requests") is an unavailable `Err`: the refund may have
    /// been made, so it is asked again, under the same key. Called outside any
    /// transaction (the refund calls loop, or a staff request).
    pub async fn execute_refund(
        &self,
        payment_id: &str,
        refund_id: &str,
    ) -> Result<RefundState, CommandError> {
        let (payment, _) = self.commands.payments.load(payment_id).await?;
        let Some(amount) = payment.pending_refund(refund_id) else {
            return Ok(RefundState::Settled);
        };
        let Some(provider_payment_id) = payment.provider_payment_id() else {
            self.record_refund(
                payment_id,
                refund_id,
                failed("the payment never reached YooKassa"),
            )
            .await?;
            return Ok(RefundState::Failed);
        };
        // A refund the provider already has (pending when last asked) is read, not
        // created again: an Idempotence-Key is kept for a day only.
        let known: Option<String> = sqlx::query_scalar(
            "SELECT provider_refund_id FROM yookassa_refunds \
             WHERE payment_id = $1::uuid AND refund_id = $2",
        )
        .bind(payment_id)
        .bind(refund_id)
        .fetch_optional(self.pool())
        .await?;
        let request = ProviderRefundRequest {
            provider_payment_id: provider_payment_id.to_owned(),
            amount,
            description: format!("Refund {refund_id}"),
        };
        let answer = match &known {
            Some(provider_refund_id) => self.payments.get_refund(provider_refund_id).await,
            None => self.payments.create_refund(&request, refund_id).await,
        };
        let refund = match answer {
            Ok(refund) => refund,
            Err(error) if error.is_no_verdict() => {
                return Err(match error {
                    ProviderError::Unavailable { .. } => provider_error(error),
                    other => CommandError::unavailable(format!(
                        "YooKassa gave no verdict on the refund: {other}"
                    ))
                    .with_code("payment_provider_unavailable"),
                });
            }
            Err(error) => {
                tracing::warn!(payment = payment_id, refund = refund_id, %error, "YooKassa refused a refund");
                self.record_refund(
                    payment_id,
                    refund_id,
                    failed(&format!("YooKassa refused: {error}")),
                )
                .await?;
                return Ok(RefundState::Failed);
            }
        };
        // The key is shop-wide at the provider: an answer about another payment or
        // amount means the key was used before; it is not this refund.
        if refund.provider_payment_id != provider_payment_id || refund.amount != amount {
            tracing::error!(
                payment = payment_id,
                refund = refund_id,
                "YooKassa answered a refund of another payment or amount for this key"
            );
            self.record_refund(
                payment_id,
                refund_id,
                failed("the refund id was used for another refund at YooKassa"),
            )
            .await?;
            return Ok(RefundState::Failed);
        }
        sqlx::query(
            "INSERT INTO yookassa_refunds (provider_refund_id, payment_id, refund_id, created_at) \
             VALUES ($1, $2::uuid, $3, now()) ON CONFLICT DO NOTHING",
        )
        .bind(&refund.id)
        .bind(payment_id)
        .bind(refund_id)
        .execute(self.pool())
        .await?;
        Ok(match refund.status {
            ProviderRefundStatus::Succeeded => {
                self.record_refund(
                    payment_id,
                    refund_id,
                    RefundOutcome::Succeeded {
                        provider_refund_id: refund.id.clone(),
                        refunded_at: refund.created_at,
                    },
                )
                .await?;
                RefundState::Succeeded
            }
            ProviderRefundStatus::Canceled => {
                let reason = refund
                    .cancellation
                    .clone()
                    .unwrap_or_else(|| "canceled at YooKassa".to_owned());
                self.record_refund(payment_id, refund_id, failed(&reason))
                    .await?;
                RefundState::Failed
            }
            ProviderRefundStatus::Pending => RefundState::Pending,
        })
    }

    async fn record_refund(
        &self,
        payment_id: &str,
        refund_id: &str,
        outcome: RefundOutcome,
    ) -> Result<Committed<PaymentEvent>, CommandError> {
        self.commands
            .payments
            .execute(
                payment_id,
                PaymentCommand::RecordRefundResult {
                    refund_id: refund_id.to_owned(),
                    outcome,
                },
                &CommandContext::system("refund-executor"),
            )
            .await
    }
}

fn failed(reason: &str) -> RefundOutcome {
    RefundOutcome::Failed {
        reason: reason.to_owned(),
    }
}
