//! The use cases: everything that changes state, written once below every entry
//! point (the HTTP API, the bot, the command line). An entry point turns its input
//! into a call here and the answer into its own form; the rules live here and in the
//! aggregates.
//!
//! A use case checks the caller's permission, validates and prices its input from
//! configuration (never from the client), runs the commands, and returns what it
//! wrote ([`Written`]: the aggregate and sequence a read must wait for). Its errors
//! are [`CommandError`]s (kind, message, the field at fault, a stable code) or its
//! own enum where the outcomes are its own (login codes). Outside services sit behind
//! ports ([`payments::PaymentProvider`]); the composition root injects them. A use
//! case reads no read model: rules that span aggregates are decided by aggregates or
//! by the store (`migrations/*_write_side_guards.sql`).

pub mod applications;
pub mod assistant;
pub mod broadcasts;
pub mod cart;
pub mod consent;
pub mod credits;
pub mod faq;
pub mod files;
pub mod generation;
pub mod identity;
pub mod login_codes;
pub mod order_actions;
pub mod owners;
pub mod payments;
pub mod placing;
pub mod reviews;
pub mod ticket_categories;
pub mod tickets;
pub mod users;

use std::sync::Arc;

use sqlx::PgPool;

pub use crate::catalogue::Offer;
use crate::command::{CommandError, Commands};
use payments::{PaymentProvider, PaymentRules};

/// The write side every entry point shares: the command services, the write-side
/// tables (identities, login codes, payment requests) and the outside services.
pub struct Core {
    pub commands: Arc<Commands>,
    pool: PgPool,
    pub offer: Offer,
    payments: Arc<dyn PaymentProvider>,
    pub payment_rules: PaymentRules,
    pub files: files::Files,
    pub ai: generation::Ai,
}

impl Core {
    pub fn new(
        pool: PgPool,
        commands: Arc<Commands>,
        offer: Offer,
        payments: Arc<dyn PaymentProvider>,
        payment_rules: PaymentRules,
        files: files::Files,
        ai: generation::Ai,
    ) -> Self {
        Self {
            commands,
            pool,
            offer,
            payments,
            payment_rules,
            files,
            ai,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// What a use case wrote: the aggregate and its sequence after the write, so an
/// entry point can wait until the read model it answers from shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub aggregate_id: String,
    pub sequence: usize,
}

impl Written {
    pub fn new(aggregate_id: impl Into<String>, sequence: usize) -> Self {
        Self {
            aggregate_id: aggregate_id.into(),
            sequence,
        }
    }
}

/// `Ok` when `text` (trimmed) has 1 to `max` characters, else bad input in `field`.
pub(crate) fn text_within(
    field: &str,
    text: &str,
    max: usize,
    message: &str,
) -> Result<(), CommandError> {
    let length = text.trim().chars().count();
    if length == 0 || text.chars().count() > max {
        return Err(CommandError::invalid(field, message));
    }
    Ok(())
}
