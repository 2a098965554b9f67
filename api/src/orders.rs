//! `/api/v1/orders`: every step of an order's life as an action, one order with its
//! timeline, and lists (mine, assigned to me, the pool, all for staff) filtered and
//! paged in a stable order. Placing orders is in `placing.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::command::CommandContext;
use domain::money::Money;
use domain::order::{Actor, OrderCommand, Slot};
use domain::permissions::{Action, is_allowed};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiPath, ApiQuery, ErrorBody, from_json};
use crate::http::openapi::schemas;
use crate::http::paging::{next_cursor, page_limit, parse_cursor};
use crate::read_your_writes::READ_YOUR_WRITES_LIMIT;

/// One order as the API shows it.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
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
    #[schema(value_type = Object)]
    pub details: Value,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ORDER_COLUMNS: &str = "order_id, kind, status, customer_id, executor_id, title, price::text AS price, \
     paid_amount::text AS paid_amount, refunded_amount::text AS refunded_amount, deadline, revisions, \
     review_stars, details, placed_at, updated_at";

/// One step of an order's history.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct TimelineLine {
    pub sequence: i64,
    pub at: DateTime<Utc>,
    pub event_type: String,
    pub actor_id: Option<Uuid>,
    pub internal: bool,
    pub summary: String,
}

/// An order with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderWithTimeline {
    #[serde(flatten)]
    pub order: OrderView,
    /// Internal notes only for staff.
    pub timeline: Vec<TimelineLine>,
}

/// `GET /api/v1/orders/{id}`
#[utoipa::path(
    get,
    path = "/api/v1/orders/{id}",
    tag = "orders",
    operation_id = "orders_get",
    summary = "One order with its timeline",
    description = "Parties to the order see it; staff see every order (and internal notes).",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = OrderWithTimeline),
        (status = 404, description = "No such order, or not the caller's to see", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<OrderWithTimeline>, ApiError> {
    Ok(Json(read_back(&state, &caller, &id.to_string(), 0).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// mine (default) | assigned | pool | all
    #[param(pattern = "^(mine|assigned|pool|all)$")]
    pub scope: Option<String>,
    /// Only orders in this status.
    pub status: Option<String>,
    /// Only orders of this kind (coursework, shop, booking).
    pub kind: Option<String>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

/// A page of orders, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/orders?scope=&status=&kind=&limit=&before=`: newest first.
#[utoipa::path(
    get,
    path = "/api/v1/orders",
    tag = "orders",
    operation_id = "orders_list",
    summary = "List orders, newest first",
    description = "`mine`: placed by the caller; `assigned`: the caller executes them (or is \
        the booking's master); `pool`: paid coursework nobody has taken (executors); `all`: \
        every order (staff). Paged with `before` = the previous page's `next_cursor`.",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of orders", body = OrderPage),
        (status = 403, description = "The scope needs a permission the caller lacks", body = ErrorBody),
        (status = 422, description = "A parameter is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<OrderPage>, ApiError> {
    let limit = page_limit(query.limit)?;
    let scope = query.scope.as_deref().unwrap_or("mine");
    let (condition, needs) = match scope {
        "mine" => ("customer_id = $1", None),
        "assigned" => (
            "(executor_id = $1 OR (kind = 'booking' AND details ->> 'master_id' = $1::text))",
            None,
        ),
        "pool" => (
            "kind = 'coursework' AND status = 'paid' AND executor_id IS NULL AND $1::uuid IS NOT NULL",
            Some(Action::TakeOrderFromPool),
        ),
        "all" => ("$1::uuid IS NOT NULL", Some(Action::ViewAllOrders)),
        _ => {
            return Err(ApiError::invalid_field(
                "scope",
                "one of mine, assigned, pool, all",
            ));
        }
    };
    if let Some(action) = needs {
        caller.require(action)?;
    }
    let cursor = parse_cursor(query.before.as_deref())?;
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM rm_orders WHERE {condition} \
           AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3) \
           AND ($4::timestamptz IS NULL OR (placed_at, order_id) < ($4, $5)) \
         ORDER BY placed_at DESC, order_id DESC LIMIT $6"
    );
    let items: Vec<OrderView> = sqlx::query_as(&sql)
        .bind(caller.user_id)
        .bind(&query.status)
        .bind(&query.kind)
        .bind(cursor.as_ref().map(|(at, _)| *at))
        .bind(cursor.as_ref().map(|(_, id)| id.clone()))
        .bind(limit)
        .fetch_all(&state.pool)
        .await?;
    let next_cursor = next_cursor(&items, limit, |last| {
        (last.placed_at, last.order_id.as_str())
    });
    Ok(Json(OrderPage { items, next_cursor }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderQuote)]
pub struct Quote {
    #[schema(value_type = schemas::Money)]
    price: Money,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderAssign)]
pub struct Assign {
    executor_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderSubmit)]
pub struct Submit {
    files: Vec<String>,
    note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderShip)]
pub struct Ship {
    tracking: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderRevisionRequest)]
pub struct Reason {
    reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderCancel)]
pub struct Cancel {
    reason: String,
    /// What to refund of what was paid; none when left out.
    #[schema(value_type = Option<schemas::Money>)]
    refund: Option<Money>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderReschedule)]
pub struct Reschedule {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderReview)]
pub struct Review {
    #[schema(minimum = 1, maximum = 5)]
    stars: u8,
    text: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderNote)]
pub struct Note {
    text: String,
}

/// No parameters: `{}`, `null` or no body at all.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NoParameters)]
pub struct Nothing {}

/// The body of `POST /api/v1/orders/{id}/{action}`, which depends on the action.
/// Only the documentation builds this type; `act` reads each action's own.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum OrderActionBody {
    /// `quote` (staff): the price.
    #[schema(title = "quote")]
    Quote(Quote),
    /// `assign` (staff): the executor.
    #[schema(title = "assign")]
    Assign(Assign),
    /// `submit` (the executor): the result's files.
    #[schema(title = "submit")]
    Submit(Submit),
    /// `ship` (staff): the parcel's tracking number.
    #[schema(title = "ship")]
    Ship(Ship),
    /// `request-revision` (the customer): what to change.
    #[schema(title = "request-revision")]
    RequestRevision(Reason),
    /// `cancel`: why, and what to refund.
    #[schema(title = "cancel")]
    Cancel(Cancel),
    /// `reschedule` (a booking): the new slot.
    #[schema(title = "reschedule")]
    Reschedule(Reschedule),
    /// `review` (the customer): stars and words.
    #[schema(title = "review")]
    Review(Review),
    /// `notes` (staff): an internal note, never shown to the customer.
    #[schema(title = "notes")]
    Notes(Note),
    /// accept-quote, take, start, accept, confirm-delivery, complete, no-show.
    #[schema(title = "no parameters")]
    NoParameters(Nothing),
}

/// Every action's name, for the 404 of an unknown one and the documentation.
pub(crate) const ACTIONS: &str = "quote, accept-quote, assign, take, start, submit, ship, request-revision, \
     accept, confirm-delivery, complete, cancel, reschedule, no-show, review, notes";

/// `POST /api/v1/orders/{id}/{action}`: one step of the order's life. The domain
/// decides who may and when (403, 409 naming the state); the answer is the order
/// as read right after.
#[utoipa::path(
    post,
    path = "/api/v1/orders/{id}/{action}",
    tag = "orders",
    operation_id = "orders_act",
    summary = "Take one step of an order's life",
    description = "One route for every step; the `action` parameter lists them. The body \
        depends on the action (see `OrderActionBody`); actions without parameters take no \
        body, `{}` or `null`. The domain decides who may and when: 403 for the wrong person, \
        409 naming the order's state. The answer is the order as read right after.",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The order's id"),
        ("action" = schemas::OrderAction, Path, description = "The step to take"),
    ),
    request_body(
        content = Option<OrderActionBody>,
        description = "The action's parameters, if it has any",
        content_type = "application/json",
    ),
    responses(
        (status = 200, description = "The order after the step", body = OrderWithTimeline),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = ErrorBody),
        (status = 403, description = "Not this caller's step to take", body = ErrorBody),
        (status = 404, description = "No such order (or not the caller's), or no such action", body = ErrorBody),
        (status = 409, description = "The order's state does not allow the step (`invalid_state`)", body = ErrorBody),
        (status = 413, description = "The body is too large (`body_too_large`)", body = ErrorBody),
        (status = 422, description = "A parameter is missing or invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn act(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((id, action)): ApiPath<(Uuid, String)>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<OrderWithTimeline>, ApiError> {
    let body = body.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is too large",
        )
    })?;
    // Actions without parameters may come without a body (or with `null`).
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) || body.as_ref() == b"null" {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(&body).map_err(|error| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {error}"),
            )
        })?
    };
    let by = Actor {
        user_id: caller.user_id,
        role: caller.role,
    };
    let command = match action.as_str() {
        "quote" => {
            let Quote { price } = from_json(body)?;
            OrderCommand::Quote { price, by }
        }
        "accept-quote" => none(body, OrderCommand::AcceptQuote { by })?,
        "assign" => {
            let Assign { executor_id } = from_json(body)?;
            OrderCommand::AssignExecutor { executor_id, by }
        }
        "take" => none(body, OrderCommand::TakeOrder { by })?,
        "start" => none(body, OrderCommand::Start { by })?,
        "submit" => {
            let Submit { files, note } = from_json(body)?;
            OrderCommand::SubmitResult { files, note, by }
        }
        "ship" => {
            let Ship { tracking } = from_json(body)?;
            OrderCommand::Ship { tracking, by }
        }
        "request-revision" => {
            let Reason { reason } = from_json(body)?;
            OrderCommand::RequestRevision { reason, by }
        }
        "accept" => none(body, OrderCommand::Accept { by })?,
        "confirm-delivery" => none(body, OrderCommand::ConfirmDelivery { by })?,
        "complete" => none(body, OrderCommand::Complete { by })?,
        "cancel" => {
            let Cancel { reason, refund } = from_json(body)?;
            OrderCommand::Cancel { reason, refund, by }
        }
        "reschedule" => {
            let Reschedule { start, end } = from_json(body)?;
            if start <= Utc::now() {
                return Err(ApiError::invalid_field("start", "a time in the future"));
            }
            if !state.salon.contains(start, end) {
                return Err(ApiError::invalid_field(
                    "start",
                    "a slot within the salon's working hours, on one day",
                ));
            }
            OrderCommand::Reschedule {
                slot: Slot { start, end },
                by,
            }
        }
        "no-show" => none(body, OrderCommand::MarkNoShow { at: Utc::now(), by })?,
        "review" => {
            let Review { stars, text } = from_json(body)?;
            OrderCommand::Review { stars, text, by }
        }
        "notes" => {
            let Note { text } = from_json(body)?;
            OrderCommand::AddInternalNote { text, by }
        }
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no order action {other:?}; the actions are {ACTIONS}"),
            ));
        }
    };
    let order_id = id.to_string();
    // Others' orders are 404 here too, before the domain could say what state they are in.
    let (order, _) = state.commands.orders.load(&order_id).await?;
    let party = order.customer_id() == Some(caller.user_id)
        || order.executor_id() == Some(caller.user_id)
        || order.master_id() == Some(caller.user_id);
    let in_pool = order.kind() == Some(domain::order::Kind::Coursework)
        && order.status() == domain::order::OrderStatus::Paid
        && order.executor_id().is_none()
        && is_allowed(caller.role, Action::TakeOrderFromPool);
    if order.customer_id().is_none()
        || !(party || in_pool || is_allowed(caller.role, Action::ViewAllOrders))
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such order",
        ));
    }
    let committed = state
        .commands
        .orders
        .execute(&order_id, command, &context(caller))
        .await
        .map_err(field_error)?;
    Ok(Json(
        read_back(&state, &caller, &order_id, committed.sequence).await?,
    ))
}

fn none(body: Value, command: OrderCommand) -> Result<OrderCommand, ApiError> {
    let Nothing {} = from_json(body)?;
    Ok(command)
}

pub(crate) fn context(caller: AuthUser) -> CommandContext {
    CommandContext::user(caller.user_id, caller.role)
}

/// The domain names the rule a bad value broke ("the subject must be 1 to 200
/// characters"); the API names the field as the request spells it.
pub(crate) fn field_error(error: domain::command::CommandError) -> ApiError {
    if error.kind == domain::command::ErrorKind::InvalidInput {
        let named = error
            .message
            .strip_prefix("the ")
            .and_then(|rest| rest.split(" must be").next())
            .unwrap_or("body");
        let field = match named {
            "type of work" => "work_type".to_owned(),
            other => other.replace(' ', "_"),
        };
        return ApiError::invalid_field(&field, error.message);
    }
    ApiError::from(error)
}

/// The order once the orders read model has it up to `sequence`, if the caller may
/// see it (404 otherwise, so ids of others' orders are not confirmed).
pub(crate) async fn read_back(
    state: &AppState,
    caller: &AuthUser,
    order_id: &str,
    sequence: usize,
) -> Result<OrderWithTimeline, ApiError> {
    state
        .checkpoints
        .caught_up(
            "orders",
            "Order",
            order_id,
            sequence,
            READ_YOUR_WRITES_LIMIT,
        )
        .await;
    let order: Option<OrderView> = sqlx::query_as(&format!(
        "SELECT {ORDER_COLUMNS} FROM rm_orders WHERE order_id = $1"
    ))
    .bind(order_id)
    .fetch_optional(&state.pool)
    .await?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such order");
    let order = order.ok_or_else(not_found)?;
    let sees_all = is_allowed(caller.role, Action::ViewAllOrders);
    let master = order.details.get("master_id").and_then(Value::as_str)
        == Some(caller.user_id.to_string().as_str());
    let works_on = order.executor_id == Some(caller.user_id) || master;
    let involved = order.customer_id == caller.user_id || works_on;
    // Internal notes: for the desk and managers, and staff who work on the order.
    let staff = sees_all || (works_on && caller.role.is_staff());
    let pool_visible = is_allowed(caller.role, Action::TakeOrderFromPool)
        && order.kind == "coursework"
        && order.status == "paid"
        && order.executor_id.is_none();
    if !(sees_all || involved || pool_visible) {
        return Err(not_found());
    }
    let timeline: Vec<TimelineLine> = sqlx::query_as(
        "SELECT sequence, at, event_type, actor_id, internal, summary FROM rm_order_timeline \
         WHERE order_id = $1 AND (NOT internal OR $2) ORDER BY sequence",
    )
    .bind(order_id)
    .bind(staff)
    .fetch_all(&state.pool)
    .await?;
    Ok(OrderWithTimeline { order, timeline })
}
