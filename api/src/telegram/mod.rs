//! What the API knows of Telegram: checking Mini App `initData`.

pub mod init_data;
