//! 54-FZ receipts sent with a payment.

use serde::{Deserialize, Serialize};

use crate::yookassa::amount::Amount;

/// The buyer of a 54-FZ receipt: an email or a phone (at least one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptCustomer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// One line of a 54-FZ receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptItem {
    pub description: String,
    /// A decimal string, `"1.00"`.
    pub quantity: String,
    pub amount: Amount,
    /// 1: no VAT, ... (YooKassa's VAT codes 1 to 12).
    pub vat_code: u8,
    /// `"full_payment"`.
    pub payment_mode: String,
    /// `"service"` or `"commodity"`.
    pub payment_subject: String,
}

/// A 54-FZ receipt sent with a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub customer: ReceiptCustomer,
    pub items: Vec<ReceiptItem>,
}
