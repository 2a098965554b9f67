//! The free slots of a master: what the salon's booking screen offers. It reads
//! `booking_slots`, the reservations the event store writes in the same statement
//! as each booking event (see the migration), which is also what the domain's "is
//! the slot free" check reads; so a slot offered here is refused at booking only if
//! someone took it in between. Bookings per master and day are in `rm_bookings`
//! (the orders projection).

use chrono::{DateTime, Duration, Utc};
use domain::order::Slot;
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum FreeSlotsError {
    #[error(
        "a service must take between 1 minute and 24 hours, and slots must start at least 1 minute apart"
    )]
    BadDuration,
    #[error("the window must end after it starts and span at most 31 days")]
    BadWindow,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Slots of `duration` for `master_id`, starting every `step` from `opens`, ending by
/// `closes`, that overlap no reservation. The caller turns the salon's working hours
/// on a date (in its time zone) into `opens`..`closes`.
pub async fn free_slots(
    pool: &PgPool,
    master_id: Uuid,
    opens: DateTime<Utc>,
    closes: DateTime<Utc>,
    duration: Duration,
    step: Duration,
) -> Result<Vec<Slot>, FreeSlotsError> {
    let minute = Duration::minutes(1);
    if duration < minute || duration > Duration::hours(24) || step < minute {
        return Err(FreeSlotsError::BadDuration);
    }
    if closes <= opens || closes - opens > Duration::days(31) {
        return Err(FreeSlotsError::BadWindow);
    }
    if closes - opens < duration {
        return Ok(Vec::new());
    }
    let starts: Vec<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT s FROM generate_series($2::timestamptz, $3::timestamptz - make_interval(secs => $4), \
                                       make_interval(secs => $5)) AS s \
         WHERE NOT EXISTS (SELECT 1 FROM booking_slots b WHERE b.master_id = $1 \
                             AND b.slot && tstzrange(s, s + make_interval(secs => $4), '[)')) \
         ORDER BY s",
    )
    .bind(master_id)
    .bind(opens)
    .bind(closes)
    .bind(duration.num_seconds() as f64)
    .bind(step.num_seconds() as f64)
    .fetch_all(pool)
    .await?;
    Ok(starts
        .into_iter()
        .map(|start| Slot {
            start,
            end: start + duration,
        })
        .collect())
}
