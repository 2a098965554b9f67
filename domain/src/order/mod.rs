//! Order: one aggregate for three kinds of business — coursework (student help),
//! shop orders, and salon bookings.
//!
//! Invariants: an explicit state machine ([`transitions`]) in which each command is
//! allowed only in listed states, and a refusal names the current state; only the
//! customer accepts, requests revisions, confirms delivery and reviews; only the
//! assigned executor starts and submits; prices are > 0 with two decimal places;
//! a shop order's total is the sum of its lines; a master's slot is never booked
//! twice (checked through [`SlotCalendar`]); revisions are limited; a review is
//! given once, after completion.
//!
//! Bookings follow the salon's rules ([`booking_rules`]): customers cancel and move
//! them only before the slot starts (commands carry the time), a customer's refund
//! follows the terms the booking was made under (all of what is left up to N hours
//! ahead, a share after that), managers may override after the start (recorded in
//! the event), an unpaid booking holds its slot for a while and is then released by
//! the scheduler, and a customer holds a limited number of unpaid bookings (decided
//! by the store, `too_many_unpaid_bookings`).

mod aggregate;
pub mod booking_rules;
mod calendar;
mod commands;
mod error;
mod events;
mod services;
pub mod transitions;
mod visibility;

pub use crate::payment::cancellation_refund_id;
pub use aggregate::Order;
pub use booking_rules::{BookingRules, NOT_PAID_IN_TIME, refund_share};
pub use calendar::PostgresSlotCalendar;
pub use commands::{Actor, OrderCommand};
pub use error::OrderError;
pub use events::{
    BookingTerms, CancelDecision, Coursework, Delivery, Kind, LineItem, OrderDetails, OrderEvent,
    OrderRefund, OrderStatus, Slot,
};
pub use services::{OrderServices, SlotCalendar, SlotCheckError};
pub use visibility::{OrderParties, offered_steps};

#[cfg(test)]
mod tests;
