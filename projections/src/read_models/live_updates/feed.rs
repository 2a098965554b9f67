//! Reading `rm_live_updates`: rows after a position, for one audience; the head of the
//! feed; and pruning what is older than the retention (the projection's own
//! housekeeping, run once per deployment by the workers part).

use chrono::{DateTime, Utc};
use domain::permissions::{Action, Role, is_allowed};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// One update as stored and as sent (with `"type": "update"`).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LiveUpdate {
    pub position: i64,
    pub topic: String,
    /// The order, ticket, payment, account or user it is about.
    pub id: String,
    pub event: String,
    pub data: Value,
    pub at: DateTime<Utc>,
    #[serde(skip)]
    pub aggregate_type: String,
    #[serde(skip)]
    pub sequence: i64,
    #[serde(skip)]
    pub user_ids: Vec<Uuid>,
    #[serde(skip)]
    pub staff_queue: Option<String>,
}

const COLUMNS: &str = "position, topic, aggregate_id AS id, event, data, at, aggregate_type, \
     sequence, user_ids, staff_queue";

/// Who is listening on one connection: a user, and the staff queues their role
/// sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub user_id: Uuid,
    pub role: Role,
    pub queues: Vec<&'static str>,
}

impl Listener {
    pub fn new(user_id: Uuid, role: Role) -> Self {
        let mut queues = Vec::new();
        if is_allowed(role, Action::ViewAllOrders) {
            queues.push(super::StaffQueue::Orders.as_str());
        }
        if is_allowed(role, Action::ViewAllTickets) {
            queues.push(super::StaffQueue::Tickets.as_str());
        }
        Self {
            user_id,
            role,
            queues,
        }
    }

    pub fn hears(&self, update: &LiveUpdate) -> bool {
        update.user_ids.contains(&self.user_id)
            || update
                .staff_queue
                .as_deref()
                .is_some_and(|queue| self.queues.contains(&queue))
    }
}

/// Up to `limit` updates after `position` that `listener` hears, oldest first.
pub async fn after(
    pool: &PgPool,
    listener: &Listener,
    position: i64,
    limit: i64,
) -> Result<Vec<LiveUpdate>, sqlx::Error> {
    let queues: Vec<&str> = listener.queues.clone();
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM rm_live_updates \
         WHERE position > $1 AND ($2 = ANY(user_ids) OR staff_queue = ANY($3)) \
         ORDER BY position LIMIT $4"
    ))
    .bind(position)
    .bind(listener.user_id)
    .bind(&queues)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Up to `limit` updates after `position`, whoever hears them (the hub's read).
pub async fn all_after(
    pool: &PgPool,
    position: i64,
    limit: i64,
) -> Result<Vec<LiveUpdate>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM rm_live_updates WHERE position > $1 ORDER BY position LIMIT $2"
    ))
    .bind(position)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The newest position handed out, and the newest one pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Head {
    pub position: i64,
    pub pruned_through: i64,
}

pub async fn head(pool: &PgPool) -> Result<Head, sqlx::Error> {
    sqlx::query_as("SELECT position, pruned_through FROM live_updates_head")
        .fetch_one(pool)
        .await
}

/// Deletes updates written before `before` and remembers how far it pruned, so a
/// client resuming from a pruned position is told to re-read instead of silently
/// missing updates. Returns how many rows went.
pub async fn prune(pool: &PgPool, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut transaction = pool.begin().await?;
    let newest: Option<i64> =
        sqlx::query_scalar("SELECT max(position) FROM rm_live_updates WHERE written_at < $1")
            .bind(before)
            .fetch_one(&mut *transaction)
            .await?;
    let Some(newest) = newest else {
        return Ok(0);
    };
    let deleted = sqlx::query("DELETE FROM rm_live_updates WHERE position <= $1")
        .bind(newest)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
    sqlx::query("UPDATE live_updates_head SET pruned_through = GREATEST(pruned_through, $1)")
        .bind(newest)
        .execute(&mut *transaction)
        .await?;
    transaction.commit().await?;
    Ok(deleted)
}
