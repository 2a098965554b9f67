//! What the API knows of Telegram: checking Mini App `initData`, and the bot's
//! webhook.

pub mod init_data;
#[cfg(test)]
mod init_data_props;
pub mod webhook;
