//! User: a Telegram user in the system, with a role, consent, a block flag and a
//! referrer.
//!
//! Invariants: registered once per aggregate; only admins change roles and only an
//! owner makes or unmakes an admin or an owner; only an owner blocks an admin or an
//! owner; a referrer is linked once and is never the user themself.

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{User, referral_code_for};
pub use commands::{Profile, UserCommand};
pub use error::UserError;
pub use events::UserEvent;

#[cfg(test)]
mod tests;
