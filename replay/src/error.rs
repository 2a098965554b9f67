use thiserror::Error;

/// What the replay tool refuses or fails at.
#[derive(Debug, Error)]
pub enum ReplayError {
    /// A bad argument (the command line exits 2).
    #[error("unknown aggregate type {given:?}: one of {known}")]
    UnknownAggregateType { given: String, known: String },
    /// Nothing in the store under that name (the command line exits 1).
    #[error("the store holds no {aggregate_type} {aggregate_id}")]
    NoSuchAggregate {
        aggregate_type: String,
        aggregate_id: String,
    },
    /// A bad argument (exit 2).
    #[error(
        "{0:?} is no point in the store: give a store position (an integer) or an RFC 3339 time (2026-03-01T00:00:00+03:00)"
    )]
    BadPoint(String),
    /// A bad argument (exit 2).
    #[error("the first point ({from}) is after the second ({to}): give them oldest first")]
    PointsReversed { from: String, to: String },
    /// The aggregate's events are not numbered 1, 2, 3 … (exit 1).
    #[error("event #{found} follows #{after}: the aggregate's sequence has a gap")]
    SequenceGap { after: i64, found: i64 },
    /// A stored event this version cannot read back (exit 1).
    #[error("event #{sequence} cannot be read as this version's event: {error}")]
    Undecodable { sequence: i64, error: String },
    /// A signing key that cannot be made or read (exit 2).
    #[error("the signing key: {0}")]
    Key(String),
    /// `checkpoint` found broken chains and signed nothing (exit 1).
    #[error(
        "{0} finding(s) in the chains: no checkpoint was written; run `replay verify` to see them"
    )]
    BrokenChain(u64),
    /// A checkpoint file that cannot be trusted (exit 1).
    #[error("the checkpoint {path} cannot be trusted: {why}")]
    Checkpoint { path: String, why: String },
    /// A reaction or a feed: not rebuilt (exit 2).
    #[error(
        "{0} is not rebuilt: reactions act by commands a rebuild must never send again, and the live feed's positions are what clients resume from"
    )]
    NotRebuildable(String),
    /// A rebuild gave up on an event that kept failing for a transient reason.
    #[error("the rebuild could not apply {aggregate} #{sequence}: {error}")]
    Apply {
        aggregate: String,
        sequence: i64,
        #[source]
        error: projections::worker::ApplyError,
    },
    /// Another rebuild of the same projection is running (exit 1).
    #[error("another rebuild of {0} is running; wait for it to finish")]
    RebuildRunning(String),
    /// A bad argument (exit 2).
    #[error(
        "{0:?} is no export format here: jsonl or csv for events, csv or xlsx for the ledger and the receipts"
    )]
    BadFormat(String),
    /// A bad argument (exit 2).
    #[error("{0:?} is no tax period: give a year (2026) or a month (2026-11), from 2019")]
    BadPeriod(String),
    /// The tax ledger could not be read.
    #[error("the tax ledger: {0}")]
    Ledger(String),
    /// A bad argument (exit 2).
    #[error(
        "{0:?} is no role name for analysts: lower-case letters, digits and _, not starting with a digit or pg_"
    )]
    BadRoleName(String),
    /// A bad argument (exit 2).
    #[error("the analysts' password must be ASCII (letters, digits, punctuation)")]
    BadPassword,
    /// A bad argument (exit 2): the tool never narrows a privileged role.
    #[error(
        "{0} is a privileged role (superuser, or may create roles or databases); choose a role for analysts alone"
    )]
    PrivilegedRole(String),
    /// The store predates the hash chain (exit 1).
    #[error(
        "the store has no hash chain yet: run `ledgerbot migrate` (or start the service once) to add it"
    )]
    NoChain,
    /// Writing a file or the output failed.
    #[error("writing the output: {0}")]
    Output(#[source] std::io::Error),
    #[error("the event store: {0}")]
    Store(#[from] sqlx::Error),
}

impl ReplayError {
    /// Postgres gave up waiting for a lock (`lock_timeout`).
    pub fn is_lock_timeout(&self) -> bool {
        matches!(self, ReplayError::Store(error)
            if error.as_database_error().and_then(|e| e.code()).as_deref() == Some("55P03"))
    }

    /// Whether the command line was at fault (exit 2) rather than the data.
    pub fn is_bad_argument(&self) -> bool {
        matches!(
            self,
            ReplayError::UnknownAggregateType { .. }
                | ReplayError::BadPoint(_)
                | ReplayError::PointsReversed { .. }
                | ReplayError::Key(_)
                | ReplayError::NotRebuildable(_)
                | ReplayError::BadFormat(_)
                | ReplayError::BadPeriod(_)
                | ReplayError::BadRoleName(_)
                | ReplayError::BadPassword
                | ReplayError::PrivilegedRole(_)
        )
    }
}
