//! `replay verify [--against <checkpoint>]`: recomputes every aggregate's hash chain
//! from the stored columns (streamed in key order, so memory does not grow with the
//! history), reports each broken link and each gap with its aggregate and sequence,
//! compares every head with a signed checkpoint (streams and tails missing, heads
//! rewritten), and checks that the outbox, the relay's parked rows and the
//! projections' checkpoints, parked and retrying rows name events the store holds.
//! `chains.rs` is the pass over the chains, `report.rs` what it found.

use sqlx::{Connection, PgConnection, PgPool};

use crate::checkpoint::{Checkpoint, Head};
use crate::{Listed, ReplayError};

mod chains;
mod report;

pub(crate) use chains::scan_chains;
pub use report::{CheckpointSummary, Finding, Report, render};

/// Findings counted, the first 10,000 listed.
pub(crate) type Findings = Listed<Finding>;

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
             UNION ALL SELECT 'projection_retrying', projection, aggregate_type, aggregate_id, sequence FROM projection_retrying \
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
