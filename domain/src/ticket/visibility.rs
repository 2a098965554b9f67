//! Who may see a ticket and its internal notes: one rule for the write side (from the
//! aggregate) and the read side (from a read-model row).

use uuid::Uuid;

use crate::permissions::{Action, Caller};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketParties {
    pub customer_id: Uuid,
    pub assignee_id: Option<Uuid>,
}

impl TicketParties {
    /// Its customer and the support desk. Others are told there is no such ticket.
    pub fn visible_to(&self, caller: Caller) -> bool {
        self.customer_id == caller.user_id || caller.may(Action::ViewAllTickets)
    }

    /// Internal notes: the desk, and staff the ticket is assigned to.
    pub fn shows_internal_notes(&self, caller: Caller) -> bool {
        caller.may(Action::ViewAllTickets)
            || (caller.role.is_staff() && self.assignee_id == Some(caller.user_id))
    }
}
