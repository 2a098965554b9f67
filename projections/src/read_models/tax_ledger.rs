//! The NPD tax ledger of a self-employed owner: a line per payment received and per
//! refund (`rm_tax_lines`, with `rm_tax_payments` for what the lines need), and the
//! monthly totals with the one-time deduction carried from month to month.
//!
//! The tax month is the calendar month in Moscow time (the taxpayer's «Мой налог»
//! months); a refund reduces the month of the receipt it belongs to.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::money::tax::{MonthIncome, PayerKind, TaxRules};
use domain::money::{Money, MoneyError};
use domain::payment::PaymentEvent;
use domain::wire::wire_name;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

/// The zone whose calendar months are the tax periods.
pub const TAX_TIME_ZONE: &str = "Europe/Moscow";

pub struct TaxLedger {
    rules: TaxRules,
}

impl TaxLedger {
    pub fn new(rules: TaxRules) -> Self {
        Self { rules }
    }

    async fn record(
        &self,
        connection: &mut PgConnection,
        event: &EventEnvelope,
    ) -> Result<(), ApplyError> {
        let decoded = event.decode::<PaymentEvent>()?;
        let payment_id = &event.aggregate_id;
        match decoded {
            PaymentEvent::PaymentCreated {
                amount, payer_kind, ..
            } => {
                sqlx::query(
                    "INSERT INTO rm_tax_payments (payment_id, payer_kind, amount, status, updated_at) \
                     VALUES ($1, $2, $3, 'pending', $4) ON CONFLICT (payment_id) DO NOTHING",
                )
                .bind(payment_id)
                .bind(wire_name(&payer_kind))
                .bind(amount.amount())
                .bind(event.recorded_at)
                .execute(&mut *connection)
                .await?;
            }
            PaymentEvent::PaymentSucceeded {
                amount,
                provider_fee,
                paid_at,
                test,
                ..
            } => {
                let payer_kind = self.payer_kind(connection, payment_id).await?;
                sqlx::query(
                    "UPDATE rm_tax_payments SET status = 'succeeded', paid_at = $2, updated_at = $3, test = $4 \
                     WHERE payment_id = $1",
                )
                .bind(payment_id)
                .bind(paid_at)
                .bind(event.recorded_at)
                .bind(test)
                .execute(&mut *connection)
                .await?;
                // No money moved: a test shop's or the sandbox's payment is no income.
                if test {
                    return Ok(());
                }
                let tax = self.rules.receipt_tax(amount, payer_kind).map_err(money)?;
                let net = amount.amount() - provider_fee.amount();
                self.line(
                    connection,
                    payment_id,
                    payment_id,
                    "income",
                    paid_at,
                    paid_at,
                    payer_kind,
                    amount.amount(),
                    tax.amount(),
                    provider_fee.amount(),
                    net,
                )
                .await?;
            }
            PaymentEvent::RefundSucceeded {
                refund_id,
                amount,
                refunded_at,
                ..
            } => {
                let payer_kind = self.payer_kind(connection, payment_id).await?;
                let (paid_at, test): (Option<DateTime<Utc>>, bool) = sqlx::query_as(
                    "SELECT paid_at, test FROM rm_tax_payments WHERE payment_id = $1",
                )
                .bind(payment_id)
                .fetch_one(&mut *connection)
                .await?;
                if test {
                    return Ok(());
                }
                let receipt_at = paid_at.unwrap_or(refunded_at);
                let tax = self.rules.receipt_tax(amount, payer_kind).map_err(money)?;
                self.line(
                    connection,
                    payment_id,
                    &refund_id,
                    "refund",
                    refunded_at,
                    receipt_at,
                    payer_kind,
                    -amount.amount(),
                    -tax.amount(),
                    Decimal::ZERO,
                    -amount.amount(),
                )
                .await?;
            }
            PaymentEvent::PaymentCanceled { .. } => {
                sqlx::query("UPDATE rm_tax_payments SET status = 'canceled', updated_at = $2 WHERE payment_id = $1")
                    .bind(payment_id)
                    .bind(event.recorded_at)
                    .execute(&mut *connection)
                    .await?;
            }
            PaymentEvent::ProviderPaymentRecorded { .. }
            | PaymentEvent::RefundRequested { .. }
            | PaymentEvent::RefundFailed { .. } => {}
        }
        Ok(())
    }

    async fn payer_kind(
        &self,
        connection: &mut PgConnection,
        payment_id: &str,
    ) -> Result<PayerKind, ApplyError> {
        let kind: Option<String> =
            sqlx::query_scalar("SELECT payer_kind FROM rm_tax_payments WHERE payment_id = $1")
                .bind(payment_id)
                .fetch_optional(&mut *connection)
                .await?;
        match kind.as_deref() {
            Some("legal_entity") => Ok(PayerKind::LegalEntity),
            Some("individual") => Ok(PayerKind::Individual),
            _ => Err(ApplyError::Decode(format!(
                "payment {payment_id} has no PaymentCreated before it"
            ))),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn line(
        &self,
        connection: &mut PgConnection,
        payment_id: &str,
        line_id: &str,
        kind: &str,
        at: DateTime<Utc>,
        receipt_at: DateTime<Utc>,
        payer_kind: PayerKind,
        amount: Decimal,
        tax: Decimal,
        provider_fee: Decimal,
        net: Decimal,
    ) -> Result<(), ApplyError> {
        sqlx::query(
            "INSERT INTO rm_tax_lines (payment_id, line_id, kind, at, tax_month, payer_kind, amount, rate, tax, provider_fee, net) \
             VALUES ($1, $2, $3, $4, date_trunc('month', $5 AT TIME ZONE $6)::date, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (payment_id, line_id) DO NOTHING",
        )
        .bind(payment_id)
        .bind(line_id)
        .bind(kind)
        .bind(at)
        .bind(receipt_at)
        .bind(TAX_TIME_ZONE)
        .bind(wire_name(&payer_kind))
        .bind(amount)
        .bind(self.rules.rate(payer_kind))
        .bind(tax)
        .bind(provider_fee)
        .bind(net)
        .execute(connection)
        .await?;
        Ok(())
    }
}

fn money(error: MoneyError) -> ApplyError {
    ApplyError::Decode(format!("an amount is out of range: {error}"))
}

impl Projection for TaxLedger {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        use crate::worker::Rebuildable;
        Some(Rebuildable::tables(&["rm_tax_payments", "rm_tax_lines"]))
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::TaxLedger.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["Payment"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(self.record(connection, event))
    }
}

/// One NPD tax month.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthTotals {
    /// The month's first day.
    pub month: NaiveDate,
    pub income_individual: Money,
    pub income_legal_entity: Money,
    pub income: Money,
    pub tax_before_deduction: Money,
    pub deduction_used: Money,
    pub tax_due: Money,
    /// The 28th of the following month.
    pub due_date: NaiveDate,
    pub deduction_left: Money,
    /// Income of the calendar year up to and including this month.
    pub year_income: Money,
    /// The year's income is at 90 % of the limit or more.
    pub near_yearly_limit: bool,
    pub over_yearly_limit: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Every month with income or refunds, oldest first, with the deduction carried.
pub async fn months(pool: &PgPool, rules: &TaxRules) -> Result<Vec<MonthTotals>, LedgerError> {
    let rows: Vec<(NaiveDate, Decimal, Decimal)> = sqlx::query_as(
        "SELECT tax_month, \
                COALESCE(sum(amount) FILTER (WHERE payer_kind = 'individual'), 0), \
                COALESCE(sum(amount) FILTER (WHERE payer_kind = 'legal_entity'), 0) \
         FROM rm_tax_lines GROUP BY tax_month ORDER BY tax_month",
    )
    .fetch_all(pool)
    .await?;
    let mut deduction_left = rules.deduction_total;
    let mut year = None;
    let mut year_income = Money::ZERO;
    let mut months = Vec::with_capacity(rows.len());
    for (month, individual, legal) in rows {
        let income = MonthIncome {
            individual: Money::new(individual.max(Decimal::ZERO))?,
            legal_entity: Money::new(legal.max(Decimal::ZERO))?,
        };
        let tax = rules.month_tax(income, deduction_left)?;
        deduction_left = tax.deduction_left;
        if year != Some(month.year()) {
            year = Some(month.year());
            year_income = Money::ZERO;
        }
        let total = income.individual.checked_add(income.legal_entity)?;
        year_income = year_income.checked_add(total)?;
        let limit = rules.yearly_income_limit.amount();
        let (due_year, due_month) = if month.month() == 12 {
            (month.year() + 1, 1)
        } else {
            (month.year(), month.month() + 1)
        };
        months.push(MonthTotals {
            month,
            income_individual: income.individual,
            income_legal_entity: income.legal_entity,
            income: total,
            tax_before_deduction: tax.before_deduction,
            deduction_used: tax.deduction_used,
            tax_due: tax.due,
            due_date: NaiveDate::from_ymd_opt(due_year, due_month, 28).unwrap_or(month),
            deduction_left,
            year_income,
            near_yearly_limit: year_income.amount() * Decimal::new(10, 0)
                >= limit * Decimal::new(9, 0),
            over_yearly_limit: year_income.amount() > limit,
        });
    }
    Ok(months)
}

/// One line of the ledger: a payment received or a refund, in its tax month.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxLine {
    pub tax_month: NaiveDate,
    pub at: DateTime<Utc>,
    pub payment_id: String,
    pub line_id: String,
    /// income | refund
    pub kind: String,
    /// individual | legal_entity
    pub payer_kind: String,
    /// Negative for refunds.
    pub amount: Decimal,
    pub rate: Decimal,
    /// At the full rate, before the deduction.
    pub tax: Decimal,
    pub provider_fee: Decimal,
    pub net: Decimal,
}

/// The lines of the tax months from `from` to `to` (first days of months, both
/// included), in the order they happened.
pub async fn lines(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<TaxLine>, LedgerError> {
    Ok(sqlx::query_as(
        "SELECT tax_month, at, payment_id, line_id, kind, payer_kind, amount, rate, tax, \
                provider_fee, net \
         FROM rm_tax_lines WHERE tax_month BETWEEN $1 AND $2 ORDER BY at, payment_id, line_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?)
}

/// Months as CSV, one row each, amounts with two decimals.
pub fn months_csv(months: &[MonthTotals]) -> String {
    let mut csv = super::csv::row(&[
        "month",
        "income_individual",
        "income_legal_entity",
        "income",
        "tax_before_deduction",
        "deduction_used",
        "tax_due",
        "due_date",
        "deduction_left",
        "year_income",
        "over_yearly_limit",
    ]);
    for month in months {
        csv.push_str(&super::csv::row(&[
            month.month.format("%Y-%m").to_string(),
            format!("{:.2}", month.income_individual.amount()),
            format!("{:.2}", month.income_legal_entity.amount()),
            format!("{:.2}", month.income.amount()),
            format!("{:.2}", month.tax_before_deduction.amount()),
            format!("{:.2}", month.deduction_used.amount()),
            format!("{:.2}", month.tax_due.amount()),
            month.due_date.to_string(),
            format!("{:.2}", month.deduction_left.amount()),
            format!("{:.2}", month.year_income.amount()),
            month.over_yearly_limit.to_string(),
        ]));
    }
    csv
}

/// Lines as CSV, in the order they happened.
pub fn lines_csv(lines: &[TaxLine]) -> String {
    let mut csv = super::csv::row(&[
        "tax_month",
        "at",
        "payment_id",
        "line_id",
        "kind",
        "payer_kind",
        "amount",
        "rate",
        "tax",
        "provider_fee",
        "net",
    ]);
    for line in lines {
        csv.push_str(&super::csv::row(&[
            line.tax_month.format("%Y-%m").to_string(),
            line.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            line.payment_id.clone(),
            line.line_id.clone(),
            line.kind.clone(),
            line.payer_kind.clone(),
            format!("{:.2}", line.amount),
            line.rate.normalize().to_string(),
            format!("{:.2}", line.tax),
            format!("{:.2}", line.provider_fee),
            format!("{:.2}", line.net),
        ]));
    }
    csv
}
