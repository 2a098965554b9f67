//! OwnerGrant: the owner role promised to a Telegram account before (or after) its
//! first sign-in — how a new deployment gets its first owner
//! (`ledgerbot owner grant <telegram-id> --reason …`, or `LEDGERBOT_OWNER_TELEGRAM_IDS`).
//! The aggregate id is the Telegram id. The grant takes effect on the account's user
//! at their first sign-in or `/start` (or at once when they are known), as a
//! `RoleChanged` by the system caused by the grant, and is then marked applied.
//!
//! Invariants: a reason of 1–500 characters; granting again changes nothing; a grant
//! applies to the one user of its Telegram account.

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::OwnerGrant;
pub use commands::OwnerGrantCommand;
pub use error::OwnerGrantError;
pub use events::OwnerGrantEvent;

#[cfg(test)]
mod tests;
