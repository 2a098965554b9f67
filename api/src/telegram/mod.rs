//! What the API knows of Telegram: checking Mini App `initData`, and the bot's
//! webhook.

pub mod init_data;
pub mod webhook;
