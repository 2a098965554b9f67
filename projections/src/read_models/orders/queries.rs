//! Reading orders: one order with its timeline, and lists by scope (mine, assigned,
//! the pool, all) with filters and cursor paging, newest first. Who may see an order
//! is the domain's one rule ([`OrderParties`]); others' orders are not found.

use chrono::{DateTime, Utc};
use domain::command::CommandError;
use domain::order::OrderParties;
use domain::permissions::{Action, Caller};
use domain::use_cases::Written;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::ProjectionName;
use crate::read_models::ReadModels;
use crate::read_models::paging::Page;

/// One order as entry points show it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderView {
    pub order_id: String,
    /// coursework, shop or booking.
    pub kind: String,
    pub status: String,
    pub customer_id: Uuid,
    pub executor_id: Option<Uuid>,
    pub title: String,
    /// Roubles as a string (`"1500.00"`), once quoted.
    pub price: Option<String>,
    /// Roubles as a string.
    pub paid_amount: String,
    /// Roubles as a string.
    pub refunded_amount: String,
    pub deadline: Option<DateTime<Utc>>,
    pub revisions: i32,
    pub review_stars: Option<i16>,
    /// What was ordered, by `kind` (the brief, the items and delivery, or the booking's
    /// master, service and slot).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Value,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrderView {
    /// The steps the domain offers `caller` on this order now
    /// ([`domain::order::offered_steps`]); none for a kind or status this version
    /// cannot read, and a review only while there is none (the aggregate takes one).
    pub fn offered_steps(&self, caller: Caller) -> Vec<domain::order::transitions::Step> {
        use domain::order::transitions::Step;
        use domain::order::{Kind, OrderStatus};
        let (Ok(kind), Ok(status)) = (
            serde_json::from_value::<Kind>(self.kind.clone().into()),
            serde_json::from_value::<OrderStatus>(self.status.clone().into()),
        ) else {
            return Vec::new();
        };
        domain::order::offered_steps(caller, &self.parties(), kind, status)
            .into_iter()
            .filter(|step| *step != Step::Review || self.review_stars.is_none())
            .collect()
    }

    /// Who the order's people are, for the domain's rules of who sees and acts.
    pub fn parties(&self) -> OrderParties {
        OrderParties {
            customer_id: self.customer_id,
            executor_id: self.executor_id,
            master_id: self
                .details
                .get("master_id")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok()),
            in_pool: self.kind == "coursework"
                && self.status == "paid"
                && self.executor_id.is_none(),
        }
    }
}

const ORDER_COLUMNS: &str = "order_id, kind, status, customer_id, executor_id, title, price::text AS price, \
     paid_amount::text AS paid_amount, refunded_amount::text AS refunded_amount, deadline, revisions, \
     review_stars, details, placed_at, updated_at";

/// One step of an order's history.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineLine {
    pub sequence: i64,
    pub at: DateTime<Utc>,
    pub event_type: String,
    pub actor_id: Option<Uuid>,
    pub internal: bool,
    pub summary: String,
}

/// An order with its history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderWithTimeline {
    #[serde(flatten)]
    pub order: OrderView,
    /// Internal notes only for staff.
    pub timeline: Vec<TimelineLine>,
    /// What the viewer may do with the order now, as `POST /orders/{id}/{action}`
    /// names it (`pay` means starting a payment): the domain's offer, which the
    /// command still checks.
    pub actions: Vec<&'static str>,
}

/// A page of orders, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

/// Which orders a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderScope {
    /// Placed by the caller.
    Mine,
    /// The caller executes them, or is the booking's master.
    Assigned,
    /// Paid coursework nobody has taken (executors).
    Pool,
    /// Every order (staff).
    All,
}

impl OrderScope {
    /// A scope by name (`mine`, `assigned`, `pool`, `all`).
    pub fn named(name: &str) -> Result<Self, CommandError> {
        Ok(match name {
            "mine" => OrderScope::Mine,
            "assigned" => OrderScope::Assigned,
            "pool" => OrderScope::Pool,
            "all" => OrderScope::All,
            _ => {
                return Err(CommandError::invalid(
                    "scope",
                    "one of mine, assigned, pool, all",
                ));
            }
        })
    }
}

/// The filters of an order list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFilter {
    pub scope: OrderScope,
    pub status: Option<String>,
    pub kind: Option<String>,
}

impl ReadModels {
    /// The people of order `order_id` (for who may read what is attached to it);
    /// `None` when there is no such order.
    pub(crate) async fn order_parties(
        &self,
        order_id: &str,
    ) -> Result<Option<OrderParties>, CommandError> {
        let order: Option<OrderView> = sqlx::query_as(&format!(
            "SELECT {ORDER_COLUMNS} FROM rm_orders WHERE order_id = $1"
        ))
        .bind(order_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(order.map(|order| order.parties()))
    }

    /// Order `order_id` with its timeline (internal notes only for staff who may see
    /// them), once the orders read model shows `after`; `None` when there is no such
    /// order or the caller may not see it.
    pub async fn order(
        &self,
        viewer: Caller,
        order_id: &str,
        after: Option<&Written>,
    ) -> Result<Option<OrderWithTimeline>, CommandError> {
        self.shows(ProjectionName::Orders, "Order", after).await;
        let order: Option<OrderView> = sqlx::query_as(&format!(
            "SELECT {ORDER_COLUMNS} FROM rm_orders WHERE order_id = $1"
        ))
        .bind(order_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(order) = order else {
            return Ok(None);
        };
        let parties = order.parties();
        if !parties.visible_to(viewer) {
            return Ok(None);
        }
        let timeline: Vec<TimelineLine> = sqlx::query_as(
            "SELECT sequence, at, event_type, actor_id, internal, summary FROM rm_order_timeline \
             WHERE order_id = $1 AND (NOT internal OR $2) ORDER BY sequence",
        )
        .bind(order_id)
        .bind(parties.shows_internal_notes(viewer))
        .fetch_all(self.pool())
        .await?;
        let actions = order
            .offered_steps(viewer)
            .into_iter()
            .map(domain::order::transitions::Step::action_name)
            .collect();
        Ok(Some(OrderWithTimeline {
            order,
            timeline,
            actions,
        }))
    }

    /// A page of the orders `filter` selects, newest first.
    pub async fn orders(
        &self,
        viewer: Caller,
        filter: &OrderFilter,
        page: &Page,
    ) -> Result<OrderPage, CommandError> {
        let condition = match filter.scope {
            OrderScope::Mine => "customer_id = $1",
            OrderScope::Assigned => {
                "(executor_id = $1 OR (kind = 'booking' AND details ->> 'master_id' = $1::text))"
            }
            OrderScope::Pool => {
                viewer.require(Action::TakeOrderFromPool)?;
                "kind = 'coursework' AND status = 'paid' AND executor_id IS NULL AND $1::uuid IS NOT NULL"
            }
            OrderScope::All => {
                viewer.require(Action::ViewAllOrders)?;
                "$1::uuid IS NOT NULL"
            }
        };
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM rm_orders WHERE {condition} \
               AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3) \
               AND ($4::timestamptz IS NULL OR (placed_at, order_id) < ($4, $5)) \
             ORDER BY placed_at DESC, order_id DESC LIMIT $6"
        );
        let items: Vec<OrderView> = sqlx::query_as(&sql)
            .bind(viewer.user_id)
            .bind(&filter.status)
            .bind(&filter.kind)
            .bind(page.before_at())
            .bind(page.before_id())
            .bind(page.limit)
            .fetch_all(self.pool())
            .await?;
        let next_cursor = page.next_cursor(&items, |last| (last.placed_at, last.order_id.as_str()));
        Ok(OrderPage { items, next_cursor })
    }

    /// A customer's latest orders, for staff looking at the user (`{order_id, kind,
    /// status, title, price, placed_at}` each).
    pub(crate) async fn orders_of_customer(
        &self,
        customer_id: Uuid,
        limit: i64,
    ) -> Result<Vec<Value>, CommandError> {
        Ok(sqlx::query_scalar(
            "SELECT jsonb_build_object('order_id', order_id, 'kind', kind, 'status', status, 'title', title, \
                    'price', price::text, 'placed_at', placed_at) \
             FROM rm_orders WHERE customer_id = $1 ORDER BY placed_at DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}
