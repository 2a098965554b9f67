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

/// How long the slots asked for are: a salon service's duration, or minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotLength {
    Service(String),
    Minutes(i64),
}

/// When a master is free on a date.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreeSlots {
    pub master_id: Uuid,
    pub date: chrono::NaiveDate,
    /// Free slots of the asked duration, on the step grid, earliest first.
    pub slots: Vec<Slot>,
}

impl crate::ReadModels {
    /// The slots of `length` master `master_id` is free for on `date`, every `step`
    /// minutes (30 unless given) within the salon's working hours (in its time zone);
    /// slots already begun are not offered, the rest stay on the step grid.
    pub async fn free_slots(
        &self,
        offer: &domain::catalogue::Offer,
        master_id: Uuid,
        date: chrono::NaiveDate,
        length: SlotLength,
        step_minutes: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<FreeSlots, domain::command::CommandError> {
        use domain::command::CommandError;
        let minutes = match length {
            SlotLength::Service(id) => offer
                .shopfront
                .service(&id)
                .map(|service| i64::from(service.duration_minutes))
                .ok_or_else(|| {
                    CommandError::invalid(
                        "service_id",
                        "not one of the salon's services; GET /api/v1/bookings/services lists them",
                    )
                })?,
            SlotLength::Minutes(minutes) if (5..=720).contains(&minutes) => minutes,
            SlotLength::Minutes(_) => {
                return Err(CommandError::invalid("duration_minutes", "from 5 to 720"));
            }
        };
        let step = step_minutes.unwrap_or(30);
        if !(5..=240).contains(&step) {
            return Err(CommandError::invalid("step_minutes", "from 5 to 240"));
        }
        let (opens, closes) = offer
            .salon
            .day(date)
            .ok_or_else(|| CommandError::invalid("date", "a date the salon's calendar has"))?;
        let opens = if now > opens {
            let step_seconds = step * 60;
            let passed = (now - opens).num_seconds();
            opens + Duration::seconds((passed + step_seconds - 1) / step_seconds * step_seconds)
        } else {
            opens
        };
        let slots = if closes <= opens {
            Vec::new()
        } else {
            free_slots(
                self.pool(),
                master_id,
                opens,
                closes,
                Duration::minutes(minutes),
                Duration::minutes(step),
            )
            .await
            .map_err(|error| match error {
                FreeSlotsError::Database(error) => CommandError::from(error),
                other => CommandError::invalid("duration_minutes", other.to_string()),
            })?
        };
        Ok(FreeSlots {
            master_id,
            date,
            slots,
        })
    }

    /// The salon's masters (executors who are not blocked), by name, for customers
    /// choosing one: their id and first name only.
    pub async fn masters(&self) -> Result<Vec<Master>, domain::command::CommandError> {
        Ok(sqlx::query_as(
            "SELECT user_id::uuid AS master_id, first_name FROM rm_users \
             WHERE role = 'executor' AND NOT blocked ORDER BY first_name, user_id LIMIT 50",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// The caller's own bookings as a master on `date` (the salon's day), earliest
    /// first.
    pub async fn master_day(
        &self,
        viewer: domain::permissions::Caller,
        offer: &domain::catalogue::Offer,
        date: chrono::NaiveDate,
    ) -> Result<Vec<MasterBooking>, domain::command::CommandError> {
        use chrono::TimeZone;
        let start = offer
            .salon
            .utc_offset
            .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
            .single()
            .map(|start| start.with_timezone(&Utc))
            .ok_or_else(|| {
                domain::command::CommandError::invalid("date", "a date the salon's calendar has")
            })?;
        Ok(sqlx::query_as(
            "SELECT order_id, service_name, customer_id, starts_at, ends_at, status FROM rm_bookings \
             WHERE master_id = $1 AND starts_at >= $2 AND starts_at < $3 \
             ORDER BY starts_at, order_id",
        )
        .bind(viewer.user_id)
        .bind(start)
        .bind(start + Duration::days(1))
        .fetch_all(self.pool())
        .await?)
    }
}

/// A master a customer can book.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Master {
    pub master_id: Uuid,
    pub first_name: String,
}

/// One of a master's bookings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct MasterBooking {
    pub order_id: String,
    pub service_name: String,
    pub customer_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// booked, completed, cancelled or no_show.
    pub status: String,
}
