//! Commands done once under a key. An entry point that may handle the same input
//! again (the bot an update whose handling an outage cut short after a command had
//! committed) runs the handling inside [`once_under`] with a key of that input.
//! Every command the handling runs then records `<key>/<command>#<n>` in its events'
//! metadata (`command_key`; `n` counts that command on that aggregate within the
//! run, so a second, deliberate one is not mistaken for a repeat), and a command
//! whose aggregate already holds an event recorded under the same key is not run
//! again: it answers as an idempotent repeat does (no events, the aggregate's
//! sequence). A command's name is its variant as `Debug` spells it (every command
//! enum derives it); one without a name runs unkeyed.
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

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;

use chrono::{DateTime, Utc};
use ring::digest;
use sqlx::PgPool;
use uuid::{Builder, Uuid};

struct Scope {
    key: String,
    /// When the input arrived: the time in the ids made under the key.
    at: DateTime<Utc>,
    /// How many ids were made under the key so far in this run.
    made: Cell<u32>,
    /// How many times each command ran on each aggregate so far in this run.
    ran: RefCell<HashMap<String, u32>>,
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
        ran: RefCell::new(HashMap::new()),
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

/// The key of `command` on `aggregate_type` `aggregate_id` under the current
/// [`once_under`], if any: `<key>/<command variant>#<n>`, the n-th such command in
/// this run. Called once per command (not per attempt).
pub(crate) fn key_of(
    aggregate_type: &str,
    aggregate_id: &str,
    command: &impl Debug,
) -> Option<String> {
    COMMAND_KEY
        .try_with(|scope| {
            let name = variant_name(command);
            let name = name.as_str();
            if name.is_empty() {
                return None;
            }
            let mut ran = scope.ran.borrow_mut();
            let n = ran
                .entry(format!("{aggregate_type}/{aggregate_id}/{name}"))
                .or_insert(0);
            let key = format!("{}/{name}#{n}", scope.key);
            *n += 1;
            Some(key)
        })
        .ok()
        .flatten()
}

/// The variant's name as `Debug` spells it (what comes before its fields), read
/// without formatting the rest of the command.
fn variant_name(command: &impl Debug) -> String {
    use std::fmt::Write;

    /// Takes characters until the name ends, then stops the formatting.
    struct NameOnly(String);
    impl Write for NameOnly {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            for c in text.chars() {
                if !(c.is_alphanumeric() || c == '_') {
                    return Err(std::fmt::Error);
                }
                self.0.push(c);
            }
            Ok(())
        }
    }
    let mut name = NameOnly(String::new());
    // Stopping early is the point: the error only says the name ended.
    let _ = write!(name, "{command:?}");
    name.0
}

/// The last sequence of the events recorded under `key` on the aggregate, if it has
/// any (the events' primary key narrows the search to the aggregate's own events).
pub(crate) async fn done_under(
    pool: &PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    key: &str,
) -> Result<Option<usize>, sqlx::Error> {
    let done: Option<i64> = sqlx::query_scalar(
        "SELECT max(sequence) FROM events \
         WHERE aggregate_type = $1 AND aggregate_id = $2 AND metadata->>'command_key' = $3",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(key)
    .fetch_one(pool)
    .await?;
    Ok(done.and_then(|sequence| usize::try_from(sequence).ok()))
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
    async fn a_key_names_the_input_the_command_and_its_count() {
        assert_eq!(
            key_of("Ticket", "a", &Command::Close),
            None,
            "outside once_under"
        );
        let keys = once_under("telegram:7".to_owned(), Utc::now(), async {
            [
                key_of(
                    "Ticket",
                    "a",
                    &Command::Post {
                        text: "a {brace}".to_owned(),
                    },
                ),
                key_of("Ticket", "a", &Command::Close),
                key_of("Ticket", "a", &Command::Close),
                key_of("Ticket", "b", &Command::Close),
            ]
        })
        .await;
        assert_eq!(
            keys.map(Option::unwrap_or_default),
            [
                "telegram:7/Post#0",
                "telegram:7/Close#0",
                "telegram:7/Close#1",
                "telegram:7/Close#0"
            ]
        );
    }
}
