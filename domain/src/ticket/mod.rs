//! Ticket: the support desk, and the support chat of the other businesses.
//!
//! Invariants: title ≤ 200 and description ≤ 2,000 characters, messages ≤ 4,000;
//! internal notes only from staff; a client writes only on their own ticket; no new
//! messages on a closed ticket until it is reopened; a message is edited only by its
//! author within 15 minutes; status moves only along the listed transitions; support
//! is rated once, by the customer, after resolution; only the desk assigns, moves
//! statuses and priorities, and closes (the commands carry who asks).

mod aggregate;
mod commands;
mod error;
mod events;
mod visibility;

pub use aggregate::{EDIT_WINDOW, Ticket};
pub use commands::TicketCommand;
pub use error::TicketError;
pub use events::{Attachment, Priority, TicketEvent, TicketStatus};
pub use visibility::TicketParties;

#[cfg(test)]
mod tests;
