//! Ticket categories (`rm_ticket_categories`): what admins set up, as the Mini App
//! and the bot offer it when a ticket is opened.

use domain::ticket_category::{CategoryEvent, CategoryLook};
use sqlx::PgConnection;

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct TicketCategories;

async fn upsert(
    connection: &mut PgConnection,
    event: &EventEnvelope,
    look: &CategoryLook,
) -> Result<(), ApplyError> {
    sqlx::query(
        "INSERT INTO rm_ticket_categories (code, name, icon, colour, position, active, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (code) DO UPDATE SET name = $2, icon = $3, colour = $4, position = $5, \
         active = $6, updated_at = $7",
    )
    .bind(&event.aggregate_id)
    .bind(&look.name)
    .bind(&look.icon)
    .bind(&look.colour)
    .bind(look.position)
    .bind(look.active)
    .bind(event.recorded_at)
    .execute(connection)
    .await?;
    Ok(())
}

async fn record(connection: &mut PgConnection, event: &EventEnvelope) -> Result<(), ApplyError> {
    match event.decode::<CategoryEvent>()? {
        CategoryEvent::CategoryCreated { look } | CategoryEvent::CategoryUpdated { look } => {
            upsert(connection, event, &look).await
        }
        CategoryEvent::CategoryDeleted {} => {
            sqlx::query("DELETE FROM rm_ticket_categories WHERE code = $1")
                .bind(&event.aggregate_id)
                .execute(connection)
                .await?;
            Ok(())
        }
    }
}

impl Projection for TicketCategories {
    fn name(&self) -> &'static str {
        "ticket_categories"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["TicketCategory"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(record(connection, event))
    }
}
