//! Ledgerbot's composition root: configuration, telemetry, the HTTP surface and the
//! start-up code that wires the other crates together into the `ledgerbot` binary.

pub mod ai;
pub mod app_settings;
pub mod auth;
pub mod bookings;
pub mod cart;
pub mod cli;
pub mod config;
pub mod credits;
pub mod faq;
pub mod files;
pub mod generations;
pub mod http;
pub mod live;
pub mod metrics;
pub mod orders;
pub mod payments;
pub mod placing;
pub mod reports;
pub mod shopfront;
pub mod shutdown;
pub mod startup;
pub mod telegram;
pub mod telemetry;
pub mod ticket_categories;
pub mod ticket_messages;
pub mod tickets;
pub mod users;
pub mod yookassa;
