//! The auditor's tool (`ledgerbot replay …`): what the event store holds, read
//! straight from it. `history` (every event of one aggregate with its position,
//! time, actor, causation and metadata), `state` / `diff` (an aggregate as of a
//! point, through its own `apply`), `verify` / `checkpoint` / `keygen` (the events'
//! hash chain and signed heads), `rebuild [--verify]` (a read model built again
//! from the store beside the live one, switched in or compared).

pub mod analysts;
pub mod chain;
pub mod checkpoint;
mod error;
pub mod export;
pub mod history;
mod progress;
pub mod rebuild;
pub mod state;
pub mod verify;

pub use error::ReplayError;

/// Every aggregate type the store holds, as its events name it.
pub fn aggregate_types() -> [&'static str; 8] {
    use cqrs_es::Aggregate;
    [
        domain::user::User::TYPE,
        domain::owner_grant::OwnerGrant::TYPE,
        domain::order::Order::TYPE,
        domain::payment::Payment::TYPE,
        domain::credit::CreditAccount::TYPE,
        domain::ticket::Ticket::TYPE,
        domain::ticket_category::TicketCategory::TYPE,
        domain::generation::GenerationJob::TYPE,
    ]
}

/// Refuses an aggregate type the store does not hold (a bad argument).
pub fn known_type(aggregate_type: &str) -> Result<(), ReplayError> {
    let known = aggregate_types();
    if known.contains(&aggregate_type) {
        Ok(())
    } else {
        Err(ReplayError::UnknownAggregateType {
            given: aggregate_type.to_owned(),
            known: known.join(", "),
        })
    }
}

/// A name quoted for SQL.
pub(crate) fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Counts every item and keeps the first [`Listed::LIMIT`] (findings, differences).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Listed<T> {
    pub count: u64,
    pub listed: Vec<T>,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            count: 0,
            listed: Vec::new(),
        }
    }
}

impl<T> Listed<T> {
    pub const LIMIT: usize = 10_000;

    pub fn push(&mut self, item: T) {
        self.count += 1;
        if self.listed.len() < Self::LIMIT {
            self.listed.push(item);
        }
    }

    /// How many were counted but not kept.
    pub fn left_out(&self) -> u64 {
        self.count - self.listed.len() as u64
    }
}
