use std::collections::BTreeMap;
use std::fmt;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commands::RefundOutcome;
use super::{PaymentCommand, PaymentError, PaymentEvent, PaymentPurpose};
use crate::money::Money;
use crate::money::tax::PayerKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// No events yet.
    #[default]
    New,
    /// Created, waiting for the customer and YooKassa.
    Pending,
    Succeeded,
    Canceled,
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PaymentStatus::New => "not created",
            PaymentStatus::Pending => "pending",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::Canceled => "canceled",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum RefundState {
    Requested,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Refund {
    amount: Money,
    state: RefundState,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    status: PaymentStatus,
    purpose: Option<PaymentPurpose>,
    amount: Money,
    payer_kind: Option<PayerKind>,
    payer_user_id: Option<Uuid>,
    idempotence_key: String,
    provider_payment_id: Option<String>,
    refunds: BTreeMap<String, Refund>,
}

impl Payment {
    pub fn status(&self) -> PaymentStatus {
        self.status
    }

    pub fn amount(&self) -> Money {
        self.amount
    }

    pub fn purpose(&self) -> Option<&PaymentPurpose> {
        self.purpose.as_ref()
    }

    pub fn payer_user_id(&self) -> Option<Uuid> {
        self.payer_user_id
    }

    /// Paid minus refunds that succeeded or are still pending.
    pub fn refundable(&self) -> Money {
        let committed = self
            .refunds
            .values()
            .filter(|refund| refund.state != RefundState::Failed)
            .fold(Money::ZERO, |sum, refund| {
                sum.checked_add(refund.amount).unwrap_or(sum)
            });
        self.amount.checked_sub(committed).unwrap_or(Money::ZERO)
    }

    /// The YooKassa payment, once known.
    pub fn provider_payment_id(&self) -> Option<&str> {
        self.provider_payment_id.as_deref()
    }

    /// The idempotence key the payment was created with.
    pub fn idempotence_key(&self) -> &str {
        &self.idempotence_key
    }

    /// The amount of a refund still waiting for its result, if `refund_id` is one.
    pub fn pending_refund(&self, refund_id: &str) -> Option<Money> {
        self.refunds
            .get(refund_id)
            .filter(|refund| refund.state == RefundState::Requested)
            .map(|refund| refund.amount)
    }

    /// The amount of refund `refund_id`, whatever became of it, if it was requested.
    pub fn refund_amount(&self, refund_id: &str) -> Option<Money> {
        self.refunds.get(refund_id).map(|refund| refund.amount)
    }

    /// Money that came back to the customer.
    pub fn refunded(&self) -> Money {
        self.refunds
            .values()
            .filter(|refund| refund.state == RefundState::Succeeded)
            .fold(Money::ZERO, |sum, refund| {
                sum.checked_add(refund.amount).unwrap_or(sum)
            })
    }

    fn refuse(&self, action: &'static str) -> PaymentError {
        match self.status {
            PaymentStatus::New => PaymentError::NotCreated,
            status => PaymentError::WrongStatus { status, action },
        }
    }

    fn decide(&self, command: PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        match command {
            PaymentCommand::Create {
                purpose,
                amount,
                payer_kind,
                payer_user_id,
                idempotence_key,
            } => {
                if self.status != PaymentStatus::New {
                    return if self.idempotence_key == idempotence_key {
                        Ok(vec![])
                    } else {
                        Err(PaymentError::AlreadyExists)
                    };
                }
                if amount.is_zero() {
                    return Err(PaymentError::ZeroAmount);
                }
                if idempotence_key.trim().is_empty() {
                    return Err(PaymentError::Missing("idempotence key"));
                }
                Ok(vec![PaymentEvent::PaymentCreated {
                    purpose,
                    amount,
                    payer_kind,
                    payer_user_id,
                    idempotence_key,
                }])
            }
            PaymentCommand::RecordProviderPayment {
                provider_payment_id,
                confirmation_url,
            } => {
                if provider_payment_id.trim().is_empty() {
                    return Err(PaymentError::Missing("provider payment id"));
                }
                match (&self.provider_payment_id, self.status) {
                    (_, PaymentStatus::New) => Err(PaymentError::NotCreated),
                    (Some(recorded), _) if *recorded == provider_payment_id => Ok(vec![]),
                    (Some(recorded), _) => Err(PaymentError::ProviderMismatch {
                        recorded: recorded.clone(),
                        reported: provider_payment_id,
                    }),
                    (None, PaymentStatus::Pending) => {
                        Ok(vec![PaymentEvent::ProviderPaymentRecorded {
                            provider_payment_id,
                            confirmation_url,
                        }])
                    }
                    (None, _) => Err(self.refuse("be given a YooKassa payment")),
                }
            }
            PaymentCommand::Succeed {
                provider_payment_id,
                amount_received,
                currency,
                provider_fee,
                paid_at,
                test,
            } => {
                if let Some(recorded) = &self.provider_payment_id
                    && *recorded != provider_payment_id
                {
                    return Err(PaymentError::ProviderMismatch {
                        recorded: recorded.clone(),
                        reported: provider_payment_id,
                    });
                }
                // The provider's word wins: money it took after a cancellation here
                // is still income, recorded and flagged for a refund.
                let after_cancellation = match self.status {
                    PaymentStatus::Succeeded => return Ok(vec![]),
                    PaymentStatus::Pending => false,
                    PaymentStatus::Canceled => true,
                    PaymentStatus::New => return Err(PaymentError::NotCreated),
                };
                if amount_received != self.amount || currency != "RUB" {
                    return Err(PaymentError::AmountMismatch {
                        expected: self.amount,
                        received: amount_received,
                        currency,
                    });
                }
                if provider_fee > amount_received {
                    return Err(PaymentError::FeeExceedsAmount {
                        fee: provider_fee,
                        amount: amount_received,
                    });
                }
                let mut events = Vec::new();
                if self.provider_payment_id.is_none() {
                    events.push(PaymentEvent::ProviderPaymentRecorded {
                        provider_payment_id: provider_payment_id.clone(),
                        confirmation_url: String::new(),
                    });
                }
                events.push(PaymentEvent::PaymentSucceeded {
                    provider_payment_id,
                    amount: amount_received,
                    provider_fee,
                    paid_at,
                    after_cancellation,
                    test,
                });
                Ok(events)
            }
            PaymentCommand::Cancel { reason } => match self.status {
                PaymentStatus::Canceled => Ok(vec![]),
                PaymentStatus::Pending => Ok(vec![PaymentEvent::PaymentCanceled { reason }]),
                _ => Err(self.refuse("be cancelled")),
            },
            PaymentCommand::RequestRefundOfRest {
                refund_id,
                up_to,
                share_percent,
            } => {
                if refund_id.trim().is_empty() {
                    return Err(PaymentError::Missing("refund id"));
                }
                if self.refunds.contains_key(&refund_id) {
                    return Ok(vec![]);
                }
                if self.status != PaymentStatus::Succeeded {
                    return Err(self.refuse("be refunded"));
                }
                let mut refundable = self.refundable();
                if let Some(percent) = share_percent {
                    let share = refundable.amount() * rust_decimal::Decimal::from(percent.min(100))
                        / rust_decimal::Decimal::ONE_HUNDRED;
                    refundable =
                        Money::rounded(share).map_or(Money::ZERO, |share| share.min(refundable));
                }
                let amount = up_to.map_or(refundable, |cap| cap.min(refundable));
                if amount.is_zero() {
                    return Ok(vec![]);
                }
                Ok(vec![PaymentEvent::RefundRequested { refund_id, amount }])
            }
            PaymentCommand::RequestRefund { refund_id, amount } => {
                if refund_id.trim().is_empty() {
                    return Err(PaymentError::Missing("refund id"));
                }
                if let Some(existing) = self.refunds.get(&refund_id) {
                    return if existing.amount == amount {
                        Ok(vec![])
                    } else {
                        Err(PaymentError::RefundConflict(refund_id))
                    };
                }
                if self.status != PaymentStatus::Succeeded {
                    return Err(self.refuse("be refunded"));
                }
                if amount.is_zero() {
                    return Err(PaymentError::ZeroAmount);
                }
                let refundable = self.refundable();
                if amount > refundable {
                    return Err(PaymentError::RefundTooLarge {
                        requested: amount,
                        refundable,
                    });
                }
                Ok(vec![PaymentEvent::RefundRequested { refund_id, amount }])
            }
            PaymentCommand::RecordRefundResult { refund_id, outcome } => {
                let Some(refund) = self.refunds.get(&refund_id) else {
                    return Err(PaymentError::UnknownRefund(refund_id));
                };
                match (&refund.state, outcome) {
                    (
                        RefundState::Requested,
                        RefundOutcome::Succeeded {
                            provider_refund_id,
                            refunded_at,
                        },
                    ) => Ok(vec![PaymentEvent::RefundSucceeded {
                        amount: refund.amount,
                        refund_id,
                        provider_refund_id,
                        refunded_at,
                    }]),
                    (RefundState::Requested, RefundOutcome::Failed { reason }) => {
                        Ok(vec![PaymentEvent::RefundFailed {
                            amount: refund.amount,
                            refund_id,
                            reason,
                        }])
                    }
                    // The same result delivered again.
                    (RefundState::Succeeded, RefundOutcome::Succeeded { .. })
                    | (RefundState::Failed, RefundOutcome::Failed { .. }) => Ok(vec![]),
                    _ => Err(PaymentError::RefundSettled(refund_id)),
                }
            }
        }
    }
}

impl Aggregate for Payment {
    const TYPE: &'static str = "Payment";
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            PaymentEvent::PaymentCreated {
                purpose,
                amount,
                payer_kind,
                payer_user_id,
                idempotence_key,
            } => {
                self.status = PaymentStatus::Pending;
                self.purpose = Some(purpose);
                self.amount = amount;
                self.payer_kind = Some(payer_kind);
                self.payer_user_id = Some(payer_user_id);
                self.idempotence_key = idempotence_key;
            }
            PaymentEvent::ProviderPaymentRecorded {
                provider_payment_id,
                ..
            } => self.provider_payment_id = Some(provider_payment_id),
            PaymentEvent::PaymentSucceeded { .. } => self.status = PaymentStatus::Succeeded,
            PaymentEvent::PaymentCanceled { .. } => self.status = PaymentStatus::Canceled,
            PaymentEvent::RefundRequested { refund_id, amount } => {
                self.refunds.insert(
                    refund_id,
                    Refund {
                        amount,
                        state: RefundState::Requested,
                    },
                );
            }
            PaymentEvent::RefundSucceeded { refund_id, .. } => {
                if let Some(refund) = self.refunds.get_mut(&refund_id) {
                    refund.state = RefundState::Succeeded;
                }
            }
            PaymentEvent::RefundFailed { refund_id, .. } => {
                if let Some(refund) = self.refunds.get_mut(&refund_id) {
                    refund.state = RefundState::Failed;
                }
            }
        }
    }
}
