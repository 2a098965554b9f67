//! TicketCategory: the topics a customer picks when opening a ticket ("Payments",
//! "Orders", …), managed by admins. The aggregate id is the category's code, which
//! tickets store.
//!
//! Invariants: the code is 1–32 lowercase letters, digits, `_` or `-`; a name of 1–64
//! characters; an icon of at most 8 characters; a colour `#RRGGBB`; only admins and
//! owners create, change or delete; a deleted category can be created again (tickets
//! that name it keep the code).

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{TicketCategory, valid_code};
pub use commands::{CategoryChange, CategoryCommand};
pub use error::CategoryError;
pub use events::{CategoryEvent, CategoryLook};

#[cfg(test)]
mod tests;
