//! Commands done once under a key. An entry point that may handle the same input
//! again (the bot an update whose handling an outage cut short after a command had
//! committed) runs the handling inside [`once_under`] with a key of that input.
//! Every command the handling runs then records `<key>/<command>` in its events'
//! metadata (`command_key`), and a command whose aggregate already holds an event
//! recorded under the same key and command is not run again: it answers as an
//! idempotent repeat does (no events, the aggregate's sequence).
//!
//! The check is made after the aggregate's state was read and before its events
//! are appended, so a first run that commits meanwhile makes the repeat's append
//! conflict, and the repeat, run again, finds it. The key is in a task-local
//! (inherited by nothing spawned), so the use cases' signatures stay as they are.
//!
//! A use case that creates an aggregate (an order, a ticket) or a row names it with
//! [`new_id`]: under a key the n-th new id is the same on every run (a UUID v7 with
//! the input's arrival time and bits from the key), so a repeat finds the aggregate
//! the first run created instead of creating a second.

use std::cell::Cell;
use std::fmt::Debug;
use std::future::Future;

use chrono::{DateTime, Utc};
use ring::digest;
use uuid::{Builder, Uuid};

struct Scope {
    key: String,
    /// When the input arrived: the time in the ids made under the key.
    at: DateTime<Utc>,
    /// How many ids were made under the key so far in this run.
    made: Cell<u32>,
}

tokio::task_local! {
    static COMMAND_KEY: Scope;
}

/// Runs `work` with every command in it done once under `key`, the key of an input
/// that arrived `at` (the same on every run of that input).
pub async fn once_under<F: Future>(key: String, at: DateTime<Utc>, work: F) -> F::Output {
    let scope = Scope {
        key,
        at,
        made: Cell::new(0),
    };
    COMMAND_KEY.scope(scope, work).await
}

/// A new UUID v7 for something a use case creates: under [`once_under`] the same on
/// every run of the input, the n-th call giving the n-th id; random otherwise.
pub fn new_id() -> Uuid {
    COMMAND_KEY
        .try_with(|scope| {
            let n = scope.made.get();
            scope.made.set(n + 1);
            let mut context = digest::Context::new(&digest::SHA256);
            context.update(scope.key.as_bytes());
            context.update(&n.to_be_bytes());
            let bits = context.finish();
            let mut random = [0_u8; 10];
            random.copy_from_slice(&bits.as_ref()[..10]);
            let millis = u64::try_from(scope.at.timestamp_millis()).unwrap_or_default();
            Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
        })
        .unwrap_or_else(|_| Uuid::now_v7())
}

/// The key of `command` under the current [`once_under`], if any:
/// `<key>/<command variant>`.
pub(crate) fn key_of(command: &impl Debug) -> Option<String> {
    COMMAND_KEY
        .try_with(|scope| {
            let key = &scope.key;
            let shown = format!("{command:?}");
            let name = shown
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default();
            format!("{key}/{name}")
        })
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    #[allow(dead_code)]
    enum Command {
        Post { text: String },
        Close,
    }

    #[tokio::test]
    async fn ids_under_a_key_are_the_same_on_every_run_and_v7() {
        let at = Utc::now();
        let run = || once_under("telegram:8".to_owned(), at, async { (new_id(), new_id()) });
        let (first, second) = run().await;
        assert_eq!(run().await, (first, second), "the same ids again");
        assert_ne!(first, second, "the n-th call, the n-th id");
        assert_eq!(first.get_version_num(), 7);
        let (seconds, _) = first.get_timestamp().expect("a time").to_unix();
        assert_eq!(seconds as i64, at.timestamp());
        let other = once_under("telegram:9".to_owned(), at, async { new_id() }).await;
        assert_ne!(other, first, "another input, other ids");
        assert_ne!(new_id(), new_id(), "random outside a key");
    }

    #[tokio::test]
    async fn a_key_names_the_input_and_the_command() {
        assert_eq!(key_of(&Command::Close), None, "outside once_under");
        let keys = once_under("telegram:7".to_owned(), Utc::now(), async {
            (
                key_of(&Command::Post {
                    text: "a {brace}".to_owned(),
                }),
                key_of(&Command::Close),
            )
        })
        .await;
        assert_eq!(
            keys,
            (
                Some("telegram:7/Post".to_owned()),
                Some("telegram:7/Close".to_owned())
            )
        );
    }
}
