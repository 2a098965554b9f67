use std::future::Future;
use std::pin::Pin;

use sqlx::PgPool;
use uuid::Uuid;

use super::{Slot, SlotCalendar, SlotCheckError};

/// The masters' calendar as the event store keeps it: the `booking_slots` table,
/// written by the same statement as each booking event (see the migration), so it
/// is never behind the store.
#[derive(Clone)]
pub struct PostgresSlotCalendar {
    pool: PgPool,
}

impl PostgresSlotCalendar {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl SlotCalendar for PostgresSlotCalendar {
    fn is_free<'a>(
        &'a self,
        master_id: Uuid,
        slot: &'a Slot,
        order_id: Uuid,
    ) -> Pin<Box<dyn Future<Output = Result<bool, SlotCheckError>> + Send + 'a>> {
        Box::pin(async move {
            let taken: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM booking_slots \
                 WHERE master_id = $1 AND order_id <> $2 AND slot && tstzrange($3, $4, '[)'))",
            )
            .bind(master_id)
            .bind(order_id.to_string())
            .bind(slot.start)
            .bind(slot.end)
            .fetch_one(&self.pool)
            .await
            .map_err(|error| SlotCheckError(error.to_string()))?;
            Ok(!taken)
        })
    }
}
