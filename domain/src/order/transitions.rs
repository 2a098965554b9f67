//! The order state machine as data: for each command, the states it is allowed in
//! per kind of order, and the state it leads to. `Order::handle` consults this
//! table before anything else, so a command in the wrong state is always refused
//! with the current state named.

use super::{Kind, OrderStatus};

/// The commands that move or depend on an order's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Quote,
    AcceptQuote,
    MarkPaid,
    AssignExecutor,
    TakeOrder,
    Start,
    SubmitResult,
    Ship,
    RequestRevision,
    Accept,
    ConfirmDelivery,
    Complete,
    Cancel,
    Reschedule,
    MarkNoShow,
    Review,
}

impl Step {
    /// The step as the entry points name it (`POST /orders/{id}/{action}`, the
    /// bot's buttons); [`Step::MarkPaid`] is `pay`: the customer starts a payment.
    pub fn action_name(self) -> &'static str {
        match self {
            Step::Quote => "quote",
            Step::AcceptQuote => "accept-quote",
            Step::MarkPaid => "pay",
            Step::AssignExecutor => "assign",
            Step::TakeOrder => "take",
            Step::Start => "start",
            Step::SubmitResult => "submit",
            Step::Ship => "ship",
            Step::RequestRevision => "request-revision",
            Step::Accept => "accept",
            Step::ConfirmDelivery => "confirm-delivery",
            Step::Complete => "complete",
            Step::Cancel => "cancel",
            Step::Reschedule => "reschedule",
            Step::MarkNoShow => "no-show",
            Step::Review => "review",
        }
    }
}

/// `Some(next state)` when `step` is allowed for an order of `kind` in `from`.
pub fn next(kind: Kind, from: OrderStatus, step: Step) -> Option<OrderStatus> {
    use Kind::*;
    use OrderStatus::*;
    use Step as S;
    let to = match (kind, step, from) {
        (Coursework, S::Quote, Placed | Quoted) => Quoted,
        (Coursework, S::AcceptQuote, Quoted) => AwaitingPayment,
        (Coursework | Shop, S::MarkPaid, AwaitingPayment) => Paid,
        (Booking, S::MarkPaid, Booked) => Booked,
        (Coursework, S::AssignExecutor, Paid | Assigned) => Assigned,
        (Coursework, S::TakeOrder, Paid) => Assigned,
        (Coursework, S::Start, Assigned | RevisionRequested) => InProgress,
        (Coursework, S::SubmitResult, InProgress) => Submitted,
        (Coursework, S::RequestRevision, Submitted) => RevisionRequested,
        (Coursework, S::Accept, Submitted) => Accepted,
        (Coursework, S::Complete, Accepted) => Completed,
        (Shop, S::Ship, Paid) => Shipped,
        (Shop, S::ConfirmDelivery, Shipped) => Delivered,
        (Shop, S::Complete, Delivered) => Completed,
        (Booking, S::Reschedule, Booked) => Booked,
        (Booking, S::MarkNoShow, Booked) => NoShow,
        (Booking, S::Complete, Booked) => Completed,
        (_, S::Review, Completed) => Completed,
        (
            _,
            S::Cancel,
            Placed | Quoted | AwaitingPayment | Paid | Assigned | InProgress | Submitted
            | RevisionRequested | Booked,
        ) => Cancelled,
        _ => return None,
    };
    Some(to)
}
