//! The receipts register of a self-employed owner: one line per payment received in
//! a tax month, as «Мой налог» knows it, with what a refund requires there. A full
//! refund annuls the receipt («Возврат средств»); a partial one annuls it and a new
//! receipt for what was kept is issued on the same date (the service cannot change a
//! receipt's amount). An accountant ticks these lines off against the receipts list.
//!
//! Built from the tax ledger's lines (`rm_tax_lines`) and the payments read model
//! (`rm_payments`) for the description.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;

use super::tax_ledger::TAX_TIME_ZONE;

/// The only annulment reason that fits a refund (the other is a wrongly made receipt).
pub const REFUND_ANNULMENT_REASON: &str = "Возврат средств";

/// One payment received in the month and its receipt.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceiptLine {
    /// When the money came, in the tax time zone's calendar.
    pub received_on: NaiveDate,
    pub received_at: DateTime<Utc>,
    pub payment_id: String,
    pub provider_payment_id: Option<String>,
    pub payer_kind: String,
    pub description: String,
    pub received: Decimal,
    pub refunded: Decimal,
    /// What the receipt (or its reissue) must show now.
    pub receipt_amount: Decimal,
    pub action: ReceiptAction,
}

/// What to do with a receipt in «Мой налог».
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReceiptAction {
    /// The receipt stands as issued.
    Keep,
    /// Annul it with [`REFUND_ANNULMENT_REASON`].
    Annul,
    /// Annul it with [`REFUND_ANNULMENT_REASON`] and issue a new receipt for
    /// `receipt_amount` on the same date.
    AnnulAndReissue,
}

impl ReceiptAction {
    pub fn label(&self) -> &'static str {
        match self {
            ReceiptAction::Keep => "keep",
            ReceiptAction::Annul => "annul (Возврат средств)",
            ReceiptAction::AnnulAndReissue => {
                "annul (Возврат средств) and reissue on the same date"
            }
        }
    }
}

type Row = (
    NaiveDate,
    DateTime<Utc>,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Decimal,
    Decimal,
);

/// The receipts of the tax month starting `month` (its first day), oldest first.
pub async fn register(pool: &PgPool, month: NaiveDate) -> Result<Vec<ReceiptLine>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT (i.at AT TIME ZONE $2)::date, i.at, i.payment_id, p.provider_payment_id, i.payer_kind, \
                p.purpose, p.product, i.amount, \
                COALESCE((SELECT -sum(r.amount) FROM rm_tax_lines r \
                          WHERE r.payment_id = i.payment_id AND r.kind = 'refund'), 0) \
         FROM rm_tax_lines i LEFT JOIN rm_payments p ON p.payment_id = i.payment_id \
         WHERE i.kind = 'income' AND i.tax_month = $1 \
         ORDER BY i.at, i.payment_id",
    )
    .bind(month)
    .bind(TAX_TIME_ZONE)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                received_on,
                received_at,
                payment_id,
                provider_payment_id,
                payer_kind,
                purpose,
                product,
                received,
                refunded,
            )| {
                let receipt_amount = received - refunded;
                let action = if refunded.is_zero() {
                    ReceiptAction::Keep
                } else if receipt_amount <= Decimal::ZERO {
                    ReceiptAction::Annul
                } else {
                    ReceiptAction::AnnulAndReissue
                };
                ReceiptLine {
                    received_on,
                    received_at,
                    payment_id,
                    provider_payment_id,
                    payer_kind,
                    description: describe(purpose.as_deref(), product.as_deref()),
                    received,
                    refunded,
                    receipt_amount: receipt_amount.max(Decimal::ZERO),
                    action,
                }
            },
        )
        .collect())
}

fn describe(purpose: Option<&str>, product: Option<&str>) -> String {
    match (purpose, product) {
        (Some("order"), _) => "order".to_owned(),
        (Some("credit_pack"), Some(pack)) => format!("credit pack {pack}"),
        (Some("subscription"), Some(plan)) => format!("subscription {plan}"),
        (Some(other), _) => other.to_owned(),
        (None, _) => "payment".to_owned(),
    }
}

/// The register as CSV (RFC 4180, comma-separated, a header line; amounts with two
/// decimals and a dot).
pub fn to_csv(lines: &[ReceiptLine]) -> String {
    let mut csv = String::from(
        "received_on,payment_id,provider_payment_id,payer_kind,description,received,refunded,receipt_amount,action\r\n",
    );
    for line in lines {
        let cells = [
            line.received_on.to_string(),
            line.payment_id.clone(),
            line.provider_payment_id.clone().unwrap_or_default(),
            line.payer_kind.clone(),
            line.description.clone(),
            format!("{:.2}", line.received),
            format!("{:.2}", line.refunded),
            format!("{:.2}", line.receipt_amount),
            line.action.label().to_owned(),
        ];
        csv.push_str(&super::csv::row(&cells));
    }
    csv
}
