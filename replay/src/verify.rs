//! `replay verify [--against <checkpoint>]`: recomputes every aggregate's hash chain
//! from the stored columns (streamed in key order, so memory does not grow with the
//! history), reports each broken link and each gap with its aggregate and sequence,
//! compares every head with a signed checkpoint (streams and tails missing, heads
//! rewritten), and checks that the outbox, the relay's parked rows and the
//! projections' checkpoints and parked rows name events the store holds.

use futures_util::TryStreamExt;
use serde::Serialize;
use sqlx::{Connection, PgConnection, PgPool};

use crate::ReplayError;
use crate::chain::{CHAINED_COLUMNS, ChainedEvent, Hash, event_hash};
use crate::checkpoint::{Checkpoint, Head};
use crate::progress::Progress;

/// At most this many findings are listed (all are counted).
const LISTED_FINDINGS: usize = 10_000;

/// Something the store does not agree with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum Finding {
    /// The stored hash is not the hash of the stored columns chained to the
    /// previous event's stored hash: this event (or its hash) was changed, or it was
    /// written without the chain.
    BrokenLink {
        aggregate_type: String,
        aggregate_id: String,
        sequence: i64,
        stored: String,
        computed: String,
    },
    /// Sequences `from..=to` of the aggregate are missing (deleted rows).
    MissingEvents {
        aggregate_type: String,
        aggregate_id: String,
        from: i64,
        to: i64,
    },
    /// The checkpoint knew this aggregate; the store holds none of its events.
    MissingStream {
        aggregate_type: String,
        aggregate_id: String,
        checkpoint_sequence: i64,
    },
    /// The store's stream ends before the checkpoint's head: its last events were
    /// removed.
    MissingTail {
        aggregate_type: String,
        aggregate_id: String,
        checkpoint_sequence: i64,
        store_sequence: i64,
    },
    /// The event at the checkpoint's head has another hash now: the history up to it
    /// was rewritten (with the chain recomputed to hide it).
    HeadRewritten {
        aggregate_type: String,
        aggregate_id: String,
        sequence: i64,
        checkpoint_hash: String,
        store_hash: String,
    },
    /// A relay or projection row names an event the store lacks.
    DanglingReference {
        table: String,
        owner: String,
        aggregate_type: String,
        aggregate_id: String,
        sequence: i64,
        store_sequence: i64,
    },
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub events: u64,
    pub aggregates: u64,
    /// The checkpoint compared with, if any: when it was made and the key that
    /// signed it.
    pub checkpoint: Option<CheckpointSummary>,
    /// Every finding counted; `findings` lists the first 10,000.
    pub finding_count: u64,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointSummary {
    pub created_at: String,
    pub public_key: String,
    pub aggregates: u64,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.finding_count == 0
    }
}

/// Collects findings, listing the first [`LISTED_FINDINGS`].
#[derive(Default)]
pub(crate) struct Findings {
    pub(crate) count: u64,
    pub(crate) listed: Vec<Finding>,
}

impl Findings {
    pub(crate) fn push(&mut self, finding: Finding) {
        self.count += 1;
        if self.listed.len() < LISTED_FINDINGS {
            self.listed.push(finding);
        }
    }
}

/// The counts of one pass over the chains.
pub(crate) struct Scanned {
    pub(crate) events: u64,
    pub(crate) aggregates: u64,
}

/// Verifies every chain (and, given a checkpoint, every head) in one snapshot.
pub async fn verify(pool: &PgPool, against: Option<Checkpoint>) -> Result<Report, ReplayError> {
    let mut connection = pool.acquire().await?;
    let mut snapshot = begin_snapshot(&mut connection).await?;
    let mut findings = Findings::default();
    let summary = against.as_ref().map(|checkpoint| CheckpointSummary {
        created_at: checkpoint.created_at.clone(),
        public_key: checkpoint.public_key.clone(),
        aggregates: checkpoint.heads.len() as u64,
    });
    let mut expected = against.map(|checkpoint| checkpoint.heads);
    let scanned = scan_chains(&mut snapshot, &mut findings, expected.as_mut(), |_| Ok(())).await?;
    if let Some(expected) = expected {
        let mut missing: Vec<Head> = expected.into_values().collect();
        missing.sort_by(|a, b| {
            (&a.aggregate_type, &a.aggregate_id).cmp(&(&b.aggregate_type, &b.aggregate_id))
        });
        for head in missing {
            findings.push(Finding::MissingStream {
                aggregate_type: head.aggregate_type,
                aggregate_id: head.aggregate_id,
                checkpoint_sequence: head.last_sequence,
            });
        }
    }
    check_references(&mut snapshot, &mut findings).await?;
    snapshot.commit().await?;
    Ok(Report {
        events: scanned.events,
        aggregates: scanned.aggregates,
        checkpoint: summary,
        finding_count: findings.count,
        findings: findings.listed,
    })
}

/// A read-only transaction that sees one state of the store throughout.
pub(crate) async fn begin_snapshot(
    connection: &mut PgConnection,
) -> Result<sqlx::Transaction<'_, sqlx::Postgres>, ReplayError> {
    let mut snapshot = connection.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *snapshot)
        .await?;
    Ok(snapshot)
}

/// One pass over every event in key order: each link recomputed, each gap found,
/// each head handed to `on_head` (and compared with `expected`, whose entries are
/// removed as they are met, so what is left was not found).
pub(crate) async fn scan_chains(
    connection: &mut PgConnection,
    findings: &mut Findings,
    mut expected: Option<&mut std::collections::HashMap<(String, String), Head>>,
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
        if !follows {
            findings.push(Finding::MissingEvents {
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                from: self.head.last_sequence + 1,
                to: event.sequence - 1,
            });
        } else {
            let computed = event_hash(self.previous.as_ref(), &event);
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
        self.previous = stored;
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

/// The relay's and the projections' rows that name an event must name one the
/// store holds.
async fn check_references(
    connection: &mut PgConnection,
    findings: &mut Findings,
) -> Result<(), ReplayError> {
    // (table, owner, type, id, sequence, the store's last sequence of that aggregate)
    type Dangling = (String, String, String, String, i64, i64);
    let dangling: Vec<Dangling> = sqlx::query_as(
        "WITH refs AS ( \
             SELECT 'outbox' AS tbl, 'relay' AS owner, aggregate_type, aggregate_id, sequence FROM outbox \
             UNION ALL SELECT 'outbox_parked', 'relay', aggregate_type, aggregate_id, sequence FROM outbox_parked \
             UNION ALL SELECT 'projection_parked', projection, aggregate_type, aggregate_id, sequence FROM projection_parked \
         ) \
         SELECT r.tbl, r.owner, r.aggregate_type, r.aggregate_id, r.sequence, \
                COALESCE((SELECT max(sequence) FROM events h WHERE h.aggregate_type = r.aggregate_type AND h.aggregate_id = r.aggregate_id), 0) \
         FROM refs r \
         WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.aggregate_type = r.aggregate_type \
                           AND e.aggregate_id = r.aggregate_id AND e.sequence = r.sequence) \
         UNION ALL \
         SELECT 'projection_checkpoints', c.projection, c.aggregate_type, c.aggregate_id, c.sequence, COALESCE(h.last, 0) \
         FROM projection_checkpoints c \
         LEFT JOIN (SELECT aggregate_type, aggregate_id, max(sequence) AS last FROM events GROUP BY 1, 2) h \
                USING (aggregate_type, aggregate_id) \
         WHERE c.sequence > COALESCE(h.last, 0) \
         ORDER BY 1, 2, 3, 4, 5",
    )
    .fetch_all(&mut *connection)
    .await?;
    for (table, owner, aggregate_type, aggregate_id, sequence, store_sequence) in dangling {
        findings.push(Finding::DanglingReference {
            table,
            owner,
            aggregate_type,
            aggregate_id,
            sequence,
            store_sequence,
        });
    }
    Ok(())
}

/// The report as text for a person.
pub fn render(report: &Report) -> String {
    let mut text = format!(
        "{} events in {} aggregates\n",
        report.events, report.aggregates
    );
    if let Some(checkpoint) = &report.checkpoint {
        text.push_str(&format!(
            "against the checkpoint of {} ({} aggregates), signed by {}\n",
            checkpoint.created_at, checkpoint.aggregates, checkpoint.public_key
        ));
    }
    for finding in &report.findings {
        text.push_str(&describe(finding));
        text.push('\n');
    }
    if report.finding_count > report.findings.len() as u64 {
        text.push_str(&format!(
            "… and {} more\n",
            report.finding_count - report.findings.len() as u64
        ));
    }
    if report.is_clean() {
        text.push_str("verified: every chain is whole");
        if report.checkpoint.is_some() {
            text.push_str(", every checkpointed head is present and unchanged");
        }
        text.push_str(", and the relay's and projections' rows name stored events\n");
    } else {
        text.push_str(&format!(
            "NOT verified: {} finding(s)\n",
            report.finding_count
        ));
    }
    text
}

fn describe(finding: &Finding) -> String {
    match finding {
        Finding::BrokenLink {
            aggregate_type,
            aggregate_id,
            sequence,
            stored,
            computed,
        } => format!(
            "broken link: {aggregate_type} {aggregate_id} #{sequence}: stored hash {stored}, its columns give {computed}"
        ),
        Finding::MissingEvents {
            aggregate_type,
            aggregate_id,
            from,
            to,
        } if from == to => {
            format!("missing event: {aggregate_type} {aggregate_id} #{from}")
        }
        Finding::MissingEvents {
            aggregate_type,
            aggregate_id,
            from,
            to,
        } => {
            format!("missing events: {aggregate_type} {aggregate_id} #{from}..#{to}")
        }
        Finding::MissingStream {
            aggregate_type,
            aggregate_id,
            checkpoint_sequence,
        } => format!(
            "missing stream: {aggregate_type} {aggregate_id} (the checkpoint has #{checkpoint_sequence}; the store has none)"
        ),
        Finding::MissingTail {
            aggregate_type,
            aggregate_id,
            checkpoint_sequence,
            store_sequence,
        } => format!(
            "missing tail: {aggregate_type} {aggregate_id} ends at #{store_sequence}; the checkpoint has #{checkpoint_sequence}"
        ),
        Finding::HeadRewritten {
            aggregate_type,
            aggregate_id,
            sequence,
            checkpoint_hash,
            store_hash,
        } => format!(
            "rewritten: {aggregate_type} {aggregate_id} #{sequence} has hash {store_hash}; the checkpoint has {checkpoint_hash}"
        ),
        Finding::DanglingReference {
            table,
            owner,
            aggregate_type,
            aggregate_id,
            sequence,
            store_sequence,
        } => format!(
            "{table} ({owner}) names {aggregate_type} {aggregate_id} #{sequence}; the store's last is #{store_sequence}"
        ),
    }
}
