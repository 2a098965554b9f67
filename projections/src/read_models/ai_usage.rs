//! The AI providers' usage (`ai_usage`, written by the generation and assistant use
//! cases): requests, tokens, the providers' cost and the credits charged, per
//! provider and purpose, for the owner's margin report.

use chrono::{DateTime, Utc};
use domain::command::CommandError;
use domain::permissions::{Action, Caller};
use rust_decimal::Decimal;

/// One provider's use for one purpose in a period.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AiUsageLine {
    pub provider: String,
    /// `fitting`, `editing`, `editing_assistant`, `study_assistant`.
    pub purpose: String,
    pub requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// What the provider charged, in its currency (a string with up to 6 places).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub cost: Decimal,
    /// Credits users were charged for it (returned ones excluded).
    pub credits: i64,
    pub average_ms: i64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AiUsageReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub lines: Vec<AiUsageLine>,
}

impl crate::ReadModels {
    /// Usage from `from` (inclusive) to `to` (exclusive), by provider and purpose.
    pub async fn ai_usage(
        &self,
        viewer: Caller,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<AiUsageReport, CommandError> {
        viewer.require(Action::ViewAiUsage)?;
        if to <= from {
            return Err(CommandError::invalid("to", "a time after `from`"));
        }
        let lines = sqlx::query_as(
            "SELECT provider, purpose, count(*) AS requests, \
                    coalesce(sum(prompt_tokens), 0)::bigint AS prompt_tokens, \
                    coalesce(sum(completion_tokens), 0)::bigint AS completion_tokens, \
                    sum(cost) AS cost, sum(credits)::bigint AS credits, \
                    avg(duration_ms)::bigint AS average_ms \
             FROM ai_usage WHERE recorded_at >= $1 AND recorded_at < $2 \
             GROUP BY provider, purpose ORDER BY provider, purpose",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        Ok(AiUsageReport { from, to, lines })
    }
}
