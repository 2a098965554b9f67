//! Reading the support desk: one ticket with its thread (internal notes only for
//! staff who may see them), lists filtered and paged newest first, counts by status.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::command::CommandError;
use domain::permissions::{Action, Caller};
use domain::ticket::TicketParties;
use domain::use_cases::Written;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::ProjectionName;
use crate::read_models::ReadModels;
use crate::read_models::paging::{Page, contains_pattern};

/// One ticket as entry points show it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketView {
    pub ticket_id: String,
    pub customer_id: Uuid,
    pub category: String,
    pub title: String,
    /// LOW, NORMAL, HIGH or CRITICAL.
    pub priority: String,
    /// open, in_progress, waiting_for_customer, resolved or closed.
    pub status: String,
    pub assignee_id: Option<Uuid>,
    /// How many messages the thread has (internal notes included).
    #[serde(rename = "message_count")]
    #[sqlx(rename = "messages")]
    pub message_count: i32,
    pub rating: Option<i16>,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const TICKET_COLUMNS: &str = "ticket_id, customer_id, category, title, priority, status, assignee_id, \
     messages, rating, opened_at, first_response_at, resolved_at, updated_at";

/// One message of a ticket's thread.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageView {
    pub message_id: String,
    pub author_id: Uuid,
    pub by_staff: bool,
    pub internal: bool,
    pub text: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<domain::ticket::Attachment>))]
    pub attachments: Value,
    pub posted_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// Set when the support desk deleted the message; its text is then empty.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A ticket with its thread.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketWithMessages {
    #[serde(flatten)]
    pub ticket: TicketView,
    /// Internal notes only for staff.
    pub messages: Vec<MessageView>,
}

/// A page of tickets, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketPage {
    pub items: Vec<TicketView>,
    pub next_cursor: Option<String>,
}

/// The filters of a ticket list; staff see every ticket, customers their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    /// Any case.
    pub priority: Option<String>,
    pub assignee_id: Option<Uuid>,
    /// Text the title contains, any case.
    pub text: Option<String>,
}

impl ReadModels {
    /// Who ticket `ticket_id` is between, for what is attached to it.
    pub(crate) async fn ticket_parties(
        &self,
        ticket_id: &str,
    ) -> Result<Option<TicketParties>, CommandError> {
        let parties: Option<(Uuid, Option<Uuid>)> =
            sqlx::query_as("SELECT customer_id, assignee_id FROM rm_tickets WHERE ticket_id = $1")
                .bind(ticket_id)
                .fetch_optional(self.pool())
                .await?;
        Ok(parties.map(|(customer_id, assignee_id)| TicketParties {
            customer_id,
            assignee_id,
        }))
    }

    /// Ticket `ticket_id` with its thread once the tickets read model shows `after`;
    /// `None` when there is no such ticket or the caller may not see it.
    pub async fn ticket(
        &self,
        viewer: Caller,
        ticket_id: &str,
        after: Option<&Written>,
    ) -> Result<Option<TicketWithMessages>, CommandError> {
        self.shows(ProjectionName::Tickets, "Ticket", after).await;
        let ticket: Option<TicketView> = sqlx::query_as(&format!(
            "SELECT {TICKET_COLUMNS} FROM rm_tickets WHERE ticket_id = $1"
        ))
        .bind(ticket_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(ticket) = ticket else {
            return Ok(None);
        };
        let parties = TicketParties {
            customer_id: ticket.customer_id,
            assignee_id: ticket.assignee_id,
        };
        if !parties.visible_to(viewer) {
            return Ok(None);
        }
        let messages: Vec<MessageView> = sqlx::query_as(
            "SELECT message_id, author_id, by_staff, internal, text, attachments, posted_at, edited_at, deleted_at \
             FROM rm_ticket_messages WHERE ticket_id = $1 AND (NOT internal OR $2) \
             ORDER BY posted_at, message_id",
        )
        .bind(ticket_id)
        .bind(parties.shows_internal_notes(viewer))
        .fetch_all(self.pool())
        .await?;
        Ok(Some(TicketWithMessages { ticket, messages }))
    }

    /// A page of the tickets `filter` selects that the caller may see, newest first.
    pub async fn tickets(
        &self,
        viewer: Caller,
        filter: &TicketFilter,
        page: &Page,
    ) -> Result<TicketPage, CommandError> {
        let items: Vec<TicketView> = sqlx::query_as(&format!(
            "SELECT {TICKET_COLUMNS} FROM rm_tickets \
             WHERE ($1 OR customer_id = $2) \
               AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR category = $4) \
               AND ($5::text IS NULL OR priority = $5) AND ($6::uuid IS NULL OR assignee_id = $6) \
               AND ($7::text IS NULL OR lower(title) LIKE $7) \
               AND ($8::timestamptz IS NULL OR (opened_at, ticket_id) < ($8, $9)) \
             ORDER BY opened_at DESC, ticket_id DESC LIMIT $10"
        ))
        .bind(viewer.may(Action::ViewAllTickets))
        .bind(viewer.user_id)
        .bind(&filter.status)
        .bind(&filter.category)
        .bind(filter.priority.as_ref().map(|p| p.to_uppercase()))
        .bind(filter.assignee_id)
        .bind(filter.text.as_deref().map(contains_pattern))
        .bind(page.before_at())
        .bind(page.before_id())
        .bind(page.limit)
        .fetch_all(self.pool())
        .await?;
        let next_cursor =
            page.next_cursor(&items, |last| (last.opened_at, last.ticket_id.as_str()));
        Ok(TicketPage { items, next_cursor })
    }

    /// The desk's queue: tickets still to be handled (open, in progress), most
    /// urgent first, then oldest first.
    pub async fn ticket_queue(
        &self,
        viewer: Caller,
        limit: i64,
    ) -> Result<Vec<TicketView>, CommandError> {
        viewer.require(Action::ViewAllTickets)?;
        Ok(sqlx::query_as(&format!(
            "SELECT {TICKET_COLUMNS} FROM rm_tickets WHERE status IN ('open', 'in_progress') \
             ORDER BY CASE priority WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'NORMAL' THEN 2 ELSE 3 END, \
                      opened_at, ticket_id \
             LIMIT $1"
        ))
        .bind(limit.clamp(1, 100))
        .fetch_all(self.pool())
        .await?)
    }

    /// Tickets per status, for the desk's counters (statuses without tickets left
    /// out).
    pub async fn ticket_counts(
        &self,
        viewer: Caller,
    ) -> Result<BTreeMap<String, i64>, CommandError> {
        viewer.require(Action::ViewAllTickets)?;
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, count(*) FROM rm_tickets GROUP BY status ORDER BY status",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// A customer's latest tickets, for staff looking at the user (`{ticket_id, title,
    /// status, priority, opened_at}` each).
    pub(crate) async fn tickets_of_customer(
        &self,
        customer_id: Uuid,
        limit: i64,
    ) -> Result<Vec<Value>, CommandError> {
        Ok(sqlx::query_scalar(
            "SELECT jsonb_build_object('ticket_id', ticket_id, 'title', title, 'status', status, \
                    'priority', priority, 'opened_at', opened_at) \
             FROM rm_tickets WHERE customer_id = $1 ORDER BY opened_at DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}
