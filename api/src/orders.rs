//! `/api/v1/orders`: every step of an order's life as an action, one order with its
//! timeline, and lists (mine, assigned to me, the pool, all for staff) filtered and
//! paged in a stable order. Placing orders is in `placing.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::money::Money;
use domain::use_cases::Written;
use domain::use_cases::order_actions::OrderAction;
use projections::read_models::orders::{OrderFilter, OrderPage, OrderScope, OrderWithTimeline};
use projections::read_models::paging::Page;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody, found};
use crate::http::extract::{ApiJsonOrEmpty, ApiPath, ApiQuery, from_json};
use crate::http::openapi::schemas;

/// `GET /api/v1/orders/{id}`
#[utoipa::path(
    get,
    path = "/orders/{id}",
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
    Ok(Json(
        read_back(&state, &caller, &id.to_string(), None).await?,
    ))
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

/// `GET /api/v1/orders?scope=&status=&kind=&limit=&before=`: newest first.
#[utoipa::path(
    get,
    path = "/orders",
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
    let page = Page::new(query.limit, query.before.as_deref())?;
    let filter = OrderFilter {
        scope: OrderScope::named(query.scope.as_deref().unwrap_or("mine"))?,
        status: query.status,
        kind: query.kind,
    };
    Ok(Json(
        state.reads.orders(caller.caller(), &filter, &page).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderQuote)]
pub struct Quote {
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
    /// Telegram file ids (the bot's older results).
    #[serde(default)]
    files: Vec<String>,
    /// The result's files, uploaded with `POST /api/v1/files?purpose=coursework`
    /// (at most 20 with `files`): the order's customer reads them.
    #[serde(default)]
    attachments: Vec<Uuid>,
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
    refund: Option<Money>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OrderReschedule)]
pub struct Reschedule {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Why; required of staff moving a booking whose slot has started.
    #[serde(default)]
    reason: Option<String>,
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
    /// `assign` (staff): the executor, someone who works on orders (an executor, an
    /// admin or an owner) and is not blocked; anyone else is a 422 naming `executor_id`.
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
    /// `cancel`: why, and what to refund (staff; a customer's refund follows the
    /// salon's booking rules, and a customer cancels a booking only before its slot).
    #[schema(title = "cancel")]
    Cancel(Cancel),
    /// `reschedule` (a booking): the new slot; the customer before the slot starts,
    /// managers also after it, with a reason.
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
pub(crate) const ACTIONS: &str = OrderAction::NAMES;

/// `POST /api/v1/orders/{id}/{action}`: one step of the order's life. The domain
/// decides who may and when (403, 409 naming the state); the answer is the order
/// as read right after.
#[utoipa::path(
    post,
    path = "/orders/{id}/{action}",
    tag = "orders",
    operation_id = "orders_act",
    summary = "Take one step of an order's life",
    description = "One route for every step; the `action` parameter lists them. The body \
        depends on the action (see `OrderActionBody`); actions without parameters take no \
        body, `{}` or `null`. The domain decides who may and when: 403 for the wrong person, \
        409 naming the order's state (or `slot_started` when a customer cancels or moves a \
        booking whose slot has begun). The answer is the order as read right after.",
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
    ApiJsonOrEmpty(body): ApiJsonOrEmpty,
) -> Result<Json<OrderWithTimeline>, ApiError> {
    let action = match action.as_str() {
        "quote" => {
            let Quote { price } = from_json(body)?;
            OrderAction::Quote { price }
        }
        "accept-quote" => none(body, OrderAction::AcceptQuote)?,
        "assign" => {
            let Assign { executor_id } = from_json(body)?;
            OrderAction::Assign { executor_id }
        }
        "take" => none(body, OrderAction::Take)?,
        "start" => none(body, OrderAction::Start)?,
        "submit" => {
            let Submit {
                files,
                attachments,
                note,
            } = from_json(body)?;
            OrderAction::Submit {
                files,
                attachments,
                note,
            }
        }
        "ship" => {
            let Ship { tracking } = from_json(body)?;
            OrderAction::Ship { tracking }
        }
        "request-revision" => {
            let Reason { reason } = from_json(body)?;
            OrderAction::RequestRevision { reason }
        }
        "accept" => none(body, OrderAction::Accept)?,
        "confirm-delivery" => none(body, OrderAction::ConfirmDelivery)?,
        "complete" => none(body, OrderAction::Complete)?,
        "cancel" => {
            let Cancel { reason, refund } = from_json(body)?;
            OrderAction::Cancel { reason, refund }
        }
        "reschedule" => {
            let Reschedule { start, end, reason } = from_json(body)?;
            OrderAction::Reschedule { start, end, reason }
        }
        "no-show" => none(body, OrderAction::NoShow)?,
        "review" => {
            let Review { stars, text } = from_json(body)?;
            OrderAction::Review { stars, text }
        }
        "notes" => {
            let Note { text } = from_json(body)?;
            OrderAction::Note { text }
        }
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no order action {other:?}; the actions are {ACTIONS}"),
            ));
        }
    };
    let written = state
        .core
        .act_on_order(caller.caller(), id, action, Utc::now())
        .await?;
    Ok(Json(
        read_back(&state, &caller, &written.aggregate_id, Some(&written)).await?,
    ))
}

fn none(body: Value, action: OrderAction) -> Result<OrderAction, ApiError> {
    let Nothing {} = from_json(body)?;
    Ok(action)
}

/// The order as the caller may see it, once the orders read model shows `after`
/// (404 otherwise, so ids of others' orders are not confirmed).
pub(crate) async fn read_back(
    state: &AppState,
    caller: &AuthUser,
    order_id: &str,
    after: Option<&Written>,
) -> Result<OrderWithTimeline, ApiError> {
    found(
        state.reads.order(caller.caller(), order_id, after).await?,
        "order",
    )
}
