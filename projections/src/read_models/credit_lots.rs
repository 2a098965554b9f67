//! What is left of each grant (`rm_credit_lots`): the domain's own lots, rebuilt by
//! replaying the account's stored events up to the newest one in the batch, so the
//! spend-from-which-lot rules live in one place (the aggregate). Feeds "points that
//! expire soon" and the points-expiry job.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::credit::{CreditAccount, CreditEvent};
use domain::wire::wire_name;
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct CreditLots;

async fn rebuild(
    connection: &mut PgConnection,
    account_id: &str,
    up_to: i64,
) -> Result<(), ApplyError> {
    let payloads: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT sequence, payload FROM events WHERE aggregate_type = 'CreditAccount' AND aggregate_id = $1 \
           AND sequence <= $2 ORDER BY sequence",
    )
    .bind(account_id)
    .bind(up_to)
    .fetch_all(&mut *connection)
    .await?;
    let mut account = CreditAccount::default();
    for (sequence, payload) in payloads {
        let event = CreditEvent::deserialize(&payload).map_err(|error| {
            ApplyError::Decode(format!("CreditAccount:{account_id}:{sequence}: {error}"))
        })?;
        account.apply(event);
    }
    sqlx::query("DELETE FROM rm_credit_lots WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut *connection)
        .await?;
    for (index, lot) in account.lots().enumerate() {
        sqlx::query(
            "INSERT INTO rm_credit_lots (account_id, lot, reason, reference, remaining, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account_id)
        .bind(i32::try_from(index).unwrap_or(i32::MAX))
        .bind(wire_name(&lot.reason))
        .bind(lot.reference)
        .bind(i64::try_from(lot.remaining).unwrap_or(i64::MAX))
        .bind(lot.expires_at)
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

impl Projection for CreditLots {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        use crate::worker::Rebuildable;
        Some(Rebuildable::tables(&["rm_credit_lots"]))
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::CreditLots.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["CreditAccount"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(rebuild(connection, &event.aggregate_id, event.sequence))
    }

    /// One rebuild per account in the batch, up to its newest event there.
    fn apply_batch<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [&'a EventEnvelope],
    ) -> ApplyFuture<'a> {
        Box::pin(async move {
            let mut newest: BTreeMap<&str, i64> = BTreeMap::new();
            for event in events {
                let entry = newest.entry(event.aggregate_id.as_str()).or_default();
                *entry = (*entry).max(event.sequence);
            }
            for (account_id, up_to) in newest {
                rebuild(connection, account_id, up_to).await?;
            }
            Ok(())
        })
    }
}

/// Points of one grant with something left that lapse soon.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExpiringLot {
    pub reason: String,
    pub reference: String,
    pub remaining: i64,
    pub expires_at: DateTime<Utc>,
}

/// The points of `account_id` that lapse after `now` and by `until`, soonest first.
pub async fn expiring(
    pool: &PgPool,
    account_id: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<ExpiringLot>, sqlx::Error> {
    sqlx::query_as(
        "SELECT reason, reference, remaining, expires_at FROM rm_credit_lots \
         WHERE account_id = $1 AND remaining > 0 AND expires_at > $2 AND expires_at <= $3 \
         ORDER BY expires_at, lot",
    )
    .bind(account_id)
    .bind(now)
    .bind(until)
    .fetch_all(pool)
    .await
}
