//! Executing commands: who asks (the [`CommandContext`], stored as every event's
//! metadata), the [`CommandService`] that loads an aggregate from the Postgres event
//! store, runs a command and commits its events, and the one small error enum every
//! entry point turns into an HTTP status or a bot reply.

mod append;
mod context;
mod error;
pub mod inline;
mod once;
mod registry;
mod service;
mod stored_text;

pub use context::{Actor, CommandContext};
pub use error::{CommandError, ErrorKind, Refusal, Targeted};
pub use once::{new_id, once_under};
pub use registry::Commands;
pub use service::{CommandService, Committed, DEFAULT_CACHE_CAPACITY};
