//! What is left of each grant (`rm_credit_lots`): the domain's own lots, rebuilt by
//! replaying the account's stored events up to the newest one in the batch (from the
//! state the last rebuild left, when it is still in memory), so the
//! spend-from-which-lot rules live in one place (the aggregate). Feeds "points that
//! expire soon" and the points-expiry job.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::credit::{CreditAccount, CreditEvent};
use domain::wire::wire_name;
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

/// The read model, with the accounts it last rebuilt kept in memory: an account's
/// state after its first n events never changes (the store is append-only), so the
/// next rebuild reads only the events after n. A kept state names the event it ends
/// at by `global_position` (never reused, even by a rolled-back insert), so a state
/// built from events of a transaction that then rolled back is recognised and
/// dropped. Without it every rebuild replayed the whole account: a cost that grew
/// with the account's history, on every spend.
#[derive(Default)]
pub struct CreditLots {
    replayed_accounts: Mutex<HashMap<String, ReplayedAccount>>,
}

/// An account as of one of its events.
#[derive(Clone)]
struct ReplayedAccount {
    sequence: i64,
    global_position: i64,
    account: CreditAccount,
}

/// The most accounts kept; past it the memory starts over.
const MAX_REPLAYED_ACCOUNTS: usize = 10_000;

impl CreditLots {
    fn replayed_accounts(&self) -> std::sync::MutexGuard<'_, HashMap<String, ReplayedAccount>> {
        match self.replayed_accounts.lock() {
            Ok(kept) => kept,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    async fn rebuild(
        &self,
        connection: &mut PgConnection,
        account_id: &str,
        up_to: i64,
    ) -> Result<(), ApplyError> {
        let start = self
            .replayed_accounts()
            .get(account_id)
            .filter(|kept| kept.sequence <= up_to)
            .cloned();
        let account = match self.replayed(connection, account_id, up_to, start).await? {
            Some(account) => account,
            // The kept state's last event is not the store's: replay it all.
            None => self
                .replayed(connection, account_id, up_to, None)
                .await?
                .unwrap_or_default(),
        };
        write_lots(connection, account_id, &account).await
    }

    /// The account after event `up_to`, from `start` (or from nothing) and the events
    /// after it; `None` when `start`'s own last event is not the one in the store.
    async fn replayed(
        &self,
        connection: &mut PgConnection,
        account_id: &str,
        up_to: i64,
        start: Option<ReplayedAccount>,
    ) -> Result<Option<CreditAccount>, ApplyError> {
        let after = start.as_ref().map_or(0, |kept| kept.sequence);
        let rows: Vec<(i64, i64, serde_json::Value)> = sqlx::query_as(
            "SELECT sequence, global_position, payload FROM events \
             WHERE aggregate_type = 'CreditAccount' AND aggregate_id = $1 \
               AND sequence >= $2 AND sequence <= $3 ORDER BY sequence",
        )
        .bind(account_id)
        .bind(after)
        .bind(up_to)
        .fetch_all(&mut *connection)
        .await?;
        let mut rows = rows.into_iter();
        let mut account = match start {
            Some(kept) => match rows.next() {
                Some((sequence, position, _))
                    if sequence == kept.sequence && position == kept.global_position =>
                {
                    kept.account
                }
                _ => {
                    self.replayed_accounts().remove(account_id);
                    return Ok(None);
                }
            },
            None => CreditAccount::default(),
        };
        let mut last = None;
        for (sequence, position, payload) in rows {
            let event = CreditEvent::deserialize(&payload).map_err(|error| {
                ApplyError::Decode(format!("CreditAccount:{account_id}:{sequence}: {error}"))
            })?;
            account.apply(event);
            last = Some((sequence, position));
        }
        if let Some((sequence, global_position)) = last {
            let mut kept = self.replayed_accounts();
            if kept.len() >= MAX_REPLAYED_ACCOUNTS {
                kept.clear();
            }
            kept.insert(
                account_id.to_owned(),
                ReplayedAccount {
                    sequence,
                    global_position,
                    account: account.clone(),
                },
            );
        }
        Ok(Some(account))
    }
}

/// Writes `account`'s lots: only the rows that changed (a spend changes one or two),
/// so a rebuild leaves no dead row versions behind for the others.
async fn write_lots(
    connection: &mut PgConnection,
    account_id: &str,
    account: &CreditAccount,
) -> Result<(), ApplyError> {
    let mut numbers = Vec::new();
    let mut reasons = Vec::new();
    let mut references = Vec::new();
    let mut remaining = Vec::new();
    let mut expiries = Vec::new();
    for (index, lot) in account.lots().enumerate() {
        numbers.push(i32::try_from(index).unwrap_or(i32::MAX));
        reasons.push(wire_name(&lot.reason));
        references.push(lot.reference.to_owned());
        remaining.push(i64::try_from(lot.remaining).unwrap_or(i64::MAX));
        expiries.push(lot.expires_at);
    }
    sqlx::query(
        "INSERT INTO rm_credit_lots AS l (account_id, lot, reason, reference, remaining, expires_at) \
         SELECT $1, n.lot, n.reason, n.reference, n.remaining, n.expires_at \
         FROM UNNEST($2::int[], $3::text[], $4::text[], $5::bigint[], $6::timestamptz[]) \
              AS n(lot, reason, reference, remaining, expires_at) \
         ON CONFLICT (account_id, lot) DO UPDATE \
         SET reason = EXCLUDED.reason, reference = EXCLUDED.reference, \
             remaining = EXCLUDED.remaining, expires_at = EXCLUDED.expires_at \
         WHERE (l.reason, l.reference, l.remaining, l.expires_at) \
               IS DISTINCT FROM (EXCLUDED.reason, EXCLUDED.reference, EXCLUDED.remaining, EXCLUDED.expires_at)",
    )
    .bind(account_id)
    .bind(&numbers)
    .bind(&reasons)
    .bind(&references)
    .bind(&remaining)
    .bind(&expiries)
    .execute(&mut *connection)
    .await?;
    sqlx::query("DELETE FROM rm_credit_lots WHERE account_id = $1 AND lot >= $2")
        .bind(account_id)
        .bind(i32::try_from(numbers.len()).unwrap_or(i32::MAX))
        .execute(&mut *connection)
        .await?;
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
        Box::pin(self.rebuild(connection, &event.aggregate_id, event.sequence))
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
                self.rebuild(connection, account_id, up_to).await?;
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
