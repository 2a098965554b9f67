//! The Telegram bot: an entry point like the HTTP API. Its handlers translate an
//! update into one call of a use case (`domain::use_cases::Core`) or a query
//! (`projections::ReadModels`) and the answer into a message; it holds no business
//! rule and never depends on the `api` crate.
//!
//! - `inbox.rs`: every update is stored in `bot_updates` before Telegram is told it
//!   arrived (the next getUpdates offset), then handled from there, so a crash loses
//!   none; `polling.rs` fetches them; `runner.rs` handles what is stored, each chat's
//!   updates in order, chats side by side, through the dptree schema in `handlers/`;
//!   `webhook.rs` is the other way in: the API's router stores what Telegram posts.
//! - `dialogue.rs`: where each chat is in a dialogue, in Postgres.
//! - `outgoing.rs`: every message sent, paced within Telegram's limits, with 429s
//!   waited out and chats that blocked the bot remembered.
//! - `broadcaster.rs`: sends confirmed broadcasts, at most once per recipient,
//!   resumable, ending with a report.
//! - `topics.rs`: a forum topic per ticket in the staff group, both ways.
//! - `sender.rs`: delivers the notifications read model once each (`notices.rs`
//!   renders them); `texts.rs`: every text the bot says, in Russian and English;
//!   `html.rs`: escaping for Telegram's HTML parse mode.

mod broadcaster;
mod callback;
mod dialogue;
mod handlers;
pub mod html;
pub mod inbox;
mod notices;
mod outgoing;
mod pacer;
mod polling;
mod runner;
mod sender;
mod settings;
mod texts;
mod topics;
pub mod webhook;

pub use runner::{BotError, run};
pub use settings::BotSettings;
pub use texts::Lang;
pub use webhook::{Webhook, WebhookError};
