//! Credit balances and the statement of every change (`rm_credit_balances`,
//! `rm_credit_statement`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::credit::CreditEvent;
use domain::wire::wire_name;
use sqlx::PgConnection;

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

mod queries;

pub use queries::{Balance, StatementLine, StatementPage};

pub struct CreditBalances;

/// One change to an account.
struct Change<'a> {
    balance: i64,
    granted: i64,
    spent: i64,
    refunded: i64,
    expired: i64,
    kind: &'static str,
    reason: String,
    reference: String,
    expires_at: Option<DateTime<Utc>>,
    event: &'a EventEnvelope,
}

fn change(event: &EventEnvelope) -> Result<Change<'_>, ApplyError> {
    let decoded = event.decode::<CreditEvent>()?;
    let blank = |kind| Change {
        balance: 0,
        granted: 0,
        spent: 0,
        refunded: 0,
        expired: 0,
        kind,
        reason: String::new(),
        reference: String::new(),
        expires_at: None,
        event,
    };
    Ok(match decoded {
        CreditEvent::CreditsGranted {
            amount,
            reason,
            reference,
            expires_at,
        } => Change {
            balance: amount as i64,
            granted: amount as i64,
            reason: wire_name(&reason),
            reference,
            expires_at,
            ..blank("granted")
        },
        CreditEvent::CreditsSpent {
            amount,
            reason,
            operation_id,
            ..
        } => Change {
            balance: -(amount as i64),
            spent: amount as i64,
            reason,
            reference: operation_id,
            ..blank("spent")
        },
        CreditEvent::SpendRefunded {
            operation_id,
            amount,
        } => Change {
            balance: amount as i64,
            refunded: amount as i64,
            reason: "refund".to_owned(),
            reference: operation_id,
            ..blank("refunded")
        },
        CreditEvent::SubscriptionActivated {
            plan,
            period_end,
            credits_per_period,
        } => Change {
            reason: format!("subscription: {credits_per_period} credits per period"),
            reference: plan,
            expires_at: Some(period_end),
            ..blank("subscription")
        },
        // Taken back from a refunded purchase: granted net of it.
        CreditEvent::CreditsRevoked {
            reason,
            amount,
            operation_id,
            ..
        } => Change {
            balance: -(amount as i64),
            granted: -(amount as i64),
            reason: format!("refunded {}", wire_name(&reason)),
            reference: operation_id,
            ..blank("revoked")
        },
        CreditEvent::PointsExpired { amount, expired } => Change {
            balance: -(amount as i64),
            expired: amount as i64,
            reason: "lifetime".to_owned(),
            reference: expired
                .iter()
                .map(|grant| grant.reference.as_str())
                .collect::<Vec<_>>()
                .join(","),
            ..blank("expired")
        },
    })
}

async fn record(connection: &mut PgConnection, change: Change<'_>) -> Result<(), ApplyError> {
    let event = change.event;
    sqlx::query(
        "INSERT INTO rm_credit_balances (account_id, balance, granted, spent, refunded, expired, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (account_id) DO UPDATE SET \
           balance = rm_credit_balances.balance + EXCLUDED.balance, \
           granted = rm_credit_balances.granted + EXCLUDED.granted, \
           spent = rm_credit_balances.spent + EXCLUDED.spent, \
           refunded = rm_credit_balances.refunded + EXCLUDED.refunded, \
           expired = rm_credit_balances.expired + EXCLUDED.expired, \
           updated_at = EXCLUDED.updated_at",
    )
    .bind(&event.aggregate_id)
    .bind(change.balance)
    .bind(change.granted)
    .bind(change.spent)
    .bind(change.refunded)
    .bind(change.expired)
    .bind(event.recorded_at)
    .execute(&mut *connection)
    .await?;
    sqlx::query(
        "INSERT INTO rm_credit_statement (account_id, sequence, recorded_at, change, kind, reason, reference, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&event.aggregate_id)
    .bind(event.sequence)
    .bind(event.recorded_at)
    .bind(change.balance)
    .bind(change.kind)
    .bind(&change.reason)
    .bind(&change.reference)
    .bind(change.expires_at)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Writes a batch of changes with two statements: the balance deltas summed per
/// account, and the statement lines.
async fn record_all(
    connection: &mut PgConnection,
    changes: Vec<Change<'_>>,
) -> Result<(), ApplyError> {
    let mut accounts: Vec<&str> = Vec::new();
    let mut deltas: HashMap<&str, [i64; 5]> = HashMap::new();
    let mut updated: HashMap<&str, DateTime<Utc>> = HashMap::new();
    for change in &changes {
        let account = change.event.aggregate_id.as_str();
        let delta = deltas.entry(account).or_insert_with(|| {
            accounts.push(account);
            [0; 5]
        });
        delta[0] += change.balance;
        delta[1] += change.granted;
        delta[2] += change.spent;
        delta[3] += change.refunded;
        delta[4] += change.expired;
        updated.insert(account, change.event.recorded_at);
    }
    accounts.sort_unstable();
    let column = |index: usize| -> Vec<i64> {
        accounts
            .iter()
            .map(|account| deltas.get(account).map_or(0, |delta| delta[index]))
            .collect()
    };
    let updated_at: Vec<DateTime<Utc>> = accounts
        .iter()
        .map(|account| updated.get(account).copied().unwrap_or_else(Utc::now))
        .collect();
    sqlx::query(
        "INSERT INTO rm_credit_balances (account_id, balance, granted, spent, refunded, expired, updated_at) \
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::timestamptz[]) \
         ON CONFLICT (account_id) DO UPDATE SET \
           balance = rm_credit_balances.balance + EXCLUDED.balance, \
           granted = rm_credit_balances.granted + EXCLUDED.granted, \
           spent = rm_credit_balances.spent + EXCLUDED.spent, \
           refunded = rm_credit_balances.refunded + EXCLUDED.refunded, \
           expired = rm_credit_balances.expired + EXCLUDED.expired, \
           updated_at = EXCLUDED.updated_at",
    )
    .bind(&accounts)
    .bind(column(0))
    .bind(column(1))
    .bind(column(2))
    .bind(column(3))
    .bind(column(4))
    .bind(&updated_at)
    .execute(&mut *connection)
    .await?;
    let lines = changes.len();
    let mut ids = Vec::with_capacity(lines);
    let mut sequences = Vec::with_capacity(lines);
    let mut recorded = Vec::with_capacity(lines);
    let mut amounts = Vec::with_capacity(lines);
    let mut kinds = Vec::with_capacity(lines);
    let mut reasons = Vec::with_capacity(lines);
    let mut references = Vec::with_capacity(lines);
    let mut expiries = Vec::with_capacity(lines);
    for change in changes {
        ids.push(change.event.aggregate_id.as_str());
        sequences.push(change.event.sequence);
        recorded.push(change.event.recorded_at);
        amounts.push(change.balance);
        kinds.push(change.kind);
        reasons.push(change.reason);
        references.push(change.reference);
        expiries.push(change.expires_at);
    }
    sqlx::query(
        "INSERT INTO rm_credit_statement (account_id, sequence, recorded_at, change, kind, reason, reference, expires_at) \
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::timestamptz[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])",
    )
    .bind(&ids)
    .bind(&sequences)
    .bind(&recorded)
    .bind(&amounts)
    .bind(&kinds)
    .bind(&reasons)
    .bind(&references)
    .bind(&expiries)
    .execute(connection)
    .await?;
    Ok(())
}

impl Projection for CreditBalances {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        use crate::worker::Rebuildable;
        Some(Rebuildable {
            tables: &["rm_credit_balances", "rm_credit_statement"],
            run_time_columns: &[("rm_credit_statement", "projected_at")],
            before_switch: None,
        })
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::CreditBalances.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["CreditAccount"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(async move { record(connection, change(event)?).await })
    }

    fn apply_batch<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [&'a EventEnvelope],
    ) -> ApplyFuture<'a> {
        Box::pin(async move {
            let changes = events
                .iter()
                .map(|event| change(event))
                .collect::<Result<Vec<_>, _>>()?;
            record_all(connection, changes).await
        })
    }
}
