//! Orders (`rm_orders`), each order's timeline (`rm_order_timeline`) and the salon's
//! bookings (`rm_bookings`). The views `rm_order_pool` (paid coursework nobody has
//! taken) and `rm_executor_workload` read `rm_orders`.

use chrono::{DateTime, Utc};
use domain::order::{CancelDecision, OrderDetails, OrderEvent};
use domain::wire::wire_name;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

mod queries;

pub use queries::{OrderFilter, OrderPage, OrderScope, OrderView, OrderWithTimeline, TimelineLine};

pub struct Orders;

/// What a timeline line says about one event.
struct Line {
    actor: Option<Uuid>,
    internal: bool,
    summary: String,
}

fn line(actor: Option<Uuid>, summary: impl Into<String>) -> Line {
    Line {
        actor,
        internal: false,
        summary: summary.into(),
    }
}

/// The order's headline: the subject, the service, or the first item.
fn title(details: &OrderDetails) -> String {
    match details {
        OrderDetails::Coursework(brief) => format!("{}: {}", brief.work_type, brief.subject),
        OrderDetails::Shop { lines, .. } => match lines.as_slice() {
            [] => "empty cart".to_owned(),
            [only] => only.name.clone(),
            [first, rest @ ..] => format!("{} and {} more", first.name, rest.len()),
        },
        OrderDetails::Booking { service_name, .. } => service_name.clone(),
    }
}

async fn record(connection: &mut PgConnection, event: &EventEnvelope) -> Result<(), ApplyError> {
    let decoded = event.decode::<OrderEvent>()?;
    let id = event.aggregate_id.as_str();
    let at = event.recorded_at;
    let line = apply(connection, id, at, decoded).await?;
    sqlx::query(
        "INSERT INTO rm_order_timeline (order_id, sequence, at, event_type, actor_id, internal, summary) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_id, sequence) DO NOTHING",
    )
    .bind(id)
    .bind(event.sequence)
    .bind(at)
    .bind(&event.event_type)
    .bind(line.actor)
    .bind(line.internal)
    .bind(line.summary)
    .execute(connection)
    .await?;
    Ok(())
}

/// Moves the order's row (and booking) and says what the timeline shows.
async fn apply(
    connection: &mut PgConnection,
    id: &str,
    at: DateTime<Utc>,
    event: OrderEvent,
) -> Result<Line, ApplyError> {
    use OrderEvent as E;
    let set = |sql: &'static str| sqlx::query(sql).bind(id).bind(at);
    Ok(match event {
        E::OrderPlaced {
            customer_id,
            details,
            ..
        } => {
            let (status, price, deadline) = match &details {
                OrderDetails::Coursework(brief) => ("placed", None, Some(brief.deadline)),
                OrderDetails::Shop { total, .. } => {
                    ("awaiting_payment", Some(total.amount()), None)
                }
                OrderDetails::Booking { price, .. } => ("booked", Some(price.amount()), None),
            };
            let body = serde_json::to_value(&details)
                .map_err(|error| ApplyError::Decode(format!("order {id}: {error}")))?;
            sqlx::query(
                "INSERT INTO rm_orders (order_id, kind, status, customer_id, title, price, deadline, details, placed_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (order_id) DO NOTHING",
            )
            .bind(id)
            .bind(wire_name(&details.kind()))
            .bind(status)
            .bind(customer_id)
            .bind(title(&details))
            .bind(price)
            .bind(deadline)
            .bind(body)
            .bind(at)
            .execute(&mut *connection)
            .await?;
            if let OrderDetails::Booking {
                service_id,
                service_name,
                master_id,
                slot,
                ..
            } = &details
            {
                sqlx::query(
                    "INSERT INTO rm_bookings (order_id, master_id, service_id, service_name, customer_id, starts_at, ends_at, status, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'booked', $8) ON CONFLICT (order_id) DO NOTHING",
                )
                .bind(id)
                .bind(master_id)
                .bind(service_id)
                .bind(service_name)
                .bind(customer_id)
                .bind(slot.start)
                .bind(slot.end)
                .bind(at)
                .execute(&mut *connection)
                .await?;
            }
            line(Some(customer_id), format!("placed: {}", title(&details)))
        }
        E::PriceQuoted { price, by } => {
            set("UPDATE rm_orders SET price = $3, status = 'quoted', updated_at = $2 WHERE order_id = $1")
                .bind(price.amount())
                .execute(&mut *connection)
                .await?;
            line(Some(by), format!("quoted {price} ₽"))
        }
        E::QuoteAccepted { by } => {
            status(connection, id, at, "awaiting_payment").await?;
            line(Some(by), "quote accepted")
        }
        E::OrderPaid { payment_id, amount } => {
            // A booking is paid without leaving "booked".
            set(
                "UPDATE rm_orders SET paid_amount = paid_amount + $3, payment_id = $4, paid_at = $2, \
                   status = CASE WHEN kind = 'booking' THEN status ELSE 'paid' END, updated_at = $2 \
                 WHERE order_id = $1",
            )
            .bind(amount.amount())
            .bind(payment_id)
            .execute(&mut *connection)
            .await?;
            line(None, format!("paid {amount} ₽"))
        }
        E::ExecutorAssigned {
            executor_id,
            taken_from_pool,
            by,
        } => {
            set("UPDATE rm_orders SET executor_id = $3, status = 'assigned', updated_at = $2 WHERE order_id = $1")
                .bind(executor_id)
                .execute(&mut *connection)
                .await?;
            let how = if taken_from_pool {
                "taken from the pool"
            } else {
                "assigned"
            };
            line(Some(by), format!("{how}: executor {executor_id}"))
        }
        E::WorkStarted { by } => {
            status(connection, id, at, "in_progress").await?;
            line(Some(by), "work started")
        }
        E::ResultSubmitted { files, .. } => {
            status(connection, id, at, "submitted").await?;
            let count = match files.len() {
                1 => "1 file".to_owned(),
                n => format!("{n} files"),
            };
            line(None, format!("result submitted ({count})"))
        }
        E::RevisionRequested { reason, revision } => {
            set("UPDATE rm_orders SET status = 'revision_requested', revisions = $3, updated_at = $2 WHERE order_id = $1")
                .bind(i32::from(revision))
                .execute(&mut *connection)
                .await?;
            line(None, format!("revision {revision} requested: {reason}"))
        }
        E::ResultAccepted { by } => {
            status(connection, id, at, "accepted").await?;
            line(Some(by), "result accepted")
        }
        E::OrderShipped { tracking } => {
            status(connection, id, at, "shipped").await?;
            line(None, format!("shipped, tracking {tracking}"))
        }
        E::DeliveryConfirmed { by } => {
            status(connection, id, at, "delivered").await?;
            line(Some(by), "delivery confirmed")
        }
        E::OrderCompleted { by } => {
            set("UPDATE rm_orders SET status = 'completed', completed_at = $2, updated_at = $2 WHERE order_id = $1")
                .execute(&mut *connection)
                .await?;
            booking_status(connection, id, at, "completed").await?;
            line(Some(by), "completed")
        }
        E::OrderCancelled {
            reason,
            by,
            refund,
            decision,
        } => {
            // The refund is only asked for here; `RefundRecorded` counts the money back.
            let refunded = refund.map(|refund| refund.amount.amount());
            set("UPDATE rm_orders SET status = 'cancelled', cancelled_at = $2, updated_at = $2 WHERE order_id = $1")
                .execute(&mut *connection)
                .await?;
            booking_status(connection, id, at, "cancelled").await?;
            let refund_note = refunded
                .map(|amount| format!(", {amount} ₽ to refund"))
                .unwrap_or_default();
            let (actor, how) = match decision {
                Some(CancelDecision::Staff { after_start: true }) => {
                    (Some(by), "cancelled by staff after the slot started")
                }
                Some(CancelDecision::HoldExpired) => (None, "released"),
                _ => (Some(by), "cancelled"),
            };
            line(actor, format!("{how}: {reason}{refund_note}"))
        }
        E::BookingRescheduled {
            from,
            to,
            by,
            after_start,
            reason,
            ..
        } => {
            set("UPDATE rm_bookings SET starts_at = $3, ends_at = $4, updated_at = $2 WHERE order_id = $1")
                .bind(to.start)
                .bind(to.end)
                .execute(&mut *connection)
                .await?;
            set("UPDATE rm_orders SET updated_at = $2 WHERE order_id = $1")
                .execute(&mut *connection)
                .await?;
            let override_note = match (after_start, reason) {
                (true, Some(reason)) => format!(" after the slot started: {reason}"),
                (true, None) => " after the slot started".to_owned(),
                (false, Some(reason)) => format!(": {reason}"),
                (false, None) => String::new(),
            };
            line(
                by,
                format!(
                    "rescheduled from {} to {}{override_note}",
                    from.start.format("%Y-%m-%d %H:%M UTC"),
                    to.start.format("%Y-%m-%d %H:%M UTC")
                ),
            )
        }
        E::NoShowMarked { by } => {
            status(connection, id, at, "no_show").await?;
            booking_status(connection, id, at, "no_show").await?;
            line(Some(by), "the client did not come")
        }
        E::OrderReviewed { stars, text } => {
            set("UPDATE rm_orders SET review_stars = $3, review_text = $4, updated_at = $2 WHERE order_id = $1")
                .bind(i16::from(stars))
                .bind(text)
                .execute(&mut *connection)
                .await?;
            line(None, format!("reviewed: {stars} of 5"))
        }
        E::RefundRecorded { amount, .. } => {
            set("UPDATE rm_orders SET refunded_amount = refunded_amount + $3, updated_at = $2 WHERE order_id = $1")
                .bind(amount.amount())
                .execute(&mut *connection)
                .await?;
            line(None, format!("refunded {amount} ₽"))
        }
        E::InternalNoteAdded { author_id, text } => Line {
            actor: Some(author_id),
            internal: true,
            summary: format!("note: {text}"),
        },
        E::PaymentOpened { payment_id, by } => {
            line(Some(by), format!("payment {payment_id} started"))
        }
        E::PaymentReleased { payment_id } => line(
            None,
            format!("payment {payment_id} did not go through; the order can be paid again"),
        ),
    })
}

async fn status(
    connection: &mut PgConnection,
    id: &str,
    at: DateTime<Utc>,
    status: &str,
) -> Result<(), ApplyError> {
    sqlx::query("UPDATE rm_orders SET status = $3, updated_at = $2 WHERE order_id = $1")
        .bind(id)
        .bind(at)
        .bind(status)
        .execute(connection)
        .await?;
    Ok(())
}

async fn booking_status(
    connection: &mut PgConnection,
    id: &str,
    at: DateTime<Utc>,
    status: &str,
) -> Result<(), ApplyError> {
    sqlx::query("UPDATE rm_bookings SET status = $3, updated_at = $2 WHERE order_id = $1")
        .bind(id)
        .bind(at)
        .bind(status)
        .execute(connection)
        .await?;
    Ok(())
}

impl Projection for Orders {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        use crate::worker::Rebuildable;
        Some(Rebuildable::tables(&[
            "rm_orders",
            "rm_order_timeline",
            "rm_bookings",
        ]))
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::Orders.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["Order"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(record(connection, event))
    }
}
