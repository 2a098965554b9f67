//! Ledgerbot's domain: the aggregates (Order, Payment, CreditAccount, Ticket, User),
//! their commands, events and invariants; money and NPD tax arithmetic; the one
//! permission table; the command service that runs commands against the Postgres
//! event store; and the event store's plumbing (connection, database creation,
//! migrations).
//!
//! No aggregate does I/O in `handle` or `apply`: outside facts come through each
//! aggregate's `Services` (today only the order's slot calendar). The [`use_cases`]
//! are the write side every entry point calls (sign-in, placing, paying, refunds,
//! role changes …), with ports for outside services; they read no read model.

pub mod backoff;
pub mod catalogue;
pub mod command;
pub mod credit;
pub mod event_store;
pub mod files;
pub mod generation;
pub mod money;
pub mod order;
pub mod owner_grant;
pub mod payment;
pub mod permissions;
pub mod programs;
pub mod ticket;
pub mod ticket_category;
pub mod use_cases;
pub mod user;
pub mod wire;
