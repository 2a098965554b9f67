//! What `verify` reports: each finding with its aggregate and sequence, and the
//! report as text for a person.

use serde::Serialize;

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
