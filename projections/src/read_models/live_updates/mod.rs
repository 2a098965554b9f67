//! Live updates (`rm_live_updates`): the feed behind the API's WebSocket. For every
//! event a client should hear about, one row saying who may see it (the users it
//! concerns, and the staff of a queue) and what changed (the event's own fields).
//!
//! Positions are taken from `live_updates_head` inside the worker's transaction. Its
//! row lock makes writers take turns, so positions become visible in increasing
//! order: a client that resumes after position N misses nothing.
//!
//! What is hidden from customers: internal order notes and internal ticket messages
//! (and edits of those) go to the assignee and the staff queue only. The projection
//! keeps its own memory of each aggregate's people (`live_update_parties`) and of the
//! internal messages, so it never waits on another projection.

use domain::order::{OrderDetails, OrderEvent};
use domain::payment::PaymentEvent;
use domain::ticket::TicketEvent;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ProjectionName;
use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub mod feed;

/// The projection; events recorded longer ago than `retention` are not fed (a
/// rebuild or a first deploy would otherwise push all of history to clients).
pub struct LiveUpdates {
    retention: chrono::Duration,
}

impl LiveUpdates {
    pub fn new(retention: chrono::Duration) -> Self {
        Self { retention }
    }
}

/// Which staff queue an update belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffQueue {
    /// Orders: staff who may see all orders.
    Orders,
    /// Tickets: the support desk.
    Tickets,
}

impl StaffQueue {
    pub fn as_str(self) -> &'static str {
        match self {
            StaffQueue::Orders => "orders",
            StaffQueue::Tickets => "tickets",
        }
    }
}

/// Who hears about one event.
#[derive(Debug, Clone, PartialEq, Default)]
struct Audience {
    users: Vec<Uuid>,
    staff: Option<StaffQueue>,
}

impl Audience {
    fn users(users: impl IntoIterator<Item = Uuid>) -> Self {
        let mut audience = Self::default();
        for user in users {
            if !audience.users.contains(&user) {
                audience.users.push(user);
            }
        }
        audience
    }

    fn with_staff(mut self, queue: StaffQueue) -> Self {
        self.staff = Some(queue);
        self
    }

    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.staff.is_none()
    }
}

/// The topic an update of this aggregate type is filed under, and the read model a
/// client re-reads after it.
pub fn topic_of(aggregate_type: &str) -> Option<(&'static str, ProjectionName)> {
    match aggregate_type {
        "Order" => Some(("order", ProjectionName::Orders)),
        "Ticket" => Some(("ticket", ProjectionName::Tickets)),
        "CreditAccount" => Some(("balance", ProjectionName::CreditBalances)),
        "Payment" => Some(("payment", ProjectionName::Payments)),
        "User" => Some(("profile", ProjectionName::Users)),
        "GenerationJob" => Some(("generation", ProjectionName::GenerationJobs)),
        _ => None,
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Parties {
    customer_id: Uuid,
    assignee_id: Option<Uuid>,
}

async fn parties(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Parties, ApplyError> {
    let found: Option<Parties> = sqlx::query_as(
        "SELECT customer_id, assignee_id FROM live_update_parties \
         WHERE aggregate_type = $1 AND aggregate_id = $2",
    )
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .fetch_optional(connection)
    .await?;
    found.ok_or_else(|| {
        ApplyError::Decode(format!(
            "{} {} has no first event before {}",
            event.aggregate_type, event.aggregate_id, event.event_type
        ))
    })
}

async fn remember(
    connection: &mut PgConnection,
    event: &EventEnvelope,
    customer_id: Uuid,
    assignee_id: Option<Uuid>,
) -> Result<(), ApplyError> {
    sqlx::query(
        "INSERT INTO live_update_parties (aggregate_type, aggregate_id, customer_id, assignee_id) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(customer_id)
    .bind(assignee_id)
    .execute(connection)
    .await?;
    Ok(())
}

async fn assign(
    connection: &mut PgConnection,
    event: &EventEnvelope,
    assignee_id: Uuid,
) -> Result<(), ApplyError> {
    sqlx::query(
        "UPDATE live_update_parties SET assignee_id = $3 \
         WHERE aggregate_type = $1 AND aggregate_id = $2",
    )
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(assignee_id)
    .execute(connection)
    .await?;
    Ok(())
}

async fn order_audience(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Audience, ApplyError> {
    let decoded: OrderEvent = event.decode()?;
    if let OrderEvent::OrderPlaced {
        customer_id,
        details,
        ..
    } = &decoded
    {
        let master = match details {
            OrderDetails::Booking { master_id, .. } => Some(*master_id),
            _ => None,
        };
        remember(connection, event, *customer_id, master).await?;
        return Ok(Audience::users([*customer_id].into_iter().chain(master))
            .with_staff(StaffQueue::Orders));
    }
    let mut parties = parties(connection, event).await?;
    if let OrderEvent::ExecutorAssigned { executor_id, .. } = &decoded {
        assign(connection, event, *executor_id).await?;
        parties.assignee_id = Some(*executor_id);
    }
    let audience = match decoded {
        OrderEvent::InternalNoteAdded { .. } => Audience::users(parties.assignee_id),
        _ => Audience::users([parties.customer_id].into_iter().chain(parties.assignee_id)),
    };
    Ok(audience.with_staff(StaffQueue::Orders))
}

async fn is_internal_message(
    connection: &mut PgConnection,
    ticket_id: &str,
    message_id: Uuid,
) -> Result<bool, ApplyError> {
    let found: Option<(Uuid,)> = sqlx::query_as(
        "SELECT message_id FROM live_update_internal_messages WHERE ticket_id = $1 AND message_id = $2",
    )
    .bind(ticket_id)
    .bind(message_id)
    .fetch_optional(connection)
    .await?;
    Ok(found.is_some())
}

async fn ticket_audience(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Audience, ApplyError> {
    let decoded: TicketEvent = event.decode()?;
    if let TicketEvent::TicketOpened { customer_id, .. } = &decoded {
        remember(connection, event, *customer_id, None).await?;
        return Ok(Audience::users([*customer_id]).with_staff(StaffQueue::Tickets));
    }
    let mut parties = parties(connection, event).await?;
    let internal = match &decoded {
        TicketEvent::TicketAssigned { assignee_id } => {
            assign(connection, event, *assignee_id).await?;
            parties.assignee_id = Some(*assignee_id);
            false
        }
        TicketEvent::MessagePosted {
            message_id,
            internal: true,
            ..
        } => {
            sqlx::query(
                "INSERT INTO live_update_internal_messages (ticket_id, message_id) \
                 VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(&event.aggregate_id)
            .bind(message_id)
            .execute(&mut *connection)
            .await?;
            true
        }
        TicketEvent::MessageEdited { message_id, .. }
        | TicketEvent::MessageDeleted { message_id, .. } => {
            is_internal_message(connection, &event.aggregate_id, *message_id).await?
        }
        _ => false,
    };
    let audience = if internal {
        Audience::users(parties.assignee_id)
    } else {
        Audience::users([parties.customer_id].into_iter().chain(parties.assignee_id))
    };
    Ok(audience.with_staff(StaffQueue::Tickets))
}

async fn payment_audience(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Audience, ApplyError> {
    let decoded: PaymentEvent = event.decode()?;
    if let PaymentEvent::PaymentCreated { payer_user_id, .. } = &decoded {
        remember(connection, event, *payer_user_id, None).await?;
        return Ok(Audience::users([*payer_user_id]));
    }
    Ok(Audience::users([parties(connection, event)
        .await?
        .customer_id]))
}

/// A generation is its requester's alone.
async fn generation_audience(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Audience, ApplyError> {
    let decoded: domain::generation::GenerationEvent = event.decode()?;
    if let domain::generation::GenerationEvent::GenerationRequested { user_id, .. } = &decoded {
        remember(connection, event, *user_id, None).await?;
        return Ok(Audience::users([*user_id]));
    }
    Ok(Audience::users([parties(connection, event)
        .await?
        .customer_id]))
}

/// Accounts and users are keyed by the user's id; any other key has nobody to tell.
fn owner_audience(event: &EventEnvelope) -> Audience {
    Audience::users(Uuid::parse_str(&event.aggregate_id).ok())
}

async fn audience(
    connection: &mut PgConnection,
    event: &EventEnvelope,
) -> Result<Audience, ApplyError> {
    match event.aggregate_type.as_str() {
        "Order" => order_audience(connection, event).await,
        "Ticket" => ticket_audience(connection, event).await,
        "Payment" => payment_audience(connection, event).await,
        "CreditAccount" | "User" => Ok(owner_audience(event)),
        "GenerationJob" => generation_audience(connection, event).await,
        _ => Ok(Audience::default()),
    }
}

/// Fields of payment events that are the business's, not the payer's.
const PRIVATE_PAYMENT_FIELDS: &[&str] = &["provider_fee", "idempotence_key", "reason"];

/// The event's own fields (the payload is `{"<EventType>": {fields}}`), less what is
/// the business's own: YooKassa's fee, idempotence keys, failure reasons.
fn fields(event: &EventEnvelope) -> Value {
    let mut fields = match &event.payload {
        Value::Object(map) if map.len() == 1 => map
            .get(&event.event_type)
            .cloned()
            .unwrap_or_else(|| event.payload.clone()),
        other => other.clone(),
    };
    if event.aggregate_type == "Payment"
        && let Value::Object(map) = &mut fields
    {
        for private in PRIVATE_PAYMENT_FIELDS {
            map.remove(*private);
        }
    }
    fields
}

/// A deleted message's text and files leave the feed too: the earlier updates that
/// carried them keep only the fact that there was a message.
async fn forget_message(
    connection: &mut PgConnection,
    event: &EventEnvelope,
    message_id: Uuid,
) -> Result<(), ApplyError> {
    sqlx::query(
        "UPDATE rm_live_updates SET data = (data - 'text' - 'attachments') || '{\"deleted\": true}' \
         WHERE aggregate_type = 'Ticket' AND aggregate_id = $1 \
           AND event IN ('MessagePosted', 'MessageEdited') AND data ->> 'message_id' = $2",
    )
    .bind(&event.aggregate_id)
    .bind(message_id.to_string())
    .execute(connection)
    .await?;
    Ok(())
}

async fn record(
    connection: &mut PgConnection,
    event: &EventEnvelope,
    retention: chrono::Duration,
) -> Result<(), ApplyError> {
    let Some((topic, _)) = topic_of(&event.aggregate_type) else {
        return Ok(());
    };
    if event.event_type == "MessageDeleted"
        && let TicketEvent::MessageDeleted { message_id, .. } = event.decode()?
    {
        forget_message(connection, event, message_id).await?;
    }
    let audience = audience(connection, event).await?;
    // Parties are remembered whatever the age; only news is fed.
    if audience.is_empty() || event.recorded_at < chrono::Utc::now() - retention {
        return Ok(());
    }
    // Taking the next position locks the head row until this transaction ends.
    let (position,): (i64,) =
        sqlx::query_as("UPDATE live_updates_head SET position = position + 1 RETURNING position")
            .fetch_one(&mut *connection)
            .await?;
    sqlx::query(
        "INSERT INTO rm_live_updates (position, cause, aggregate_type, aggregate_id, sequence, \
         user_ids, staff_queue, topic, event, data, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (cause) DO NOTHING",
    )
    .bind(position)
    .bind(event.message_id())
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(event.sequence)
    .bind(&audience.users)
    .bind(audience.staff.map(StaffQueue::as_str))
    .bind(topic)
    .bind(&event.event_type)
    .bind(fields(event))
    .bind(event.recorded_at)
    .execute(connection)
    .await?;
    Ok(())
}

// Not rebuildable (`rebuildable` is `None`): clients resume the feed by position,
// positions are handed out as rows are written, and rows older than the retention
// are pruned, so a rebuild would renumber what clients hold. Housekeeping prunes it.
impl Projection for LiveUpdates {
    fn name(&self) -> &'static str {
        crate::ProjectionName::LiveUpdates.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &[
            "Order",
            "Ticket",
            "Payment",
            "CreditAccount",
            "User",
            "GenerationJob",
        ]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(record(connection, event, self.retention))
    }
}
