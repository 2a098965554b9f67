//! Live updates over WebSocket (`GET /api/v1/ws`).
//!
//! The `live_updates` projection writes one row per event a client should hear
//! about, with a position that only grows in commit order and the people who may see
//! it. Here:
//! - `projections::read_models::live_updates::feed` reads those rows for one
//!   connection's audience;
//! - [`hub`] is one watcher per process: woken by the table's NOTIFY, it reads new
//!   rows once, waits until the read model a client would re-read has applied each
//!   one, and hands each to the connections that hear it ([`routes`]);
//! - [`access`] reads, for all connected users at once, whether they are still
//!   allowed in and in which role;
//! - [`socket`] is one connection: it replays what came after the position the
//!   client last saw, then forwards the hub's rows that concern its user.

pub mod access;
pub mod hub;
pub mod routes;
pub mod socket;

pub use hub::LiveHub;
