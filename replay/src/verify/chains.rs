//! One pass over every event in key order: each link recomputed from the stored
//! columns, each gap found, each head compared with a checkpoint's.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use sqlx::PgConnection;

use super::{Finding, Findings};
use crate::ReplayError;
use crate::chain::{CHAINED_COLUMNS, ChainedEvent, Hash, event_hash};
use crate::checkpoint::Head;
use crate::progress::Progress;

/// The counts of one pass over the chains.
pub(crate) struct Scanned {
    pub(crate) events: u64,
    pub(crate) aggregates: u64,
}

/// One pass over every event in key order: each link recomputed, each gap found,
/// each head handed to `on_head` (and compared with `expected`, whose entries are
/// removed as they are met, so what is left was not found).
pub(crate) async fn scan_chains(
    connection: &mut PgConnection,
    findings: &mut Findings,
    mut expected: Option<&mut HashMap<(String, String), Head>>,
    mut on_head: impl FnMut(&Head) -> std::io::Result<()>,
) -> Result<Scanned, ReplayError> {
    let chained: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'events'::regclass AND attname = 'hash')",
    )
    .fetch_one(&mut *connection)
    .await?;
    if !chained {
        return Err(ReplayError::NoChain);
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut *connection)
        .await?;
    let mut progress = Progress::new("verifying chains", "events", total.max(0) as u64);
    let query = format!(
        "SELECT {CHAINED_COLUMNS} FROM events ORDER BY aggregate_type, aggregate_id, sequence"
    );
    let mut rows = sqlx::query_as::<_, ChainedEvent>(&query).fetch(&mut *connection);
    let mut current: Option<Stream> = None;
    let mut scanned = Scanned {
        events: 0,
        aggregates: 0,
    };
    while let Some(event) = rows.try_next().await? {
        scanned.events += 1;
        progress.advance(1);
        let same = current.as_ref().is_some_and(|stream| {
            stream.head.aggregate_type == event.aggregate_type
                && stream.head.aggregate_id == event.aggregate_id
        });
        if !same {
            if let Some(stream) = current.take() {
                stream.close(findings, &mut on_head)?;
            }
            scanned.aggregates += 1;
            let checkpoint = expected.as_deref_mut().and_then(|heads| {
                heads.remove(&(event.aggregate_type.clone(), event.aggregate_id.clone()))
            });
            current = Some(Stream::open(&event, checkpoint));
        }
        if let Some(stream) = current.as_mut() {
            stream.check(event, findings);
        }
    }
    if let Some(stream) = current.take() {
        stream.close(findings, &mut on_head)?;
    }
    progress.finish();
    Ok(scanned)
}

/// The aggregate being read: its head so far and the checkpoint's head for it.
struct Stream {
    head: Head,
    previous: Option<Hash>,
    checkpoint: Option<Head>,
}

impl Stream {
    fn open(event: &ChainedEvent, checkpoint: Option<Head>) -> Self {
        Stream {
            head: Head {
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                count: 0,
                last_sequence: 0,
                last_hash: String::new(),
            },
            previous: None,
            checkpoint,
        }
    }

    fn check(&mut self, event: ChainedEvent, findings: &mut Findings) {
        let stored: Option<Hash> = event.hash.as_slice().try_into().ok();
        let follows = event.sequence == self.head.last_sequence + 1;
        let mut next = stored;
        if !follows {
            findings.push(Finding::MissingEvents {
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                from: self.head.last_sequence + 1,
                to: event.sequence - 1,
            });
        } else {
            let computed = event_hash(self.previous.as_ref(), &event);
            // A hash that is not even 32 bytes is reported here once; the next link
            // is checked against what it should have been.
            next = next.or(Some(computed));
            if stored != Some(computed) {
                findings.push(Finding::BrokenLink {
                    aggregate_type: event.aggregate_type.clone(),
                    aggregate_id: event.aggregate_id.clone(),
                    sequence: event.sequence,
                    stored: hex::encode(&event.hash),
                    computed: hex::encode(computed),
                });
            }
        }
        if let Some(checkpoint) = &self.checkpoint
            && checkpoint.last_sequence == event.sequence
            && checkpoint.last_hash != hex::encode(&event.hash)
        {
            findings.push(Finding::HeadRewritten {
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                sequence: event.sequence,
                checkpoint_hash: checkpoint.last_hash.clone(),
                store_hash: hex::encode(&event.hash),
            });
        }
        self.previous = next;
        self.head.count += 1;
        self.head.last_sequence = event.sequence;
        self.head.last_hash = hex::encode(&event.hash);
    }

    fn close(
        self,
        findings: &mut Findings,
        on_head: &mut impl FnMut(&Head) -> std::io::Result<()>,
    ) -> Result<(), ReplayError> {
        if let Some(checkpoint) = &self.checkpoint
            && self.head.last_sequence < checkpoint.last_sequence
        {
            findings.push(Finding::MissingTail {
                aggregate_type: self.head.aggregate_type.clone(),
                aggregate_id: self.head.aggregate_id.clone(),
                checkpoint_sequence: checkpoint.last_sequence,
                store_sequence: self.head.last_sequence,
            });
        }
        on_head(&self.head).map_err(ReplayError::Output)
    }
}
