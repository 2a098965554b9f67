//! Waiting for what the bot sent: a number of messages to a chat, one containing a
//! text (or its nth), a number of calls of a method; each gives up after a limit
//! with what did come.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::{Call, FakeTelegram};

impl FakeTelegram {
    /// Waits until `chat` got `count` messages; them.
    pub async fn wait_for_texts(&self, chat: i64, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let texts = self.texts_to(chat);
            if texts.len() >= count || Instant::now() > deadline {
                assert!(
                    texts.len() >= count,
                    "chat {chat} got {} messages, not {count}: {texts:#?}",
                    texts.len()
                );
                return texts;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `chat` got a message containing `needle`; that message.
    pub async fn wait_for_text(&self, chat: i64, needle: &str) -> Value {
        self.wait_for_text_within(chat, needle, Duration::from_secs(20))
            .await
    }

    /// [`Self::wait_for_text`], waiting at most `limit`.
    pub async fn wait_for_text_within(&self, chat: i64, needle: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let texts = self.texts_to(chat);
            let found = texts.iter().find(|text| {
                text["text"]
                    .as_str()
                    .is_some_and(|text| text.contains(needle))
            });
            if let Some(found) = found {
                return found.clone();
            }
            assert!(
                Instant::now() < deadline,
                "chat {chat} got no message with {needle:?}: {texts:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `chat` got `n` messages containing `needle`; the `n`th.
    pub async fn wait_for_nth_text(&self, chat: i64, needle: &str, n: usize) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut found: Vec<Value> = self
                .texts_to(chat)
                .into_iter()
                .filter(|text| {
                    text["text"]
                        .as_str()
                        .is_some_and(|text| text.contains(needle))
                })
                .collect();
            if found.len() >= n {
                return found.swap_remove(n - 1);
            }
            assert!(
                Instant::now() < deadline,
                "chat {chat} got {} messages with {needle:?}, not {n}",
                found.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `method` was called `count` times.
    pub async fn wait_for_calls(&self, method: &str, count: usize) -> Vec<Call> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let calls = self.calls(method);
            if calls.len() >= count || Instant::now() > deadline {
                assert!(
                    calls.len() >= count,
                    "{method} was called {} times, not {count}",
                    calls.len()
                );
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
