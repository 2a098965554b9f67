//! Who a broadcast reaches: users of the users read model who are not blocked and
//! have a Telegram account, by role, loyalty tier, or when they were last seen. The
//! size for the preview, and the recipients fixed once when sending starts.

use chrono::{DateTime, Duration, Utc};
use domain::command::CommandError;
use domain::permissions::{Action, Caller};
use domain::use_cases::broadcasts::Audience;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::read_models::ReadModels;

const AUDIENCE: &str = "FROM rm_users u \
     JOIN telegram_identities t ON t.user_id::text = u.user_id \
     LEFT JOIN rm_user_spending s ON s.user_id::text = u.user_id \
     WHERE NOT u.blocked \
       AND ($1::text IS NULL OR u.role = $1) \
       AND ($2::text IS NULL OR s.loyalty_tier = $2) \
       AND ($3::timestamptz IS NULL OR t.last_seen_at >= $3)";

/// The filter's parameters: role, tier, seen since.
fn parameters(
    audience: &Audience,
    now: DateTime<Utc>,
) -> (Option<String>, Option<String>, Option<DateTime<Utc>>) {
    match audience {
        Audience::Everyone => (None, None, None),
        Audience::Role { role } => (Some(domain::wire::wire_name(role)), None, None),
        Audience::LoyaltyTier { tier } => (None, Some(tier.clone()), None),
        Audience::ActiveWithin { days } => {
            (None, None, Some(now - Duration::days(i64::from(*days))))
        }
    }
}

impl ReadModels {
    /// How many people `audience` reaches now.
    pub async fn audience_size(
        &self,
        viewer: Caller,
        audience: &Audience,
        now: DateTime<Utc>,
    ) -> Result<i64, CommandError> {
        viewer.require(Action::SendBroadcast)?;
        let (role, tier, since) = parameters(audience, now);
        Ok(sqlx::query_scalar(&format!("SELECT count(*) {AUDIENCE}"))
            .bind(role)
            .bind(tier)
            .bind(since)
            .fetch_one(self.pool())
            .await?)
    }
}

/// Fixes the recipients of broadcast `broadcast_id`: everyone `audience` reaches now,
/// in the caller's transaction; how many.
pub(crate) async fn fix_recipients(
    connection: &mut PgConnection,
    broadcast_id: Uuid,
    audience: &Audience,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let (role, tier, since) = parameters(audience, now);
    let inserted = sqlx::query(&format!(
        "INSERT INTO broadcast_recipients (broadcast_id, chat_id, user_id, language) \
         SELECT $4, t.telegram_id, t.user_id, u.language {AUDIENCE} \
         ON CONFLICT DO NOTHING"
    ))
    .bind(role)
    .bind(tier)
    .bind(since)
    .bind(broadcast_id)
    .execute(connection)
    .await?;
    Ok(inserted.rows_affected())
}
