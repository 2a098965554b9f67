//! The support desk: tickets (`rm_tickets`) and their messages
//! (`rm_ticket_messages`, the opening description first), with first-response and
//! resolution times.

use domain::ticket::{TicketEvent, TicketStatus};
use domain::wire::wire_name;
use sqlx::PgConnection;

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

mod queries;

pub use queries::{MessageView, TicketFilter, TicketPage, TicketView, TicketWithMessages};

pub struct Tickets;

/// The id of the message a ticket opens with.
pub const OPENING_MESSAGE_ID: &str = "opening";

async fn record(connection: &mut PgConnection, event: &EventEnvelope) -> Result<(), ApplyError> {
    let decoded = event.decode::<TicketEvent>()?;
    let id = event.aggregate_id.as_str();
    let at = event.recorded_at;
    let attachments_json = |attachments| {
        serde_json::to_value(attachments)
            .map_err(|error| ApplyError::Decode(format!("ticket {id}: {error}")))
    };
    match decoded {
        TicketEvent::TicketOpened {
            customer_id,
            category,
            title,
            description,
            priority,
            attachments,
        } => {
            sqlx::query(
                "INSERT INTO rm_tickets (ticket_id, customer_id, category, title, priority, status, messages, \
                   opened_at, last_customer_message_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'open', 1, $6, $6, $6) ON CONFLICT (ticket_id) DO NOTHING",
            )
            .bind(id)
            .bind(customer_id)
            .bind(category)
            .bind(title)
            .bind(wire_name(&priority))
            .bind(at)
            .execute(&mut *connection)
            .await?;
            sqlx::query(
                "INSERT INTO rm_ticket_messages (ticket_id, message_id, author_id, by_staff, internal, text, attachments, posted_at) \
                 VALUES ($1, $2, $3, false, false, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(OPENING_MESSAGE_ID)
            .bind(customer_id)
            .bind(description)
            .bind(attachments_json(&attachments)?)
            .bind(at)
            .execute(connection)
            .await?;
        }
        TicketEvent::MessagePosted {
            message_id,
            author_id,
            by_staff,
            text,
            attachments,
            internal,
            posted_at,
        } => {
            sqlx::query(
                "INSERT INTO rm_ticket_messages (ticket_id, message_id, author_id, by_staff, internal, text, attachments, posted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(message_id.to_string())
            .bind(author_id)
            .bind(by_staff)
            .bind(internal)
            .bind(text)
            .bind(attachments_json(&attachments)?)
            .bind(posted_at)
            .execute(&mut *connection)
            .await?;
            // Only what the customer can see counts as a staff response.
            sqlx::query(
                "UPDATE rm_tickets SET messages = messages + 1, \
                   first_response_at = CASE WHEN $4 AND NOT $5 THEN COALESCE(first_response_at, $3) ELSE first_response_at END, \
                   last_staff_message_at = CASE WHEN $4 AND NOT $5 THEN $3 ELSE last_staff_message_at END, \
                   last_customer_message_at = CASE WHEN NOT $4 THEN $3 ELSE last_customer_message_at END, \
                   updated_at = $2 \
                 WHERE ticket_id = $1",
            )
            .bind(id)
            .bind(at)
            .bind(posted_at)
            .bind(by_staff)
            .bind(internal)
            .execute(connection)
            .await?;
        }
        TicketEvent::MessageEdited {
            message_id,
            text,
            edited_at,
        } => {
            sqlx::query(
                "UPDATE rm_ticket_messages SET text = $3, edited_at = $4 WHERE ticket_id = $1 AND message_id = $2",
            )
            .bind(id)
            .bind(message_id.to_string())
            .bind(text)
            .bind(edited_at)
            .execute(connection)
            .await?;
        }
        TicketEvent::MessageDeleted {
            message_id,
            deleted_by,
            deleted_at,
        } => {
            // The text stays in the event store; the read model stops showing it.
            sqlx::query(
                "UPDATE rm_ticket_messages SET text = '', attachments = '[]', deleted_at = $3, deleted_by = $4 \
                 WHERE ticket_id = $1 AND message_id = $2",
            )
            .bind(id)
            .bind(message_id.to_string())
            .bind(deleted_at)
            .bind(deleted_by)
            .execute(connection)
            .await?;
        }
        TicketEvent::TicketAssigned { assignee_id } => {
            sqlx::query(
                "UPDATE rm_tickets SET assignee_id = $3, updated_at = $2 WHERE ticket_id = $1",
            )
            .bind(id)
            .bind(at)
            .bind(assignee_id)
            .execute(connection)
            .await?;
        }
        TicketEvent::StatusChanged { to, .. } => {
            let resolved = matches!(to, TicketStatus::Resolved);
            sqlx::query(
                "UPDATE rm_tickets SET status = $3, \
                   resolved_at = CASE WHEN $4 THEN $2 WHEN $3 IN ('open', 'in_progress', 'waiting_for_customer') THEN NULL ELSE resolved_at END, \
                   updated_at = $2 WHERE ticket_id = $1",
            )
            .bind(id)
            .bind(at)
            .bind(wire_name(&to))
            .bind(resolved)
            .execute(connection)
            .await?;
        }
        TicketEvent::PriorityChanged { to, .. } => {
            sqlx::query(
                "UPDATE rm_tickets SET priority = $3, updated_at = $2 WHERE ticket_id = $1",
            )
            .bind(id)
            .bind(at)
            .bind(wire_name(&to))
            .execute(connection)
            .await?;
        }
        TicketEvent::SupportRated { stars, .. } => {
            sqlx::query("UPDATE rm_tickets SET rating = $3, updated_at = $2 WHERE ticket_id = $1")
                .bind(id)
                .bind(at)
                .bind(i16::from(stars))
                .execute(connection)
                .await?;
        }
    }
    Ok(())
}

impl Projection for Tickets {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        use crate::worker::Rebuildable;
        Some(Rebuildable::tables(&["rm_tickets", "rm_ticket_messages"]))
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::Tickets.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["Ticket"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(record(connection, event))
    }
}
