//! Read models: plain tables with real columns, fed by projection workers.

pub mod credits;
pub mod tax_ledger;
pub mod users;
