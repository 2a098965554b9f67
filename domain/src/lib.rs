//! Ledgerbot's domain: the aggregates, their commands, events and invariants, and the
//! Postgres event store they are kept in.
//!
//! Today this crate holds the event store's plumbing ([`event_store`]): connecting to
//! Postgres, creating the database on first start, and applying the schema migrations
//! that define the append-only `events` table and its outbox.

pub mod command;
pub mod credit;
pub mod event_store;
pub mod money;
pub mod order;
pub mod payment;
pub mod permissions;
pub mod ticket;
pub mod user;
