//! `/api/v1/orders`: placing coursework orders, every step of an order's life as an
//! action, one order with its timeline, and lists (mine, assigned to me, the pool,
//! all for staff) filtered and paged in a stable order.
//!
//! Shop and booking orders carry prices, which must come from the shop's and the
//! salon's catalogues rather than from the client; until those catalogues exist they
//! are placed by the bot and staff tools, and the API moves them on.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::command::CommandContext;
use domain::money::Money;
use domain::order::{Actor, Coursework, OrderCommand, OrderDetails, Slot};
use domain::permissions::{Action, is_allowed};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiQuery, from_json};
use crate::http::paging::{next_cursor, page_limit, parse_cursor};
use crate::read_your_writes::READ_YOUR_WRITES_LIMIT;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceCoursework {
    pub subject: String,
    pub work_type: String,
    pub volume: u32,
    pub deadline: DateTime<Utc>,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default = "default_revisions")]
    pub max_revisions: u8,
}

fn default_revisions() -> u8 {
    2
}

/// One order as the API shows it.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct OrderView {
    pub order_id: String,
    pub kind: String,
    pub status: String,
    pub customer_id: Uuid,
    pub executor_id: Option<Uuid>,
    pub title: String,
    pub price: Option<String>,
    pub paid_amount: String,
    pub refunded_amount: String,
    pub deadline: Option<DateTime<Utc>>,
    pub revisions: i32,
    pub review_stars: Option<i16>,
    pub details: Value,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ORDER_COLUMNS: &str = "order_id, kind, status, customer_id, executor_id, title, price::text AS price, \
     paid_amount::text AS paid_amount, refunded_amount::text AS refunded_amount, deadline, revisions, \
     review_stars, details, placed_at, updated_at";

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct TimelineLine {
    pub sequence: i64,
    pub at: DateTime<Utc>,
    pub event_type: String,
    pub actor_id: Option<Uuid>,
    pub internal: bool,
    pub summary: String,
}

#[derive(Debug, Serialize)]
pub struct OrderWithTimeline {
    #[serde(flatten)]
    pub order: OrderView,
    /// Internal notes only for staff.
    pub timeline: Vec<TimelineLine>,
}

/// `POST /api/v1/orders`: a coursework order by the caller; 201 with the order.
pub async fn place(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(request): ApiJson<PlaceCoursework>,
) -> Result<(StatusCode, Json<OrderWithTimeline>), ApiError> {
    caller.require(Action::PlaceOrder)?;
    if request.deadline <= Utc::now() {
        return Err(ApiError::invalid_field(
            "deadline",
            "the deadline must be in the future",
        ));
    }
    let order_id = Uuid::now_v7();
    let id = order_id.to_string();
    let committed = state
        .commands
        .orders
        .execute(
            &id,
            OrderCommand::Place {
                order_id,
                customer_id: caller.user_id,
                details: OrderDetails::Coursework(Coursework {
                    subject: request.subject,
                    work_type: request.work_type,
                    volume: request.volume,
                    deadline: request.deadline,
                    files: request.files,
                    max_revisions: request.max_revisions,
                }),
            },
            &context(caller),
        )
        .await
        .map_err(field_error)?;
    let order = read_back(&state, &caller, &id, committed.sequence).await?;
    Ok((StatusCode::CREATED, Json(order)))
}

/// `GET /api/v1/orders/{id}`
pub async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<OrderWithTimeline>, ApiError> {
    Ok(Json(read_back(&state, &caller, &id.to_string(), 0).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// mine (default) | assigned | pool | all
    pub scope: Option<String>,
    pub status: Option<String>,
    pub kind: Option<String>,
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct OrderPage {
    pub items: Vec<OrderView>,
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/orders?scope=&status=&kind=&limit=&before=`: newest first.
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Quote {
    price: Money,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Assign {
    executor_id: Uuid,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Submit {
    files: Vec<String>,
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ship {
    tracking: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cancel {
    reason: String,
    refund: Option<Money>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reschedule {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Review {
    stars: u8,
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Note {
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Nothing {}

/// Every action's name, for the 404 of an unknown one.
const ACTIONS: &str = "quote, accept-quote, assign, take, start, submit, ship, request-revision, \
     accept, confirm-delivery, complete, cancel, reschedule, no-show, review, notes";

/// `POST /api/v1/orders/{id}/{action}`: one step of the order's life. The domain
/// decides who may and when (403, 409 naming the state); the answer is the order
/// as read right after.
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

fn context(caller: AuthUser) -> CommandContext {
    CommandContext::user(caller.user_id, caller.role)
}

/// The domain names the rule a bad value broke ("the subject must be 1 to 200
/// characters"); the API names the field as the request spells it.
fn field_error(error: domain::command::CommandError) -> ApiError {
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
async fn read_back(
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
    let staff = is_allowed(caller.role, Action::ViewAllOrders);
    let master = order.details.get("master_id").and_then(Value::as_str)
        == Some(caller.user_id.to_string().as_str());
    let involved =
        order.customer_id == caller.user_id || order.executor_id == Some(caller.user_id) || master;
    let pool_visible = is_allowed(caller.role, Action::TakeOrderFromPool)
        && order.kind == "coursework"
        && order.status == "paid"
        && order.executor_id.is_none();
    if !(staff || involved || pool_visible) {
        return Err(not_found());
    }
    let timeline: Vec<TimelineLine> = sqlx::query_as(
        "SELECT sequence, at, event_type, actor_id, internal, summary FROM rm_order_timeline \
         WHERE order_id = $1 AND (NOT internal OR $2) ORDER BY sequence",
    )
    .bind(order_id)
    .bind(caller.role.is_staff())
    .fetch_all(&state.pool)
    .await?;
    Ok(OrderWithTimeline { order, timeline })
}
