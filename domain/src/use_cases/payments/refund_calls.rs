//! Refund calls (`refund_calls`): every refund requested is a call to make at the
//! provider, outside any transaction. The refund executor records the call; whoever
//! makes it (the refund calls loop, or a staff request at once) first takes it under
//! a lease, and records the answer only while it still holds that lease (the lease's
//! end is its token). A verdict ends the call; pending is read again later, with a
//! pause that doubles; no verdict is asked again, under the same key; a bug parks it.
//! A crash between taking and recording lets the lease run out: the call is then asked
//! again under the same key, so the provider makes the refund once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::RefundState;
use crate::backoff::doubling;
use crate::command::CommandError;
use crate::use_cases::Core;

/// The pauses between calls, doubling per try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundCallPauses {
    /// After the first try without a verdict; at most `max_retry`.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// Before reading a refund the provider has pending again; at most `max_pending`.
    pub first_pending: Duration,
    pub max_pending: Duration,
}

impl Default for RefundCallPauses {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(30),
            first_pending: Duration::from_secs(30),
            max_pending: Duration::from_secs(1_800),
        }
    }
}

/// A call taken under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundCall {
    pub payment_id: Uuid,
    pub refund_id: String,
    /// Tries without a verdict, this one included.
    pub attempts: i32,
    /// Reads of a pending refund so far.
    pub reads: i32,
    lease: DateTime<Utc>,
}

/// What making a call came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// The refund has its verdict (or had it); the call is done.
    Done(RefundState),
    /// The provider keeps it pending; it is read again later.
    Pending,
    /// No verdict; asked again later under the same key.
    AskAgain(CommandError),
    /// It can never be made as it is (a bug); parked for an operator.
    Parked(CommandError),
}

/// Records the call for refund `refund_id` of payment `payment_id` (once), in the
/// caller's transaction.
pub async fn record_refund_call(
    connection: &mut PgConnection,
    payment_id: Uuid,
    refund_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refund_calls (payment_id, refund_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(payment_id)
    .bind(refund_id)
    .execute(connection)
    .await?;
    Ok(())
}

impl Core {
    /// Takes the call that is due soonest, if any, under a lease.
    pub async fn take_due_refund_call(&self) -> Result<Option<RefundCall>, sqlx::Error> {
        sqlx::query_as::<_, (Uuid, String, i32, i32, DateTime<Utc>)>(
            "UPDATE refund_calls c SET leased_until = clock_timestamp() + $1 * interval '1 millisecond' \
             FROM (SELECT payment_id, refund_id FROM refund_calls \
                   WHERE parked_at IS NULL AND due_at <= now() \
                     AND (leased_until IS NULL OR leased_until < now()) \
                   ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED) due \
             WHERE c.payment_id = due.payment_id AND c.refund_id = due.refund_id \
             RETURNING c.payment_id, c.refund_id, c.attempts, c.reads, c.leased_until",
        )
        .bind(self.lease_millis())
        .fetch_optional(self.pool())
        .await
        .map(|row| row.map(call_of))
    }

    /// Takes the call of refund `refund_id` now, recording it if the refund executor
    /// has not yet; `None` while someone else holds it.
    pub async fn lease_refund_call(
        &self,
        payment_id: Uuid,
        refund_id: &str,
    ) -> Result<Option<RefundCall>, sqlx::Error> {
        sqlx::query_as::<_, (Uuid, String, i32, i32, DateTime<Utc>)>(
            "INSERT INTO refund_calls (payment_id, refund_id, leased_until) \
             VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond') \
             ON CONFLICT (payment_id, refund_id) DO UPDATE SET leased_until = EXCLUDED.leased_until \
             WHERE refund_calls.parked_at IS NULL \
               AND (refund_calls.leased_until IS NULL OR refund_calls.leased_until < now()) \
             RETURNING payment_id, refund_id, attempts, reads, leased_until",
        )
        .bind(payment_id)
        .bind(refund_id)
        .bind(self.lease_millis())
        .fetch_optional(self.pool())
        .await
        .map(|row| row.map(call_of))
    }

    /// Asks the provider (outside any transaction) and records what came of it, while
    /// the lease holds; a lost lease records nothing (its new holder does).
    pub async fn make_refund_call(
        &self,
        call: &RefundCall,
        pauses: &RefundCallPauses,
    ) -> Result<CallOutcome, sqlx::Error> {
        let outcome = match self
            .execute_refund(&call.payment_id.to_string(), &call.refund_id)
            .await
        {
            Ok(RefundState::Pending) => CallOutcome::Pending,
            Ok(state) => CallOutcome::Done(state),
            Err(error) if error.is_transient() => CallOutcome::AskAgain(error),
            Err(error) => CallOutcome::Parked(error),
        };
        let held = "WHERE payment_id = $1 AND refund_id = $2 AND leased_until = $3";
        let (sql, pause, reason) = match &outcome {
            CallOutcome::Done(_) => (format!("DELETE FROM refund_calls {held}"), None, None),
            CallOutcome::Pending => (
                format!(
                    "UPDATE refund_calls SET reads = reads + 1, leased_until = NULL, \
                     due_at = now() + $4 * interval '1 millisecond', last_error = 'pending at the provider' {held}"
                ),
                Some(doubling(
                    i64::from(call.reads) + 1,
                    pauses.first_pending,
                    pauses.max_pending,
                )),
                None,
            ),
            CallOutcome::AskAgain(error) => (
                format!(
                    "UPDATE refund_calls SET attempts = attempts + 1, leased_until = NULL, \
                     due_at = now() + $4 * interval '1 millisecond', last_error = $5 {held}"
                ),
                Some(doubling(
                    i64::from(call.attempts),
                    pauses.first_retry,
                    pauses.max_retry,
                )),
                Some(error.message.clone()),
            ),
            CallOutcome::Parked(error) => (
                format!(
                    "UPDATE refund_calls SET parked_at = now(), leased_until = NULL, last_error = $4 {held}"
                ),
                None,
                Some(error.message.clone()),
            ),
        };
        let mut statement = sqlx::query(&sql)
            .bind(call.payment_id)
            .bind(&call.refund_id)
            .bind(call.lease);
        if let Some(pause) = pause {
            statement = statement.bind(millis(pause));
        }
        if let Some(reason) = reason {
            statement = statement.bind(reason);
        }
        let recorded = statement.execute(self.pool()).await?;
        if recorded.rows_affected() == 0 {
            tracing::warn!(payment = %call.payment_id, refund = call.refund_id, "a refund call's lease ran out before its answer; its new holder records it");
        }
        Ok(outcome)
    }

    /// Parked refund calls: (payment, refund, error), for operators.
    pub async fn parked_refund_calls(&self) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT payment_id, refund_id, COALESCE(last_error, '') FROM refund_calls \
             WHERE parked_at IS NOT NULL ORDER BY parked_at",
        )
        .fetch_all(self.pool())
        .await
    }

    fn lease_millis(&self) -> f64 {
        millis(self.payment_rules.refund_call_lease)
    }
}

fn millis(pause: Duration) -> f64 {
    pause.as_millis() as f64
}

fn call_of(
    (payment_id, refund_id, attempts, reads, lease): (Uuid, String, i32, i32, DateTime<Utc>),
) -> RefundCall {
    RefundCall {
        payment_id,
        refund_id,
        attempts: attempts + 1,
        reads,
        lease,
    }
}
