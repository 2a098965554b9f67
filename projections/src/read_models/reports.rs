//! Reports for the business: the NPD tax ledger of a year or a month, the receipts
//! register of a month for «Мой налог», and figures over a range of days. Formats
//! (CSV, a workbook) are the entry points'; the figures are here.

use chrono::NaiveDate;
use domain::command::{CommandError, ErrorKind};
use domain::money::tax::TaxRules;
use domain::permissions::{Action, Caller};

use sqlx::PgPool;

use crate::read_models::ReadModels;
use crate::read_models::analytics::{Summary, summary};
use crate::read_models::receipts::{ReceiptLine, register};
use crate::read_models::tax_ledger::{LedgerError, MonthTotals, TaxLine, lines, months};

/// The tax months of a period and their lines.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxPeriod {
    pub year: i32,
    /// The month asked for, or `None` for the whole year.
    pub month: Option<u32>,
    pub months: Vec<MonthTotals>,
    pub lines: Vec<TaxLine>,
}

impl From<LedgerError> for CommandError {
    fn from(error: LedgerError) -> Self {
        match error {
            LedgerError::Database(error) => error.into(),
            LedgerError::Money(error) => {
                tracing::error!(%error, "the tax ledger holds amounts out of range");
                CommandError::new(
                    ErrorKind::Internal,
                    format!("the tax ledger is out of range: {error}"),
                )
            }
        }
    }
}

impl ReadModels {
    /// The tax months of `year` (or of one `month` of it), with their lines.
    pub async fn tax_period(
        &self,
        viewer: Caller,
        year: i32,
        month: Option<u32>,
    ) -> Result<TaxPeriod, CommandError> {
        viewer.require(Action::ViewTaxLedger)?;
        tax_period(self.pool(), year, month).await
    }

    /// The receipts register of `month` (`2026-11`), oldest first.
    pub async fn receipts(
        &self,
        viewer: Caller,
        month: &str,
    ) -> Result<Vec<ReceiptLine>, CommandError> {
        viewer.require(Action::ViewTaxLedger)?;
        receipts(self.pool(), month).await
    }

    /// Figures over the days `from..=to` (at most a year).
    pub async fn analytics(
        &self,
        viewer: Caller,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Summary, CommandError> {
        viewer.require(Action::ViewReports)?;
        if to < from || (to - from).num_days() > 366 {
            return Err(CommandError::invalid(
                "to",
                "on or after from, at most a year later",
            ));
        }
        Ok(summary(self.pool(), from, to).await?)
    }
}

/// The tax months of `year` (or of one `month` of it), with their lines, for whoever
/// may see them (the API checks the viewer first; the operator's command line reads
/// the database itself).
pub async fn tax_period(
    pool: &PgPool,
    year: i32,
    month: Option<u32>,
) -> Result<TaxPeriod, CommandError> {
    if !(2019..=2100).contains(&year) {
        return Err(CommandError::invalid(
            "year",
            "a year from 2019 (when NPD began)",
        ));
    }
    let (from, to) = match month {
        None => (1, 12),
        Some(month @ 1..=12) => (month, month),
        Some(_) => return Err(CommandError::invalid("month", "a month from 1 to 12")),
    };
    let first = |month| NaiveDate::from_ymd_opt(year, month, 1);
    let (Some(from), Some(to)) = (first(from), first(to)) else {
        return Err(CommandError::invalid("month", "a month from 1 to 12"));
    };
    let months = months(pool, &TaxRules::default())
        .await?
        .into_iter()
        .filter(|totals| (from..=to).contains(&totals.month))
        .collect();
    Ok(TaxPeriod {
        year,
        month,
        months,
        lines: lines(pool, from, to).await?,
    })
}

/// The receipts register of `month` (`2026-11`), oldest first.
pub async fn receipts(pool: &PgPool, month: &str) -> Result<Vec<ReceiptLine>, CommandError> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| CommandError::invalid("month", "a month like 2026-11"))?;
    Ok(register(pool, first).await?)
}
