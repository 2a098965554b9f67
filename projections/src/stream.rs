//! The JetStream stream that carries every event: `LEDGER_EVENTS` by default.

use std::fmt::Write as _;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};

/// The smallest duplicate window we accept: a relay that dies and is replaced must
/// be able to re-publish its unacknowledged tail inside it.
pub const MIN_DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Where events are published: the stream's name and the subject prefix.
///
/// Tests give every test its own name and prefix so they can run side by side on
/// one NATS server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    pub name: String,
    pub subject_prefix: String,
    pub duplicate_window: Duration,
    /// Copies of the stream a NATS cluster keeps (1 on a single server; 3 on a
    /// cluster of three). Applied on every start, so it is where replicas are set.
    pub replicas: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot create or update the JetStream stream {name:?}: {source}")]
pub struct StreamError {
    pub name: String,
    #[source]
    pub source: jetstream::context::CreateStreamError,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            name: "LEDGER_EVENTS".to_owned(),
            subject_prefix: "ledger".to_owned(),
            duplicate_window: MIN_DUPLICATE_WINDOW,
            replicas: 1,
        }
    }
}

impl StreamSettings {
    /// `<prefix>.<AggregateType>.<aggregate_id>`, with characters NATS does not allow
    /// in a subject token percent-encoded.
    pub fn subject_for(&self, aggregate_type: &str, aggregate_id: &str) -> String {
        let mut subject = String::with_capacity(
            self.subject_prefix.len() + aggregate_type.len() + aggregate_id.len() + 2,
        );
        subject.push_str(&self.subject_prefix);
        subject.push('.');
        push_token(&mut subject, aggregate_type);
        subject.push('.');
        push_token(&mut subject, aggregate_id);
        subject
    }

    /// The wildcard that covers every event subject: `<prefix>.>`.
    pub fn all_subjects(&self) -> String {
        format!("{}.>", self.subject_prefix)
    }

    /// The wildcard for one aggregate type: `<prefix>.<AggregateType>.*`.
    pub fn aggregate_type_subjects(&self, aggregate_type: &str) -> String {
        let mut subject = format!("{}.", self.subject_prefix);
        push_token(&mut subject, aggregate_type);
        subject.push_str(".*");
        subject
    }

    fn config(&self) -> Config {
        Config {
            name: self.name.clone(),
            subjects: vec![self.all_subjects()],
            storage: StorageType::File,
            retention: RetentionPolicy::Limits,
            discard: DiscardPolicy::Old,
            duplicate_window: self.duplicate_window.max(MIN_DUPLICATE_WINDOW),
            num_replicas: self.replicas.max(1),
            ..Config::default()
        }
    }

    /// Creates the stream, or brings an existing one up to this configuration.
    pub async fn ensure(&self, jetstream: &jetstream::Context) -> Result<(), StreamError> {
        jetstream
            .create_or_update_stream(self.config())
            .await
            .map(|_| ())
            .map_err(|source| StreamError {
                name: self.name.clone(),
                source,
            })
    }
}

/// Appends `raw` as one subject token: `.`, `*`, `>`, `%` and whitespace are
/// percent-encoded so an id can never split or widen a subject.
fn push_token(subject: &mut String, raw: &str) {
    if raw.is_empty() {
        subject.push_str("%00");
        return;
    }
    for character in raw.chars() {
        if matches!(character, '.' | '*' | '>' | '%') || character.is_whitespace() {
            let mut buffer = [0u8; 4];
            for byte in character.encode_utf8(&mut buffer).bytes() {
                let _ = write!(subject, "%{byte:02X}");
            }
        } else {
            subject.push(character);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_prefix_type_and_id() {
        let settings = StreamSettings::default();
        assert_eq!(
            settings.subject_for("Order", "0193a1b2-0000-7000-8000-000000000001"),
            "ledger.Order.0193a1b2-0000-7000-8000-000000000001"
        );
        assert_eq!(settings.all_subjects(), "ledger.>");
        assert_eq!(settings.aggregate_type_subjects("Order"), "ledger.Order.*");
    }

    #[test]
    fn unsafe_characters_cannot_split_a_subject() {
        let settings = StreamSettings::default();
        assert_eq!(
            settings.subject_for("Odd Type", "a.b*c>d%e\tf"),
            "ledger.Odd%20Type.a%2Eb%2Ac%3Ed%25e%09f"
        );
        assert_eq!(settings.subject_for("T", ""), "ledger.T.%00");
    }

    #[test]
    fn the_duplicate_window_never_drops_below_two_minutes() {
        let settings = StreamSettings {
            duplicate_window: Duration::from_secs(5),
            replicas: 1,
            ..StreamSettings::default()
        };
        assert_eq!(settings.config().duplicate_window, MIN_DUPLICATE_WINDOW);
        assert_eq!(settings.config().storage, StorageType::File);
    }
}
