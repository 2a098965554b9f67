//! The Postgres event store: connection, first-start database creation, migrations.
//!
//! The schema lives in the top-level `migrations/` folder and is embedded into the
//! binary at compile time. See `ARCHITECTURE.md` for the invariants it enforces.

mod database;
mod failures;
mod migrations;

pub use database::{DatabaseError, connect, connect_creating_database, redact_url};
pub use failures::{is_connection_lost, is_transient};
pub use migrations::{MIGRATOR, MigrationError, migrate};
