//! The Telegram bot (teloxide): handlers, keyboards, dialogues and the notification
//! sender. Customers and staff work through it; it issues domain commands and reads
//! read models. Its code arrives with the bot issue; the crate is here so the
//! workspace's dependency graph (`api` → `bot` → `domain`, `projections`) is fixed.
