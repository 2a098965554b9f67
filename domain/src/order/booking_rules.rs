//! Cancelling an order, and the salon's booking rules.
//!
//! - A customer cancels or moves a booking only before its slot starts (`at` is the
//!   command's time). Managers may do both later: an override, recorded as such (a
//!   cancellation's [`CancelDecision::Staff`] with `after_start`, a move's
//!   `after_start` and its required reason).
//! - A customer cancelling a paid booking gets back, of what is left of the payment
//!   (paid minus refunded): all of it up to `full_refund_hours` before the start
//!   (exactly that many hours before still counts), `late_refund_percent` of it after
//!   that, rounded half up to kopecks ([`refund_share`]), and the start closes the
//!   door. The terms are the ones the booking was made under ([`BookingTerms`] in its
//!   `OrderPlaced`); a booking made before the rules gives back everything.
//! - An unpaid booking holds its slot until `hold_until`; then the scheduler's
//!   `ReleaseUnpaidHold` cancels it "not paid in time", which frees the slot.
//! - A customer holds at most `max_unpaid` unpaid bookings at once: a rule across
//!   orders, so the store decides it with the `OrderPlaced` event
//!   (`migrations/*_booking_rules.sql`, constraint `too_many_unpaid_bookings`).

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::aggregate::{MAX_TEXT, check_slot, is_manager, text};
use super::{
    Actor, BookingTerms, CancelDecision, Kind, Order, OrderError, OrderEvent, OrderRefund,
    OrderServices, OrderStatus, Slot,
};
use crate::money::Money;
use crate::permissions::{Action, is_allowed};

/// Why the scheduler cancels a booking whose hold passed.
pub const NOT_PAID_IN_TIME: &str = "not paid in time";

/// The salon's booking rules, as configured: what a new booking's terms are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingRules {
    /// A customer's cancellation at least this many hours ahead is refunded in full.
    pub full_refund_hours: u32,
    /// The percentage refunded for a later cancellation before the start.
    pub late_refund_percent: u8,
    /// How long an unpaid booking holds its slot.
    pub unpaid_hold_minutes: u32,
    /// How many unpaid bookings one customer may hold at once.
    pub max_unpaid_bookings: u32,
}

impl Default for BookingRules {
    /// 24 hours, 50 %, 15 minutes, 3 bookings.
    fn default() -> Self {
        Self {
            full_refund_hours: 24,
            late_refund_percent: 50,
            unpaid_hold_minutes: 15,
            max_unpaid_bookings: 3,
        }
    }
}

impl BookingRules {
    /// The terms of a booking placed at `now` for a slot starting at `start`: the
    /// hold never runs past the start.
    pub fn terms(&self, now: DateTime<Utc>, start: DateTime<Utc>) -> BookingTerms {
        BookingTerms {
            hold_until: (now + Duration::minutes(i64::from(self.unpaid_hold_minutes))).min(start),
            max_unpaid: self.max_unpaid_bookings,
            full_refund_hours: self.full_refund_hours,
            late_refund_percent: self.late_refund_percent,
        }
    }
}

impl BookingTerms {
    /// The percentage of what is left that a customer cancelling at `at` gets back,
    /// for a slot starting at `start`: 100 up to `full_refund_hours` before it, then
    /// `late_refund_percent`, 0 from the start on.
    pub fn refund_percent(&self, start: DateTime<Utc>, at: DateTime<Utc>) -> u8 {
        if at >= start {
            0
        } else if start - at >= Duration::hours(i64::from(self.full_refund_hours)) {
            100
        } else {
            self.late_refund_percent.min(100)
        }
    }
}

/// `percent` of `left`, rounded half up to kopecks (749.995 → 750.00); nothing if it
/// cannot be worked out (it fails closed).
pub fn refund_share(left: Money, percent: u8) -> Money {
    let share = left.amount() * Decimal::from(percent.min(100)) / Decimal::ONE_HUNDRED;
    Money::rounded(share).map_or(Money::ZERO, |share| share.min(left))
}

impl Order {
    pub(super) fn cancel(
        &self,
        reason: String,
        refund: Option<Money>,
        by: Actor,
        at: DateTime<Utc>,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let before_work = matches!(
            self.status,
            OrderStatus::Placed
                | OrderStatus::Quoted
                | OrderStatus::AwaitingPayment
                | OrderStatus::Booked
        );
        let staff_decides = is_allowed(by.role, Action::CancelAnyOrder);
        let customer_may = self.is_customer(by) && before_work;
        if !customer_may && !staff_decides {
            return Err(if self.is_customer(by) {
                OrderError::WrongState {
                    kind: self.kind().unwrap_or(Kind::Coursework),
                    status: self.status,
                    action: "be cancelled by the customer (ask support)",
                }
            } else {
                OrderError::NotAllowed(by.role, "cancel others' orders")
            });
        }
        text("reason", &reason, MAX_TEXT, "1 to 2,000 characters")?;
        let start = self.booking().map(|(_, slot)| slot.start);
        let started = start.is_some_and(|start| at >= start);
        if started && !staff_decides {
            return Err(OrderError::SlotStarted("cancelled"));
        }
        // What was paid and not given back yet (earlier partial refunds count).
        let payment = self.payment.map(|(payment_id, paid)| {
            let left = paid.checked_sub(self.refunded).unwrap_or(Money::ZERO);
            (payment_id, left)
        });
        let (refund, decision) = if staff_decides {
            let refund = match (payment, refund) {
                (None, _) => None,
                (Some((_, left)), None) if left.is_zero() => None,
                (Some((_, left)), None) => return Err(OrderError::RefundNotStated { paid: left }),
                (Some((_, left)), Some(refund)) if refund > left => {
                    return Err(OrderError::RefundTooLarge { refund, paid: left });
                }
                (Some(_), Some(amount)) if amount.is_zero() => None,
                (Some((payment_id, _)), Some(amount)) => Some(OrderRefund { payment_id, amount }),
            };
            (
                refund,
                CancelDecision::Staff {
                    after_start: started,
                },
            )
        } else {
            if payment.is_some() && refund.is_some() {
                return Err(OrderError::RefundSetByCustomer);
            }
            // Before any work, or before the slot: the rules say how much goes back.
            let percent = match (start, self.terms) {
                // Moved late once: never more than the late share.
                (Some(start), Some(terms)) if self.moved_late => terms
                    .refund_percent(start, at)
                    .min(terms.late_refund_percent.min(100)),
                (Some(start), Some(terms)) => terms.refund_percent(start, at),
                _ => 100,
            };
            let refund = payment.and_then(|(payment_id, left)| {
                let amount = refund_share(left, percent);
                (!amount.is_zero()).then_some(OrderRefund { payment_id, amount })
            });
            (refund, CancelDecision::Policy { percent })
        };
        Ok(vec![OrderEvent::OrderCancelled {
            reason,
            by: by.user_id,
            refund,
            decision: Some(decision),
        }])
    }

    pub(super) async fn reschedule(
        &self,
        slot: Slot,
        by: Actor,
        at: DateTime<Utc>,
        reason: Option<String>,
        services: &OrderServices,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let manager = is_manager(by);
        if !self.is_customer(by) && !manager {
            return Err(OrderError::NotTheCustomer("move the booking"));
        }
        check_slot(&slot)?;
        let Some((master_id, current)) = self.booking() else {
            return Err(OrderError::NotPlaced);
        };
        if *current == slot {
            return Ok(vec![]);
        }
        let after_start = at >= current.start;
        if after_start && !manager {
            return Err(OrderError::SlotStarted("moved"));
        }
        match &reason {
            Some(reason) => text("reason", reason, MAX_TEXT, "1 to 2,000 characters")?,
            None if after_start => {
                return Err(OrderError::Invalid {
                    field: "reason",
                    rule: "given when moving a booking whose slot has started",
                });
            }
            None => {}
        }
        if slot.start <= at {
            return Err(OrderError::Invalid {
                field: "slot",
                rule: "a start in the future",
            });
        }
        // The price was for this long; a longer visit is a new booking.
        if slot.end - slot.start != current.end - current.start {
            return Err(OrderError::Invalid {
                field: "slot",
                rule: "as long as the booked one",
            });
        }
        let order_id = self.order_id.ok_or(OrderError::NotPlaced)?;
        Self::slot_free(services, master_id, &slot, order_id).await?;
        let late = !manager
            && self
                .terms
                .is_some_and(|terms| terms.refund_percent(current.start, at) < 100);
        Ok(vec![OrderEvent::BookingRescheduled {
            from: current.clone(),
            to: slot,
            by: Some(by.user_id),
            after_start,
            reason,
            late,
        }])
    }

    /// Cancels an unpaid booking whose hold has passed; anything else is left alone
    /// (a repeat, a booking paid or finished meanwhile, one made before the rules).
    pub(super) fn release_unpaid_hold(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        let Some(terms) = self.terms else {
            return Ok(vec![]);
        };
        // A customer at the checkout keeps the slot until that payment is paid or
        // released (an abandoned one is given up by reconciliation), then the
        // scheduler's next round decides.
        if self.status != OrderStatus::Booked
            || self.payment.is_some()
            || self.open_payment().is_some()
        {
            return Ok(vec![]);
        }
        if at < terms.hold_until {
            return Err(OrderError::HoldNotExpired(terms.hold_until));
        }
        Ok(vec![OrderEvent::OrderCancelled {
            reason: NOT_PAID_IN_TIME.to_owned(),
            // Nobody: the system released it.
            by: Uuid::nil(),
            refund: None,
            decision: Some(CancelDecision::HoldExpired),
        }])
    }
}
