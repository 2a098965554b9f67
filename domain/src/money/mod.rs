//! Money and tax: roubles as `Decimal` with two places, and the NPD
//! (self-employed) tax and provider-fee arithmetic as pure functions.

mod amount;
pub mod tax;

pub use amount::{Money, MoneyError};
