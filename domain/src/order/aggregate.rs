use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::transitions::{self, Step};
use super::{
    Actor, BookingTerms, Coursework, Kind, OrderCommand, OrderDetails, OrderError, OrderEvent,
    OrderServices, OrderStatus, Slot,
};
use crate::money::Money;
use crate::permissions::{Action, Role, is_allowed};

pub(super) const MAX_TEXT: usize = 2_000;

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub(super) status: OrderStatus,
    pub(super) order_id: Option<Uuid>,
    customer_id: Option<Uuid>,
    details: Option<OrderDetails>,
    /// What is due: the quoted price, the shop total, the booking price.
    price: Option<Money>,
    pub(super) payment: Option<(Uuid, Money)>,
    executor_id: Option<Uuid>,
    revisions_used: u8,
    reviewed: bool,
    /// Refunds recorded, by refund id.
    #[serde(default)]
    refunds: std::collections::BTreeSet<String>,
    /// What those refunds gave back.
    #[serde(default)]
    pub(super) refunded: Money,
    /// The payment the order waits for (started, not yet paid or released).
    #[serde(default)]
    open_payment: Option<Uuid>,
    /// Payments released: they will never pay, so none is opened again.
    #[serde(default)]
    released_payments: std::collections::BTreeSet<Uuid>,
    /// A booking's terms (see `booking_rules`).
    #[serde(default)]
    pub(super) terms: Option<BookingTerms>,
    /// The customer moved the booking inside the refund policy's late window.
    #[serde(default)]
    pub(super) moved_late: bool,
}

pub(super) fn text(
    field: &'static str,
    value: &str,
    max: usize,
    rule: &'static str,
) -> Result<(), OrderError> {
    let length = value.chars().count();
    if value.trim().is_empty() || length > max {
        return Err(OrderError::Invalid { field, rule });
    }
    Ok(())
}

fn positive(field: &'static str, amount: Money) -> Result<(), OrderError> {
    if amount.is_zero() {
        return Err(OrderError::Invalid {
            field,
            rule: "more than 0.00",
        });
    }
    Ok(())
}

fn allowed(by: Actor, action: Action, what: &'static str) -> Result<(), OrderError> {
    if is_allowed(by.role, action) {
        Ok(())
    } else {
        Err(OrderError::NotAllowed(by.role, what))
    }
}

pub(super) fn is_manager(by: Actor) -> bool {
    matches!(by.role, Role::Admin | Role::Owner)
}

pub(super) fn check_slot(slot: &Slot) -> Result<(), OrderError> {
    if slot.end <= slot.start {
        return Err(OrderError::Invalid {
            field: "slot",
            rule: "a start before its end",
        });
    }
    Ok(())
}

impl Order {
    pub fn status(&self) -> OrderStatus {
        self.status
    }

    pub fn kind(&self) -> Option<Kind> {
        self.details.as_ref().map(OrderDetails::kind)
    }

    pub fn customer_id(&self) -> Option<Uuid> {
        self.customer_id
    }

    pub fn executor_id(&self) -> Option<Uuid> {
        self.executor_id
    }

    pub fn price(&self) -> Option<Money> {
        self.price
    }

    /// The master of a booking.
    /// What the customer owes now: the price, while the order waits for its payment
    /// (quoted and accepted coursework, a shop order, an unpaid booking).
    pub fn amount_due(&self) -> Option<Money> {
        let kind = self.kind()?;
        if self.payment.is_some() {
            return None;
        }
        transitions::next(kind, self.status, Step::MarkPaid)?;
        self.price
    }

    pub fn master_id(&self) -> Option<Uuid> {
        self.booking().map(|(master_id, _)| master_id)
    }

    pub fn paid(&self) -> Option<Money> {
        self.payment.map(|(_, amount)| amount)
    }

    /// Its people, for deciding who may see it (`None` before it is placed).
    pub fn parties(&self) -> Option<super::OrderParties> {
        Some(super::OrderParties {
            customer_id: self.customer_id?,
            executor_id: self.executor_id,
            master_id: self.master_id(),
            in_pool: self.kind() == Some(Kind::Coursework)
                && self.status == OrderStatus::Paid
                && self.executor_id.is_none(),
        })
    }

    /// Whether the customer reviewed the order.
    pub fn is_reviewed(&self) -> bool {
        self.reviewed
    }

    /// The payment the order waits for, if one was started and neither paid nor
    /// released.
    pub fn open_payment(&self) -> Option<Uuid> {
        self.open_payment
    }

    pub(super) fn is_customer(&self, by: Actor) -> bool {
        Some(by.user_id) == self.customer_id
    }

    fn customer_only(&self, by: Actor, what: &'static str) -> Result<(), OrderError> {
        if self.is_customer(by) {
            Ok(())
        } else {
            Err(OrderError::NotTheCustomer(what))
        }
    }

    fn executor_only(&self, by: Actor, what: &'static str) -> Result<(), OrderError> {
        if Some(by.user_id) == self.executor_id {
            Ok(())
        } else {
            Err(OrderError::NotTheExecutor(what))
        }
    }

    pub(super) fn booking(&self) -> Option<(Uuid, &Slot)> {
        match &self.details {
            Some(OrderDetails::Booking {
                master_id, slot, ..
            }) => Some((*master_id, slot)),
            _ => None,
        }
    }

    fn is_master(&self, by: Actor) -> bool {
        self.booking()
            .is_some_and(|(master_id, _)| master_id == by.user_id)
    }

    /// One open payment per order: the customer starts one while the order waits for
    /// its money; a second is refused until the first is paid or released.
    fn open_payment_for(
        &self,
        kind: Kind,
        payment_id: Uuid,
        by: Actor,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        self.customer_only(by, "pay for the order")?;
        if self.released_payments.contains(&payment_id) {
            return Err(OrderError::PaymentReleased(payment_id));
        }
        match self.open_payment {
            Some(open) if open == payment_id => return Ok(vec![]),
            Some(open) => return Err(OrderError::PaymentOpen(open)),
            None => {}
        }
        if let Some((paid_with, _)) = self.payment {
            return Err(OrderError::AlreadyPaid(paid_with));
        }
        if transitions::next(kind, self.status, Step::MarkPaid).is_none() {
            return Err(OrderError::WrongState {
                kind,
                status: self.status,
                action: "be paid",
            });
        }
        Ok(vec![OrderEvent::PaymentOpened {
            payment_id,
            by: by.user_id,
        }])
    }

    pub(super) async fn slot_free(
        services: &OrderServices,
        master_id: Uuid,
        slot: &Slot,
        order_id: Uuid,
    ) -> Result<(), OrderError> {
        if services.calendar.is_free(master_id, slot, order_id).await? {
            Ok(())
        } else {
            Err(OrderError::SlotTaken)
        }
    }

    async fn place(
        &self,
        order_id: Uuid,
        customer_id: Uuid,
        details: OrderDetails,
        terms: Option<BookingTerms>,
        services: &OrderServices,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        if self.status != OrderStatus::New {
            return Err(OrderError::AlreadyPlaced);
        }
        let details = match details {
            OrderDetails::Coursework(brief) => {
                text("subject", &brief.subject, 200, "1 to 200 characters")?;
                text("type of work", &brief.work_type, 100, "1 to 100 characters")?;
                if brief.volume == 0 || brief.volume > Coursework::MAX_VOLUME {
                    return Err(OrderError::Invalid {
                        field: "volume",
                        rule: "1 to 10000",
                    });
                }
                if brief.files.len() + brief.attachments.len() > Coursework::MAX_FILES
                    || brief.max_revisions > 10
                {
                    return Err(OrderError::Invalid {
                        field: "brief",
                        rule: "at most 20 files and 10 revisions",
                    });
                }
                OrderDetails::Coursework(brief)
            }
            OrderDetails::Shop {
                lines, delivery, ..
            } => {
                if lines.is_empty() || lines.len() > 100 {
                    return Err(OrderError::Invalid {
                        field: "lines",
                        rule: "1 to 100 products",
                    });
                }
                let mut total = Money::ZERO;
                for line in &lines {
                    text("product", &line.product_id, 100, "given")?;
                    text("product name", &line.name, 200, "1 to 200 characters")?;
                    positive("unit price", line.unit_price)?;
                    if line.quantity == 0 {
                        return Err(OrderError::Invalid {
                            field: "quantity",
                            rule: "at least 1",
                        });
                    }
                    let amount =
                        line.unit_price
                            .times(line.quantity)
                            .map_err(|_| OrderError::Invalid {
                                field: "total",
                                rule: "within range",
                            })?;
                    total = total.checked_add(amount).map_err(|_| OrderError::Invalid {
                        field: "total",
                        rule: "within range",
                    })?;
                }
                text("recipient", &delivery.recipient, 200, "1 to 200 characters")?;
                text("phone", &delivery.phone, 32, "1 to 32 characters")?;
                text("address", &delivery.address, 500, "1 to 500 characters")?;
                OrderDetails::Shop {
                    lines,
                    total,
                    delivery,
                }
            }
            OrderDetails::Booking {
                service_id,
                service_name,
                master_id,
                slot,
                price,
            } => {
                text("service", &service_id, 100, "given")?;
                text("service name", &service_name, 200, "1 to 200 characters")?;
                positive("price", price)?;
                check_slot(&slot)?;
                Self::slot_free(services, master_id, &slot, order_id).await?;
                OrderDetails::Booking {
                    service_id,
                    service_name,
                    master_id,
                    slot,
                    price,
                }
            }
        };
        let terms = terms.filter(|_| details.kind() == Kind::Booking);
        if terms.is_some_and(|terms| terms.late_refund_percent > 100) {
            return Err(OrderError::Invalid {
                field: "terms",
                rule: "a refund percentage of at most 100",
            });
        }
        Ok(vec![OrderEvent::OrderPlaced {
            order_id,
            customer_id,
            details,
            terms,
        }])
    }

    async fn decide(
        &self,
        command: OrderCommand,
        services: &OrderServices,
    ) -> Result<Vec<OrderEvent>, OrderError> {
        use OrderCommand as C;
        let command = match command {
            C::Place {
                order_id,
                customer_id,
                details,
                terms,
            } => {
                return self
                    .place(order_id, customer_id, details, terms, services)
                    .await;
            }
            other => other,
        };
        let Some(kind) = self.kind() else {
            return Err(OrderError::NotPlaced);
        };
        // Repeats that change nothing.
        match &command {
            C::MarkPaid { payment_id, .. } => match self.payment {
                Some((paid_with, _)) if paid_with == *payment_id => return Ok(vec![]),
                Some((paid_with, _)) => return Err(OrderError::AlreadyPaid(paid_with)),
                None => {}
            },
            C::Cancel { .. } if self.status == OrderStatus::Cancelled => return Ok(vec![]),
            C::ReleaseUnpaidHold { at } => return self.release_unpaid_hold(*at),
            C::Review { .. } if self.reviewed => return Err(OrderError::AlreadyReviewed),
            C::RecordRefund {
                payment_id,
                refund_id,
                amount,
            } => {
                if self.refunds.contains(refund_id) {
                    return Ok(vec![]);
                }
                if self.payment.map(|(paid_with, _)| paid_with) != Some(*payment_id) {
                    return Err(OrderError::NotThisOrdersPayment(*payment_id));
                }
                return Ok(vec![OrderEvent::RefundRecorded {
                    payment_id: *payment_id,
                    refund_id: refund_id.clone(),
                    amount: *amount,
                }]);
            }
            C::OpenPayment { payment_id, by } => {
                return self.open_payment_for(kind, *payment_id, *by);
            }
            C::ReleasePayment { payment_id } => {
                return Ok(if self.open_payment == Some(*payment_id) {
                    vec![OrderEvent::PaymentReleased {
                        payment_id: *payment_id,
                    }]
                } else {
                    vec![]
                });
            }
            C::AddInternalNote { text: note, by } => {
                if !by.role.is_staff() {
                    return Err(OrderError::NotAllowed(by.role, "add internal notes"));
                }
                text("note", note, MAX_TEXT, "1 to 2,000 characters")?;
                return Ok(vec![OrderEvent::InternalNoteAdded {
                    author_id: by.user_id,
                    text: note.clone(),
                }]);
            }
            _ => {}
        }
        if let Some((step, action)) = step_of(&command)
            && transitions::next(kind, self.status, step).is_none()
        {
            return Err(OrderError::WrongState {
                kind,
                status: self.status,
                action,
            });
        }
        match command {
            C::Place { .. }
            | C::AddInternalNote { .. }
            | C::RecordRefund { .. }
            | C::OpenPayment { .. }
            | C::ReleasePayment { .. }
            | C::ReleaseUnpaidHold { .. } => Ok(vec![]),
            C::Quote { price, by } => {
                allowed(by, Action::QuoteOrder, "quote prices")?;
                positive("price", price)?;
                Ok(vec![OrderEvent::PriceQuoted {
                    price,
                    by: by.user_id,
                }])
            }
            C::AcceptQuote { by } => {
                self.customer_only(by, "accept the price")?;
                Ok(vec![OrderEvent::QuoteAccepted { by: by.user_id }])
            }
            C::MarkPaid { payment_id, amount } => {
                let expected = self.price.unwrap_or(Money::ZERO);
                if amount != expected {
                    return Err(OrderError::AmountMismatch {
                        expected,
                        paid: amount,
                    });
                }
                Ok(vec![OrderEvent::OrderPaid { payment_id, amount }])
            }
            C::AssignExecutor { executor_id, by } => {
                allowed(by, Action::AssignExecutor, "assign executors")?;
                if self.executor_id == Some(executor_id) {
                    return Ok(vec![]);
                }
                Ok(vec![OrderEvent::ExecutorAssigned {
                    executor_id,
                    taken_from_pool: false,
                    by: by.user_id,
                }])
            }
            C::TakeOrder { by } => {
                allowed(by, Action::TakeOrderFromPool, "take orders")?;
                Ok(vec![OrderEvent::ExecutorAssigned {
                    executor_id: by.user_id,
                    taken_from_pool: true,
                    by: by.user_id,
                }])
            }
            C::Start { by } => {
                self.executor_only(by, "start the work")?;
                Ok(vec![OrderEvent::WorkStarted { by: by.user_id }])
            }
            C::SubmitResult {
                files,
                attachments,
                note,
                by,
            } => {
                self.executor_only(by, "submit the result")?;
                if files.is_empty()
                    && attachments.is_empty()
                    && note.as_deref().is_none_or(|note| note.trim().is_empty())
                {
                    return Err(OrderError::Invalid {
                        field: "result",
                        rule: "at least one file or a note",
                    });
                }
                if files.len() + attachments.len() > Coursework::MAX_FILES
                    || note.as_ref().is_some_and(|n| n.chars().count() > MAX_TEXT)
                {
                    return Err(OrderError::Invalid {
                        field: "result",
                        rule: "at most 20 files and a note of 2,000 characters",
                    });
                }
                Ok(vec![OrderEvent::ResultSubmitted {
                    files,
                    attachments,
                    note,
                }])
            }
            C::Ship { tracking, by } => {
                allowed(by, Action::ShipOrder, "ship orders")?;
                text("tracking number", &tracking, 100, "1 to 100 characters")?;
                Ok(vec![OrderEvent::OrderShipped { tracking }])
            }
            C::RequestRevision { reason, by } => {
                self.customer_only(by, "ask for a revision")?;
                text("reason", &reason, MAX_TEXT, "1 to 2,000 characters")?;
                let allowed_revisions = match &self.details {
                    Some(OrderDetails::Coursework(brief)) => brief.max_revisions,
                    _ => 0,
                };
                if self.revisions_used >= allowed_revisions {
                    return Err(OrderError::NoRevisionsLeft(allowed_revisions));
                }
                Ok(vec![OrderEvent::RevisionRequested {
                    reason,
                    revision: self.revisions_used + 1,
                }])
            }
            C::Accept { by } => {
                self.customer_only(by, "accept the result")?;
                Ok(vec![OrderEvent::ResultAccepted { by: by.user_id }])
            }
            C::ConfirmDelivery { by } => {
                if !self.is_customer(by) && !is_manager(by) {
                    return Err(OrderError::NotTheCustomer("confirm the delivery"));
                }
                Ok(vec![OrderEvent::DeliveryConfirmed { by: by.user_id }])
            }
            C::Complete { by } => {
                if !is_manager(by) && !self.is_master(by) {
                    return Err(OrderError::NotAllowed(by.role, "complete orders"));
                }
                Ok(vec![OrderEvent::OrderCompleted { by: by.user_id }])
            }
            C::Cancel {
                reason,
                refund,
                by,
                at,
            } => self.cancel(reason, refund, by, at),
            C::Reschedule {
                slot,
                by,
                at,
                reason,
            } => self.reschedule(slot, by, at, reason, services).await,
            C::MarkNoShow { at, by } => {
                if !is_manager(by) && !self.is_master(by) {
                    return Err(OrderError::NotAllowed(by.role, "mark no-shows"));
                }
                if self.booking().is_some_and(|(_, slot)| at < slot.start) {
                    return Err(OrderError::SlotNotStarted);
                }
                Ok(vec![OrderEvent::NoShowMarked { by: by.user_id }])
            }
            C::Review {
                stars,
                text: review,
                by,
            } => {
                self.customer_only(by, "review the order")?;
                if !(1..=5).contains(&stars) {
                    return Err(OrderError::Invalid {
                        field: "rating",
                        rule: "1 to 5 stars",
                    });
                }
                if review
                    .as_ref()
                    .is_some_and(|t| t.chars().count() > MAX_TEXT)
                {
                    return Err(OrderError::Invalid {
                        field: "review",
                        rule: "at most 2,000 characters",
                    });
                }
                Ok(vec![OrderEvent::OrderReviewed {
                    stars,
                    text: review,
                }])
            }
        }
    }
}

/// The state-machine step a command takes, and how a refusal words it; `None` for
/// commands outside the machine (placing, internal notes).
fn step_of(command: &OrderCommand) -> Option<(Step, &'static str)> {
    use OrderCommand as C;
    Some(match command {
        C::Quote { .. } => (Step::Quote, "be quoted"),
        C::AcceptQuote { .. } => (Step::AcceptQuote, "have its price accepted"),
        C::MarkPaid { .. } => (Step::MarkPaid, "be paid"),
        C::AssignExecutor { .. } => (Step::AssignExecutor, "be assigned"),
        C::TakeOrder { .. } => (Step::TakeOrder, "be taken"),
        C::Start { .. } => (Step::Start, "be started"),
        C::SubmitResult { .. } => (Step::SubmitResult, "take a result"),
        C::Ship { .. } => (Step::Ship, "be shipped"),
        C::RequestRevision { .. } => (Step::RequestRevision, "go back for revision"),
        C::Accept { .. } => (Step::Accept, "be accepted"),
        C::ConfirmDelivery { .. } => (Step::ConfirmDelivery, "be confirmed as delivered"),
        C::Complete { .. } => (Step::Complete, "be completed"),
        C::Cancel { .. } => (Step::Cancel, "be cancelled"),
        C::Reschedule { .. } => (Step::Reschedule, "be rescheduled"),
        C::MarkNoShow { .. } => (Step::MarkNoShow, "be marked as a no-show"),
        C::Review { .. } => (Step::Review, "be reviewed"),
        C::Place { .. }
        | C::AddInternalNote { .. }
        | C::RecordRefund { .. }
        | C::OpenPayment { .. }
        | C::ReleasePayment { .. }
        | C::ReleaseUnpaidHold { .. } => return None,
    })
}

impl Aggregate for Order {
    const TYPE: &'static str = "Order";
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Error = OrderError;
    type Services = OrderServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services).await? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use OrderEvent as E;
        let kind = self.kind();
        let step_to = |step: Step, status: OrderStatus| {
            kind.and_then(|kind| transitions::next(kind, status, step))
                .unwrap_or(status)
        };
        match event {
            E::OrderPlaced {
                order_id,
                customer_id,
                details,
                terms,
            } => {
                self.status = match details.kind() {
                    Kind::Coursework => OrderStatus::Placed,
                    Kind::Shop => OrderStatus::AwaitingPayment,
                    Kind::Booking => OrderStatus::Booked,
                };
                self.price = match &details {
                    OrderDetails::Coursework(_) => None,
                    OrderDetails::Shop { total, .. } => Some(*total),
                    OrderDetails::Booking { price, .. } => Some(*price),
                };
                self.order_id = Some(order_id);
                self.customer_id = Some(customer_id);
                self.details = Some(details);
                self.terms = terms;
            }
            E::PriceQuoted { price, .. } => {
                self.price = Some(price);
                self.status = OrderStatus::Quoted;
            }
            E::QuoteAccepted { .. } => self.status = step_to(Step::AcceptQuote, self.status),
            E::OrderPaid { payment_id, amount } => {
                self.payment = Some((payment_id, amount));
                self.open_payment = None;
                self.status = step_to(Step::MarkPaid, self.status);
            }
            E::ExecutorAssigned { executor_id, .. } => {
                self.executor_id = Some(executor_id);
                self.status = OrderStatus::Assigned;
            }
            E::WorkStarted { .. } => self.status = OrderStatus::InProgress,
            E::ResultSubmitted { .. } => self.status = OrderStatus::Submitted,
            E::RevisionRequested { revision, .. } => {
                self.revisions_used = revision;
                self.status = OrderStatus::RevisionRequested;
            }
            E::ResultAccepted { .. } => self.status = OrderStatus::Accepted,
            E::OrderShipped { .. } => self.status = OrderStatus::Shipped,
            E::DeliveryConfirmed { .. } => self.status = OrderStatus::Delivered,
            E::OrderCompleted { .. } => self.status = OrderStatus::Completed,
            E::OrderCancelled { .. } => self.status = OrderStatus::Cancelled,
            E::BookingRescheduled { to, late, .. } => {
                if let Some(OrderDetails::Booking { slot, .. }) = &mut self.details {
                    *slot = to;
                }
                self.moved_late |= late;
            }
            E::NoShowMarked { .. } => self.status = OrderStatus::NoShow,
            E::OrderReviewed { .. } => self.reviewed = true,
            E::InternalNoteAdded { .. } => {}
            E::RefundRecorded {
                refund_id, amount, ..
            } => {
                if self.refunds.insert(refund_id) {
                    self.refunded = self.refunded.checked_add(amount).unwrap_or(self.refunded);
                }
            }
            E::PaymentOpened { payment_id, .. } => self.open_payment = Some(payment_id),
            E::PaymentReleased { payment_id } => {
                if self.open_payment == Some(payment_id) {
                    self.open_payment = None;
                }
                self.released_payments.insert(payment_id);
            }
        }
    }
}
