//! Reading a credit account: the balance with points that lapse soon, and the
//! statement, newest first.

use chrono::{DateTime, Duration, Utc};
use domain::command::CommandError;
use domain::permissions::Caller;
use domain::use_cases::Written;
use serde::Serialize;

use crate::ProjectionName;
use crate::read_models::ReadModels;
use crate::read_models::credit_lots::{ExpiringLot, expiring};
use crate::read_models::paging::page_limit;

/// How far ahead "expiring soon" looks.
const EXPIRING_WITHIN_DAYS: i64 = 30;

/// A credit account: what is left, and how it came to be.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Balance {
    pub balance: i64,
    pub granted: i64,
    pub spent: i64,
    pub refunded: i64,
    pub expired: i64,
    /// Points with something left that lapse within 30 days, soonest first.
    pub expiring_soon: Vec<ExpiringLot>,
}

/// One change of the balance.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementLine {
    pub sequence: i64,
    pub recorded_at: DateTime<Utc>,
    pub change: i64,
    pub kind: String,
    pub reason: String,
    pub reference: String,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A page of the statement, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementPage {
    pub items: Vec<StatementLine>,
    /// Pass as `before` for the next (older) page; absent on the last one.
    pub next_cursor: Option<i64>,
}

impl ReadModels {
    /// The caller's own account, once both its balance and its lots show `after`.
    pub async fn balance(
        &self,
        viewer: Caller,
        after: Option<&Written>,
    ) -> Result<Balance, CommandError> {
        let account = viewer.user_id.to_string();
        let account_id = account.as_str();
        tokio::join!(
            self.shows(ProjectionName::CreditBalances, "CreditAccount", after),
            self.shows(ProjectionName::CreditLots, "CreditAccount", after),
        );
        let row: Option<(i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT balance, granted, spent, refunded, expired FROM rm_credit_balances WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_optional(self.pool())
        .await?;
        let (balance, granted, spent, refunded, expired) = row.unwrap_or_default();
        let now = Utc::now();
        let expiring_soon = expiring(
            self.pool(),
            account_id,
            now,
            now + Duration::days(EXPIRING_WITHIN_DAYS),
        )
        .await?;
        Ok(Balance {
            balance,
            granted,
            spent,
            refunded,
            expired,
            expiring_soon,
        })
    }

    /// The caller's own statement: at most `limit` lines (50 by default) before
    /// sequence `before`, newest first.
    pub async fn statement(
        &self,
        viewer: Caller,
        limit: Option<i64>,
        before: Option<i64>,
    ) -> Result<StatementPage, CommandError> {
        let account_id = viewer.user_id.to_string();
        let limit = page_limit(limit)?;
        let items: Vec<StatementLine> = sqlx::query_as(
            "SELECT sequence, recorded_at, change, kind, reason, reference, expires_at FROM rm_credit_statement \
             WHERE account_id = $1 AND ($2::bigint IS NULL OR sequence < $2) ORDER BY sequence DESC LIMIT $3",
        )
        .bind(&account_id)
        .bind(before)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let next_cursor = (items.len() as i64 == limit)
            .then(|| items.last().map(|line| line.sequence))
            .flatten()
            .filter(|sequence| *sequence > 1);
        Ok(StatementPage { items, next_cursor })
    }

    /// Credits `account_id` earned by referral bonuses.
    pub(crate) async fn referral_earnings(&self, account_id: &str) -> Result<i64, CommandError> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(sum(change), 0)::bigint FROM rm_credit_statement \
             WHERE account_id = $1 AND kind = 'granted' AND reason = 'referral'",
        )
        .bind(account_id)
        .fetch_one(self.pool())
        .await?)
    }
}
