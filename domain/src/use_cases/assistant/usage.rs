//! What each AI request used and cost (`ai_usage`, write-side): tokens in and out and
//! the provider's cost per request, with the credits it was charged, for the owner's
//! margin report (`projections::read_models::ai_usage`).

use std::time::Duration;

use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::command::CommandError;

/// One request to an AI provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub user_id: Uuid,
    pub provider: String,
    pub model: Option<String>,
    /// `fitting`, `editing`, `editing_assistant`, `study_assistant`.
    pub purpose: &'static str,
    /// The job or chat session it was for.
    pub subject_id: String,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub cost: Decimal,
    /// Credits the user was charged for it (0 when returned or free).
    pub credits: u64,
    pub duration: Duration,
}

pub async fn record_usage(pool: &PgPool, usage: Usage) -> Result<(), CommandError> {
    let tokens = |count: Option<u64>| count.and_then(|count| i64::try_from(count).ok());
    sqlx::query(
        "INSERT INTO ai_usage (usage_id, user_id, provider, model, purpose, subject_id, \
             prompt_tokens, completion_tokens, cost, credits, duration_ms, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())",
    )
    .bind(Uuid::now_v7())
    .bind(usage.user_id)
    .bind(&usage.provider)
    .bind(&usage.model)
    .bind(usage.purpose)
    .bind(&usage.subject_id)
    .bind(tokens(usage.prompt_tokens))
    .bind(tokens(usage.completion_tokens))
    .bind(usage.cost)
    .bind(i64::try_from(usage.credits).unwrap_or(i64::MAX))
    .bind(i64::try_from(usage.duration.as_millis()).unwrap_or(i64::MAX))
    .execute(pool)
    .await?;
    Ok(())
}
