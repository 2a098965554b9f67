//! Read models: plain tables with real columns, fed by projection workers.

pub mod analytics;
pub mod bookings;
pub mod credit_lots;
pub mod credits;
pub mod csv;
pub mod live_updates;
pub mod notifications;
pub mod orders;
pub mod payments;
pub mod receipts;
pub mod tax_ledger;
pub mod ticket_categories;
pub mod tickets;
pub mod users;
