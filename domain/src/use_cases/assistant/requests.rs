//! Each assistant request is recorded before anything is spent
//! (`assistant_requests`): the per-user rate is counted there, under a per-user lock,
//! and a request whose answer never came (a crash, a dropped client) is found and its
//! credits returned by `settle_abandoned_assistant_requests`.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::command::{CommandError, ErrorKind};
use crate::credit::CreditCommand;
use crate::permissions::Caller;
use crate::use_cases::Core;

/// A request still unsettled this long after it began was abandoned.
pub const ABANDONED_AFTER: Duration = Duration::minutes(5);

/// Records a request, refusing it when the user already made the minute's allowance.
pub(super) async fn begin(
    core: &Core,
    caller: Caller,
    operation: &str,
    credits: u64,
    now: DateTime<Utc>,
) -> Result<(), CommandError> {
    let mut transaction = core.pool().begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('assistant:' || $1::text, 0))")
        .bind(caller.user_id)
        .execute(&mut *transaction)
        .await?;
    let recent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM assistant_requests WHERE user_id = $1 AND created_at > $2",
    )
    .bind(caller.user_id)
    .bind(now - Duration::minutes(1))
    .fetch_one(&mut *transaction)
    .await?;
    let limit = core.ai.rules.assistant_per_minute;
    if recent >= i64::from(limit) {
        return Err(CommandError::new(
            ErrorKind::InvalidState,
            format!("at most {limit} messages a minute; wait a little"),
        )
        .with_code("rate_limited"));
    }
    sqlx::query(
        "INSERT INTO assistant_requests (operation_id, user_id, credits, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(operation)
    .bind(caller.user_id)
    .bind(i64::try_from(credits).unwrap_or(i64::MAX))
    .bind(now)
    .execute(&mut *transaction)
    .await?;
    transaction.commit().await?;
    Ok(())
}

pub(super) async fn settle(
    core: &Core,
    operation: &str,
    now: DateTime<Utc>,
) -> Result<(), CommandError> {
    sqlx::query("UPDATE assistant_requests SET settled_at = $2 WHERE operation_id = $1 AND settled_at IS NULL")
        .bind(operation)
        .bind(now)
        .execute(core.pool())
        .await?;
    Ok(())
}

/// Returns a request's credits (a refund made already, or a spend that never
/// happened, is fine) and settles it.
pub(super) async fn refund(
    core: &Core,
    user_id: Uuid,
    operation: &str,
    credits: u64,
    now: DateTime<Utc>,
) -> Result<(), CommandError> {
    if credits > 0 {
        let refunded = core
            .commands
            .credits
            .execute(
                &user_id.to_string(),
                CreditCommand::RefundSpend {
                    operation_id: operation.to_owned(),
                    at: now,
                },
                &crate::command::CommandContext::system("assistant").at(now),
            )
            .await;
        match refunded {
            Ok(_) => {}
            Err(refused)
                if refused.code == Some("spend_already_refunded")
                    || refused.kind == ErrorKind::NotFound => {}
            Err(other) => return Err(other),
        }
    }
    settle(core, operation, now).await
}

impl Core {
    /// Returns the credits of requests abandoned before their answer; how many.
    pub async fn settle_abandoned_assistant_requests(
        &self,
        now: DateTime<Utc>,
    ) -> Result<u64, CommandError> {
        let abandoned: Vec<(String, Uuid, i64)> = sqlx::query_as(
            "SELECT operation_id, user_id, credits FROM assistant_requests \
             WHERE settled_at IS NULL AND created_at < $1 ORDER BY created_at LIMIT 500",
        )
        .bind(now - ABANDONED_AFTER)
        .fetch_all(self.pool())
        .await?;
        let mut settled = 0;
        for (operation, user_id, credits) in &abandoned {
            tracing::warn!(%user_id, operation, "an assistant request never got its answer; its credits are returned");
            let credits = u64::try_from(*credits).unwrap_or(0);
            match refund(self, *user_id, operation, credits, now).await {
                Ok(()) => settled += 1,
                // One that cannot be refunded now holds up no other.
                Err(error) => {
                    tracing::warn!(%error, operation, "an abandoned assistant request is tried again later");
                }
            }
        }
        Ok(settled)
    }
}
