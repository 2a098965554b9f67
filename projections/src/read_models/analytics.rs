//! Analytics per day (`rm_daily_stats`, UTC days): orders placed, paid, completed
//! and cancelled; revenue and refunds; credits granted and spent; tickets opened and
//! resolved; new users. Conversion and repeat customers over a range are computed
//! from the orders and payments read models by [`summary`].

use chrono::{DateTime, NaiveDate, Utc};
use domain::credit::CreditEvent;
use domain::order::OrderEvent;
use domain::payment::PaymentEvent;
use domain::ticket::{TicketEvent, TicketStatus};
use domain::user::UserEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};

use crate::envelope::EventEnvelope;
use crate::worker::{ApplyError, ApplyFuture, Projection};

pub struct Analytics;

/// What one event adds to its day.
#[derive(Default)]
struct Increment {
    orders_placed: i32,
    orders_paid: i32,
    orders_completed: i32,
    orders_cancelled: i32,
    revenue: Decimal,
    refunds: Decimal,
    credits_granted: i64,
    credits_spent: i64,
    tickets_opened: i32,
    tickets_resolved: i32,
    new_users: i32,
}

/// The day an event counts on and what it adds; `None` for events that add nothing.
fn increment(event: &EventEnvelope) -> Result<Option<(DateTime<Utc>, Increment)>, ApplyError> {
    let at = event.recorded_at;
    let one = |increment: Increment| Ok(Some((at, increment)));
    match event.aggregate_type.as_str() {
        "Order" => match event.decode::<OrderEvent>()? {
            OrderEvent::OrderPlaced { .. } => one(Increment {
                orders_placed: 1,
                ..Increment::default()
            }),
            OrderEvent::OrderPaid { .. } => one(Increment {
                orders_paid: 1,
                ..Increment::default()
            }),
            OrderEvent::OrderCompleted { .. } => one(Increment {
                orders_completed: 1,
                ..Increment::default()
            }),
            OrderEvent::OrderCancelled { .. } => one(Increment {
                orders_cancelled: 1,
                ..Increment::default()
            }),
            _ => Ok(None),
        },
        "Payment" => match event.decode::<PaymentEvent>()? {
            PaymentEvent::PaymentSucceeded {
                amount, paid_at, ..
            } => Ok(Some((
                paid_at,
                Increment {
                    revenue: amount.amount(),
                    ..Increment::default()
                },
            ))),
            PaymentEvent::RefundSucceeded {
                amount,
                refunded_at,
                ..
            } => Ok(Some((
                refunded_at,
                Increment {
                    refunds: amount.amount(),
                    ..Increment::default()
                },
            ))),
            _ => Ok(None),
        },
        "CreditAccount" => match event.decode::<CreditEvent>()? {
            CreditEvent::CreditsGranted { amount, .. } => one(Increment {
                credits_granted: to_i64(amount),
                ..Increment::default()
            }),
            CreditEvent::CreditsSpent {
                amount, spent_at, ..
            } => Ok(Some((
                spent_at,
                Increment {
                    credits_spent: to_i64(amount),
                    ..Increment::default()
                },
            ))),
            CreditEvent::SpendRefunded { amount, .. } => one(Increment {
                credits_spent: -to_i64(amount),
                ..Increment::default()
            }),
            _ => Ok(None),
        },
        "Ticket" => match event.decode::<TicketEvent>()? {
            TicketEvent::TicketOpened { .. } => one(Increment {
                tickets_opened: 1,
                ..Increment::default()
            }),
            TicketEvent::StatusChanged {
                to: TicketStatus::Resolved,
                ..
            } => one(Increment {
                tickets_resolved: 1,
                ..Increment::default()
            }),
            _ => Ok(None),
        },
        "User" => match event.decode::<UserEvent>()? {
            UserEvent::UserRegistered { .. } => one(Increment {
                new_users: 1,
                ..Increment::default()
            }),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

fn to_i64(amount: u64) -> i64 {
    i64::try_from(amount).unwrap_or(i64::MAX)
}

async fn record(connection: &mut PgConnection, event: &EventEnvelope) -> Result<(), ApplyError> {
    let Some((at, add)) = increment(event)? else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO rm_daily_stats AS d (day, orders_placed, orders_paid, orders_completed, orders_cancelled, \
           revenue, refunds, credits_granted, credits_spent, tickets_opened, tickets_resolved, new_users) \
         VALUES ((($1 AT TIME ZONE 'UTC')::date), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (day) DO UPDATE SET \
           orders_placed = d.orders_placed + EXCLUDED.orders_placed, \
           orders_paid = d.orders_paid + EXCLUDED.orders_paid, \
           orders_completed = d.orders_completed + EXCLUDED.orders_completed, \
           orders_cancelled = d.orders_cancelled + EXCLUDED.orders_cancelled, \
           revenue = d.revenue + EXCLUDED.revenue, \
           refunds = d.refunds + EXCLUDED.refunds, \
           credits_granted = d.credits_granted + EXCLUDED.credits_granted, \
           credits_spent = d.credits_spent + EXCLUDED.credits_spent, \
           tickets_opened = d.tickets_opened + EXCLUDED.tickets_opened, \
           tickets_resolved = d.tickets_resolved + EXCLUDED.tickets_resolved, \
           new_users = d.new_users + EXCLUDED.new_users",
    )
    .bind(at)
    .bind(add.orders_placed)
    .bind(add.orders_paid)
    .bind(add.orders_completed)
    .bind(add.orders_cancelled)
    .bind(add.revenue)
    .bind(add.refunds)
    .bind(add.credits_granted)
    .bind(add.credits_spent)
    .bind(add.tickets_opened)
    .bind(add.tickets_resolved)
    .bind(add.new_users)
    .execute(connection)
    .await?;
    Ok(())
}

impl Projection for Analytics {
    fn rebuildable(&self) -> Option<crate::worker::Rebuildable> {
        use crate::worker::Rebuildable;
        Some(Rebuildable::tables(&["rm_daily_stats"]))
    }

    fn name(&self) -> &'static str {
        crate::ProjectionName::Analytics.as_str()
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["Order", "Payment", "CreditAccount", "Ticket", "User"]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a EventEnvelope,
    ) -> ApplyFuture<'a> {
        Box::pin(record(connection, event))
    }
}

/// Figures over the days `from..=to` (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub orders_placed: i64,
    pub orders_paid: i64,
    pub orders_completed: i64,
    pub orders_cancelled: i64,
    pub revenue: Decimal,
    pub refunds: Decimal,
    pub credits_granted: i64,
    pub credits_spent: i64,
    pub tickets_opened: i64,
    pub tickets_resolved: i64,
    pub new_users: i64,
    /// Orders placed in the range that have been paid, over orders placed in it
    /// (`null` when none were placed).
    pub conversion_placed_to_paid: Option<Decimal>,
    /// People who paid in the range.
    pub paying_customers: i64,
    /// Of those, people with at least two successful payments by the range's end.
    pub repeat_customers: i64,
    /// Each day of the range, oldest first (days with nothing have zeros): what the
    /// charts draw.
    pub days: Vec<DayFigures>,
}

/// One UTC day's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayFigures {
    pub day: NaiveDate,
    pub orders_placed: i64,
    pub orders_paid: i64,
    pub revenue: Decimal,
    pub refunds: Decimal,
    pub tickets_opened: i64,
    pub tickets_resolved: i64,
}

type Totals = (
    i64,
    i64,
    i64,
    i64,
    Decimal,
    Decimal,
    i64,
    i64,
    i64,
    i64,
    i64,
);

pub async fn summary(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Summary, sqlx::Error> {
    let totals: Totals = sqlx::query_as(
        "SELECT COALESCE(sum(orders_placed), 0)::bigint, COALESCE(sum(orders_paid), 0)::bigint, \
                COALESCE(sum(orders_completed), 0)::bigint, COALESCE(sum(orders_cancelled), 0)::bigint, \
                COALESCE(sum(revenue), 0), COALESCE(sum(refunds), 0), \
                COALESCE(sum(credits_granted), 0)::bigint, COALESCE(sum(credits_spent), 0)::bigint, \
                COALESCE(sum(tickets_opened), 0)::bigint, COALESCE(sum(tickets_resolved), 0)::bigint, \
                COALESCE(sum(new_users), 0)::bigint \
         FROM rm_daily_stats WHERE day BETWEEN $1 AND $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    let (placed, placed_and_paid): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE paid_at IS NOT NULL) FROM rm_orders \
         WHERE (placed_at AT TIME ZONE 'UTC')::date BETWEEN $1 AND $2",
    )
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    let (paying, repeat): (i64, i64) = sqlx::query_as(
        "WITH payers AS ( \
           SELECT DISTINCT payer_id FROM rm_payments \
           WHERE status = 'succeeded' AND (paid_at AT TIME ZONE 'UTC')::date BETWEEN $1 AND $2) \
         SELECT count(*), count(*) FILTER (WHERE ( \
           SELECT count(*) FROM rm_payments p WHERE p.payer_id = payers.payer_id AND p.status = 'succeeded' \
             AND (p.paid_at AT TIME ZONE 'UTC')::date <= $2) >= 2) \
         FROM payers",
    )
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await?;
    let mut days: Vec<DayFigures> = sqlx::query_as(
        "SELECT d::date AS day, COALESCE(s.orders_placed, 0)::bigint AS orders_placed, \
                COALESCE(s.orders_paid, 0)::bigint AS orders_paid, COALESCE(s.revenue, 0) AS revenue, \
                COALESCE(s.refunds, 0) AS refunds, COALESCE(s.tickets_opened, 0)::bigint AS tickets_opened, \
                COALESCE(s.tickets_resolved, 0)::bigint AS tickets_resolved \
         FROM generate_series($1::date, $2::date, interval '1 day') AS d \
         LEFT JOIN rm_daily_stats s ON s.day = d::date ORDER BY d",
    )
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await?;
    // Roubles always with two places ("0.00"), however Postgres gave the zero.
    for day in &mut days {
        day.revenue.rescale(2);
        day.refunds.rescale(2);
    }
    let (mut revenue, mut refunds) = (totals.4, totals.5);
    revenue.rescale(2);
    refunds.rescale(2);
    let conversion =
        (placed > 0).then(|| (Decimal::from(placed_and_paid) / Decimal::from(placed)).round_dp(4));
    Ok(Summary {
        from,
        to,
        orders_placed: totals.0,
        orders_paid: totals.1,
        orders_completed: totals.2,
        orders_cancelled: totals.3,
        revenue,
        refunds,
        credits_granted: totals.6,
        credits_spent: totals.7,
        tickets_opened: totals.8,
        tickets_resolved: totals.9,
        new_users: totals.10,
        conversion_placed_to_paid: conversion,
        paying_customers: paying,
        repeat_customers: repeat,
        days,
    })
}
