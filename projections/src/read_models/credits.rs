//! Credit balances and the statement of every change (`rm_credit_balances`,
//! `rm_credit_statement`).

use domain::credit::{CreditEvent, GrantReason};
use sqlx::PgConnection;

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

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
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
    event: &'a EventEnvelope,
}

fn reason_name(reason: GrantReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn change(event: &EventEnvelope) -> Result<Change<'_>, ApplyError> {
    let decoded: CreditEvent = serde_json::from_value(event.payload.clone())
        .map_err(|error| ApplyError::Decode(format!("{}: {error}", event.message_id())))?;
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
            reason: reason_name(reason),
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

impl Projection for CreditBalances {
    fn name(&self) -> &'static str {
        "credit_balances"
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
}
