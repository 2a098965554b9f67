//! Who may see an order (and so act on it or read it): one rule for the write side
//! (from the aggregate) and the read side (from a read-model row).

use uuid::Uuid;

use super::transitions::{Step, next};
use super::{Kind, OrderStatus};
use crate::permissions::{Action, Caller};

/// The people of an order, and whether the pool offers it to executors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderParties {
    pub customer_id: Uuid,
    pub executor_id: Option<Uuid>,
    /// The master of a booking.
    pub master_id: Option<Uuid>,
    /// Paid coursework nobody has taken yet.
    pub in_pool: bool,
}

impl OrderParties {
    /// Whether `caller` works on the order (its executor or its booking's master).
    pub fn works_on(&self, caller: Caller) -> bool {
        self.executor_id == Some(caller.user_id) || self.master_id == Some(caller.user_id)
    }

    /// Its parties, the desk and managers, and executors the pool offers it to. Others
    /// are told there is no such order, so ids of others' orders are not confirmed.
    pub fn visible_to(&self, caller: Caller) -> bool {
        self.customer_id == caller.user_id
            || self.works_on(caller)
            || caller.may(Action::ViewAllOrders)
            || (self.in_pool && caller.may(Action::TakeOrderFromPool))
    }

    /// Internal notes: for the desk and managers, and staff who work on the order.
    pub fn shows_internal_notes(&self, caller: Caller) -> bool {
        caller.may(Action::ViewAllOrders) || (self.works_on(caller) && caller.role.is_staff())
    }
}

/// The steps an entry point offers `caller` on an order (`kind`, in `status`), in
/// the order a customer meets them: each allowed by the state machine and taken by
/// the one the aggregate lets take it. [`Step::MarkPaid`] here means "pay": the
/// customer may start a payment. The aggregate still decides when the step is taken.
pub fn offered_steps(
    caller: Caller,
    parties: &OrderParties,
    kind: Kind,
    status: OrderStatus,
) -> Vec<Step> {
    let customer = parties.customer_id == caller.user_id;
    let executor = parties.executor_id == Some(caller.user_id);
    let master = kind == Kind::Booking && parties.master_id == Some(caller.user_id);
    let takes = |step: Step| match step {
        Step::Quote => caller.may(Action::QuoteOrder),
        Step::AcceptQuote | Step::MarkPaid => customer,
        Step::AssignExecutor => caller.may(Action::AssignExecutor),
        Step::TakeOrder => parties.in_pool && caller.may(Action::TakeOrderFromPool),
        Step::Start | Step::SubmitResult => executor,
        Step::RequestRevision | Step::Accept | Step::Review => customer,
        Step::Ship => caller.may(Action::ShipOrder),
        Step::ConfirmDelivery => customer,
        Step::Complete | Step::MarkNoShow => master,
        Step::Reschedule => customer && kind == Kind::Booking,
        Step::Cancel => customer && caller.may(Action::CancelOwnOrder),
    };
    [
        Step::Quote,
        Step::AcceptQuote,
        Step::MarkPaid,
        Step::AssignExecutor,
        Step::TakeOrder,
        Step::Start,
        Step::SubmitResult,
        Step::Ship,
        Step::ConfirmDelivery,
        Step::Accept,
        Step::RequestRevision,
        Step::Complete,
        Step::MarkNoShow,
        Step::Review,
        Step::Reschedule,
        Step::Cancel,
    ]
    .into_iter()
    .filter(|step| next(kind, status, *step).is_some() && takes(*step))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::Role;

    fn parties(customer: Uuid, in_pool: bool) -> OrderParties {
        OrderParties {
            customer_id: customer,
            executor_id: None,
            master_id: None,
            in_pool,
        }
    }

    #[test]
    fn a_paid_coursework_is_offered_for_assigning_to_managers_only() {
        let customer = Uuid::now_v7();
        let paid = parties(customer, true);
        let as_role = |role| Caller::new(Uuid::now_v7(), role);
        let steps = |caller, kind, status| offered_steps(caller, &paid, kind, status);
        for role in [Role::Admin, Role::Owner] {
            let offered = steps(as_role(role), Kind::Coursework, OrderStatus::Paid);
            assert!(
                offered.contains(&Step::AssignExecutor),
                "{role:?}: {offered:?}"
            );
        }
        for role in [Role::Support, Role::Executor, Role::Client] {
            let offered = steps(as_role(role), Kind::Coursework, OrderStatus::Paid);
            assert!(
                !offered.contains(&Step::AssignExecutor),
                "{role:?}: {offered:?}"
            );
        }
        assert_eq!(
            steps(as_role(Role::Executor), Kind::Coursework, OrderStatus::Paid),
            [Step::TakeOrder],
            "an executor takes from the pool"
        );
        let booked = steps(as_role(Role::Admin), Kind::Booking, OrderStatus::Booked);
        assert!(!booked.contains(&Step::AssignExecutor), "{booked:?}");
        let placed = steps(as_role(Role::Admin), Kind::Coursework, OrderStatus::Placed);
        assert_eq!(placed, [Step::Quote], "not before it is paid");
    }
}
