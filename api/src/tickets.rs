//! `/api/v1/tickets`: the support desk. Customers open tickets and talk on their own;
//! staff see all of them, assign, set status and priority (the thread's messages are
//! in `ticket_messages.rs`). Lists filter by status, category, priority, assignee and text in the
//! title, newest first, paged by cursor.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use domain::ticket::{Priority, TicketStatus};
use domain::use_cases::Written;
use domain::use_cases::tickets::{NewTicket, TicketChange};
use projections::read_models::paging::Page;
use projections::read_models::tickets::{TicketFilter, TicketPage, TicketWithMessages};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody, found};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};

/// A new ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OpenTicket)]
pub struct Open {
    /// 1 to 50 characters ("payment", "order", ...).
    #[schema(min_length = 1, max_length = 50)]
    pub category: String,
    pub title: String,
    pub description: String,
    /// NORMAL when left out.
    pub priority: Option<Priority>,
}

/// `POST /api/v1/tickets`: 201 with the ticket.
#[utoipa::path(
    post,
    path = "/tickets",
    tag = "tickets",
    operation_id = "tickets_open",
    summary = "Open a support ticket",
    security(("bearer" = [])),
    request_body = Open,
    responses(
        (status = 201, description = "The ticket as opened", body = TicketWithMessages),
        (status = 403, description = "The caller may not open tickets", body = ErrorBody),
        (status = 422, description = "A field is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn open(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(request): ApiJson<Open>,
) -> Result<(StatusCode, Json<TicketWithMessages>), ApiError> {
    let ticket = NewTicket {
        category: request.category,
        title: request.title,
        description: request.description,
        priority: request.priority,
    };
    let written = state
        .core
        .open_ticket(caller.caller(), ticket, Utc::now())
        .await?;
    let ticket = read_back(&state, &caller, &written).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// `GET /api/v1/tickets/{id}`
#[utoipa::path(
    get,
    path = "/tickets/{id}",
    tag = "tickets",
    operation_id = "tickets_get",
    summary = "One ticket with its thread",
    description = "The customer sees their own; staff see every ticket and internal notes.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "The ticket", body = TicketWithMessages),
        (status = 404, description = "No such ticket, or not the caller's to see", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TicketWithMessages>, ApiError> {
    let ticket = state
        .reads
        .ticket(caller.caller(), &id.to_string(), None)
        .await?;
    Ok(Json(found(ticket, "ticket")?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only tickets in this status.
    pub status: Option<String>,
    /// Only tickets of this category.
    pub category: Option<String>,
    /// Only tickets of this priority (any case).
    pub priority: Option<String>,
    /// Only tickets assigned to this user.
    pub assignee_id: Option<Uuid>,
    /// Text the title contains (any case).
    pub q: Option<String>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

/// `GET /api/v1/tickets?status=&category=&priority=&assignee_id=&q=&limit=&before=`:
/// staff see every ticket, customers their own.
#[utoipa::path(
    get,
    path = "/tickets",
    tag = "tickets",
    operation_id = "tickets_list",
    summary = "List tickets, newest first",
    description = "Staff see every ticket, customers their own. Paged with `before` = the \
        previous page's `next_cursor`.",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of tickets", body = TicketPage),
        (status = 422, description = "A parameter is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<TicketPage>, ApiError> {
    let page = Page::new(query.limit, query.before.as_deref())?;
    let filter = TicketFilter {
        status: query.status,
        category: query.category,
        priority: query.priority,
        assignee_id: query.assignee_id,
        text: query.q,
    };
    Ok(Json(
        state.reads.tickets(caller.caller(), &filter, &page).await?,
    ))
}

/// `GET /api/v1/tickets/counts`: tickets per status (staff).
#[utoipa::path(
    get,
    path = "/tickets/counts",
    tag = "tickets",
    operation_id = "tickets_counts",
    summary = "Tickets per status (staff)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The number of tickets by status; statuses without \
            tickets may be left out",
            body = inline(std::collections::BTreeMap<String, i64>),
            example = json!({ "open": 3, "in_progress": 1, "resolved": 12 })),
        (status = 403, description = "The caller is not staff", body = ErrorBody),
    )
)]
pub async fn counts(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<Value>, ApiError> {
    let counts = state.reads.ticket_counts(caller.caller()).await?;
    Ok(Json(Value::Object(
        counts
            .into_iter()
            .map(|(status, count)| (status, Value::from(count)))
            .collect(),
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketAssign)]
pub struct Assign {
    pub assignee_id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketStatusChange)]
pub struct SetStatus {
    pub status: TicketStatus,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketPriorityChange)]
pub struct SetPriority {
    pub priority: Priority,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SupportRating)]
pub struct Rate {
    #[schema(minimum = 1, maximum = 5)]
    pub stars: u8,
    pub comment: Option<String>,
}

/// `POST /api/v1/tickets/{id}/assign` (staff): to a support agent or an admin.
#[utoipa::path(
    post,
    path = "/tickets/{id}/assign",
    tag = "tickets",
    operation_id = "tickets_assign",
    summary = "Assign a ticket (staff)",
    description = "To a support agent or an admin.",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket's id")),
    request_body = Assign,
    responses(
        (status = 200, description = "The ticket as assigned", body = TicketWithMessages),
        (status = 403, description = "The caller may not assign tickets", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 409, description = "The ticket's state does not allow it", body = ErrorBody),
        (status = 422, description = "No such assignee, or one who cannot take tickets", body = ErrorBody),
    )
)]
pub async fn assign(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<Assign>,
) -> Result<Json<TicketWithMessages>, ApiError> {
    let assignee_id = request.assignee_id;
    change(&state, &caller, id, TicketChange::Assign { assignee_id }).await
}

/// `POST /api/v1/tickets/{id}/status` (staff)
#[utoipa::path(
    post,
    path = "/tickets/{id}/status",
    tag = "tickets",
    operation_id = "tickets_set_status",
    summary = "Change a ticket's status (staff)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket's id")),
    request_body = SetStatus,
    responses(
        (status = 200, description = "The ticket in its new status", body = TicketWithMessages),
        (status = 403, description = "The caller may not change statuses", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 409, description = "The status machine does not allow this change", body = ErrorBody),
    )
)]
pub async fn set_status(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<SetStatus>,
) -> Result<Json<TicketWithMessages>, ApiError> {
    change(&state, &caller, id, TicketChange::Status(request.status)).await
}

/// `POST /api/v1/tickets/{id}/priority` (staff)
#[utoipa::path(
    post,
    path = "/tickets/{id}/priority",
    tag = "tickets",
    operation_id = "tickets_set_priority",
    summary = "Change a ticket's priority (staff)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket's id")),
    request_body = SetPriority,
    responses(
        (status = 200, description = "The ticket with its new priority", body = TicketWithMessages),
        (status = 403, description = "The caller may not change priorities", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 409, description = "The ticket's state does not allow it", body = ErrorBody),
    )
)]
pub async fn set_priority(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<SetPriority>,
) -> Result<Json<TicketWithMessages>, ApiError> {
    change(
        &state,
        &caller,
        id,
        TicketChange::Priority(request.priority),
    )
    .await
}

/// `POST /api/v1/tickets/{id}/rating` (the customer)
#[utoipa::path(
    post,
    path = "/tickets/{id}/rating",
    tag = "tickets",
    operation_id = "tickets_rate",
    summary = "Rate the support (the customer)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket's id")),
    request_body = Rate,
    responses(
        (status = 200, description = "The ticket with its rating", body = TicketWithMessages),
        (status = 403, description = "Not the ticket's customer", body = ErrorBody),
        (status = 404, description = "No such ticket", body = ErrorBody),
        (status = 409, description = "The ticket is not resolved yet, or already rated", body = ErrorBody),
        (status = 422, description = "Stars are 1 to 5", body = ErrorBody),
    )
)]
pub async fn rate(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<Rate>,
) -> Result<Json<TicketWithMessages>, ApiError> {
    let rating = TicketChange::Rate {
        stars: request.stars,
        comment: request.comment,
    };
    change(&state, &caller, id, rating).await
}

async fn change(
    state: &AppState,
    caller: &AuthUser,
    id: Uuid,
    change: TicketChange,
) -> Result<Json<TicketWithMessages>, ApiError> {
    let written = state
        .core
        .change_ticket(caller.caller(), id, change, Utc::now())
        .await?;
    Ok(Json(read_back(state, caller, &written).await?))
}

/// The ticket as the caller may see it once the tickets read model shows `written`.
pub(crate) async fn read_back(
    state: &AppState,
    caller: &AuthUser,
    written: &Written,
) -> Result<TicketWithMessages, ApiError> {
    let ticket = state
        .reads
        .ticket(caller.caller(), &written.aggregate_id, Some(written))
        .await?;
    found(ticket, "ticket")
}
