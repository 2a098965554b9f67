//! `/api/v1/tickets`: the support desk. Customers open tickets and talk on their own;
//! staff see all of them, answer (or leave internal notes), assign, set status and
//! priority. Lists filter by status, category, priority, assignee and text in the
//! title, newest first, paged by cursor.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::command::CommandContext;
use domain::permissions::{Action, Role, is_allowed};
use domain::ticket::{Priority, TicketCommand, TicketStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiQuery, ErrorBody};
use crate::http::openapi::schemas;
use crate::http::paging::{contains_pattern, next_cursor, page_limit, parse_cursor};
use crate::read_your_writes::READ_YOUR_WRITES_LIMIT;

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
    #[schema(value_type = Option<schemas::Priority>)]
    pub priority: Option<Priority>,
}

/// One ticket as the API shows it.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
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
    pub messages: i32,
    pub rating: Option<i16>,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const TICKET_COLUMNS: &str = "ticket_id, customer_id, category, title, priority, status, assignee_id, \
     messages, rating, opened_at, first_response_at, resolved_at, updated_at";

/// One message of a ticket's thread.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
pub struct MessageView {
    pub message_id: String,
    pub author_id: Uuid,
    pub by_staff: bool,
    pub internal: bool,
    pub text: String,
    #[schema(value_type = Vec<schemas::Attachment>)]
    pub attachments: Value,
    pub posted_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    /// Set when the support desk deleted the message; its text is then empty.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A ticket with its thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketWithMessages {
    #[serde(flatten)]
    pub ticket: TicketView,
    /// Internal notes only for staff.
    pub messages: Vec<MessageView>,
}

fn context(caller: &AuthUser) -> CommandContext {
    CommandContext::user(caller.user_id, caller.role)
}

/// `POST /api/v1/tickets`: 201 with the ticket.
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
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
    caller.require(Action::OpenTicket)?;
    if request.category.trim().is_empty() || request.category.len() > 50 {
        return Err(ApiError::invalid_field("category", "1 to 50 characters"));
    }
    crate::ticket_categories::check_offered(&state.pool, &request.category).await?;
    let ticket_id = Uuid::now_v7().to_string();
    let committed = state
        .commands
        .tickets
        .execute(
            &ticket_id,
            TicketCommand::Open {
                customer_id: caller.user_id,
                category: request.category,
                title: request.title,
                description: request.description,
                priority: request.priority.unwrap_or(Priority::Normal),
                attachments: Vec::new(),
            },
            &context(&caller),
        )
        .await
        .map_err(field_error)?;
    let ticket = read_back(&state, &caller, &ticket_id, committed.sequence).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// `GET /api/v1/tickets/{id}`
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}",
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
    Ok(Json(read_back(&state, &caller, &id.to_string(), 0).await?))
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

/// A page of tickets, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPage {
    pub items: Vec<TicketView>,
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/tickets?status=&category=&priority=&assignee_id=&q=&limit=&before=`:
/// staff see every ticket, customers their own.
#[utoipa::path(
    get,
    path = "/api/v1/tickets",
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
    let limit = page_limit(query.limit)?;
    let cursor = parse_cursor(query.before.as_deref())?;
    let everyone = is_allowed(caller.role, Action::ViewAllTickets);
    let pattern = query.q.as_deref().map(contains_pattern);
    let items: Vec<TicketView> = sqlx::query_as(&format!(
        "SELECT {TICKET_COLUMNS} FROM rm_tickets \
         WHERE ($1 OR customer_id = $2) \
           AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR category = $4) \
           AND ($5::text IS NULL OR priority = $5) AND ($6::uuid IS NULL OR assignee_id = $6) \
           AND ($7::text IS NULL OR lower(title) LIKE $7) \
           AND ($8::timestamptz IS NULL OR (opened_at, ticket_id) < ($8, $9)) \
         ORDER BY opened_at DESC, ticket_id DESC LIMIT $10"
    ))
    .bind(everyone)
    .bind(caller.user_id)
    .bind(&query.status)
    .bind(&query.category)
    .bind(query.priority.as_ref().map(|p| p.to_uppercase()))
    .bind(query.assignee_id)
    .bind(pattern)
    .bind(cursor.as_ref().map(|(at, _)| *at))
    .bind(cursor.as_ref().map(|(_, id)| id.clone()))
    .bind(limit)
    .fetch_all(&state.pool)
    .await?;
    let next_cursor = next_cursor(&items, limit, |last| {
        (last.opened_at, last.ticket_id.as_str())
    });
    Ok(Json(TicketPage { items, next_cursor }))
}

/// `GET /api/v1/tickets/counts`: tickets per status (staff).
#[utoipa::path(
    get,
    path = "/api/v1/tickets/counts",
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
    caller.require(Action::ViewAllTickets)?;
    let counts = projections::read_models::tickets::counts_by_status(&state.pool).await?;
    Ok(Json(Value::Object(
        counts
            .into_iter()
            .map(|(status, count)| (status, Value::from(count)))
            .collect(),
    )))
}

/// A message in a ticket's thread.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewTicketMessage)]
pub struct Post {
    pub text: String,
    /// A note only staff see.
    #[serde(default)]
    pub internal: bool,
}

/// `POST /api/v1/tickets/{id}/messages`
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/messages",
    tag = "tickets",
    operation_id = "tickets_post_message",
    summary = "Post a message (or, staff, an internal note)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The ticket's id")),
    request_body = Post,
    responses(
        (status = 201, description = "The ticket with the message", body = TicketWithMessages),
        (status = 403, description = "The caller may not post this (internal notes are for staff)", body = ErrorBody),
        (status = 404, description = "No such ticket, or not the caller's", body = ErrorBody),
        (status = 409, description = "The ticket is closed", body = ErrorBody),
        (status = 422, description = "The text is invalid", body = ErrorBody),
    )
)]
pub async fn post_message(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<Post>,
) -> Result<(StatusCode, Json<TicketWithMessages>), ApiError> {
    caller.require(if request.internal {
        Action::PostInternalNote
    } else {
        Action::PostTicketMessage
    })?;
    let ticket_id = id.to_string();
    visible(&state, &caller, &ticket_id).await?;
    let committed = state
        .commands
        .tickets
        .execute(
            &ticket_id,
            TicketCommand::PostMessage {
                message_id: Uuid::now_v7(),
                author_id: caller.user_id,
                author_role: caller.role,
                text: request.text,
                attachments: Vec::new(),
                internal: request.internal,
                at: Utc::now(),
            },
            &context(&caller),
        )
        .await
        .map_err(field_error)?;
    let ticket = read_back(&state, &caller, &ticket_id, committed.sequence).await?;
    Ok((StatusCode::CREATED, Json(ticket)))
}

/// The new text of a message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketMessageEdit)]
pub struct Edit {
    pub text: String,
}

/// `PATCH /api/v1/tickets/{id}/messages/{message_id}`: one's own message, within the
/// edit window.
#[utoipa::path(
    patch,
    path = "/api/v1/tickets/{id}/messages/{message_id}",
    tag = "tickets",
    operation_id = "tickets_edit_message",
    summary = "Edit one's own message",
    description = "Only the author, within 15 minutes of posting.",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The ticket's id"),
        ("message_id" = Uuid, Path, description = "The message's id"),
    ),
    request_body = Edit,
    responses(
        (status = 200, description = "The ticket with the edited message", body = TicketWithMessages),
        (status = 403, description = "Not the caller's message", body = ErrorBody),
        (status = 404, description = "No such ticket or message", body = ErrorBody),
        (status = 409, description = "The 15 minutes to edit have passed", body = ErrorBody),
        (status = 422, description = "The text is invalid", body = ErrorBody),
    )
)]
pub async fn edit_message(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(request): ApiJson<Edit>,
) -> Result<Json<TicketWithMessages>, ApiError> {
    let ticket_id = id.to_string();
    visible(&state, &caller, &ticket_id).await?;
    let committed = state
        .commands
        .tickets
        .execute(
            &ticket_id,
            TicketCommand::EditMessage {
                message_id,
                author_id: caller.user_id,
                text: request.text,
                at: Utc::now(),
            },
            &context(&caller),
        )
        .await
        .map_err(field_error)?;
    Ok(Json(
        read_back(&state, &caller, &ticket_id, committed.sequence).await?,
    ))
}

/// `DELETE /api/v1/tickets/{id}/messages/{message_id}` (support desk): the message
/// stays in the thread as deleted, without its text. Deleting it again is a no-op.
#[utoipa::path(
    delete,
    path = "/api/v1/tickets/{id}/messages/{message_id}",
    tag = "tickets",
    operation_id = "tickets_delete_message",
    summary = "Delete a message (support desk)",
    description = "The message stays in the thread as deleted, without its text. Deleting \
        it again is a no-op.",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The ticket's id"),
        ("message_id" = Uuid, Path, description = "The message's id"),
    ),
    responses(
        (status = 200, description = "The ticket with the message deleted", body = TicketWithMessages),
        (status = 403, description = "The caller is not on the support desk", body = ErrorBody),
        (status = 404, description = "No such ticket or message", body = ErrorBody),
    )
)]
pub async fn delete_message(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<TicketWithMessages>, ApiError> {
    caller.require(Action::DeleteTicketMessage)?;
    let ticket_id = id.to_string();
    visible(&state, &caller, &ticket_id).await?;
    let committed = state
        .commands
        .tickets
        .execute(
            &ticket_id,
            TicketCommand::DeleteMessage {
                message_id,
                by: caller.user_id,
                by_role: caller.role,
                at: Utc::now(),
            },
            &context(&caller),
        )
        .await
        .map_err(field_error)?;
    Ok(Json(
        read_back(&state, &caller, &ticket_id, committed.sequence).await?,
    ))
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
    #[schema(value_type = schemas::TicketStatus)]
    pub status: TicketStatus,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TicketPriorityChange)]
pub struct SetPriority {
    #[schema(value_type = schemas::Priority)]
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
    path = "/api/v1/tickets/{id}/assign",
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
    caller.require(Action::AssignTicket)?;
    let role: Option<String> = sqlx::query_scalar("SELECT role FROM rm_users WHERE user_id = $1")
        .bind(request.assignee_id.to_string())
        .fetch_optional(&state.pool)
        .await?;
    let assignee_role = match role.as_deref() {
        Some("support") => Role::Support,
        Some("admin") => Role::Admin,
        Some("owner") => Role::Owner,
        Some("executor") => Role::Executor,
        Some(_) => Role::Client,
        None => return Err(ApiError::invalid_field("assignee_id", "no such user")),
    };
    change(
        &state,
        &caller,
        id,
        TicketCommand::Assign {
            assignee_id: request.assignee_id,
            assignee_role,
        },
    )
    .await
}

/// `POST /api/v1/tickets/{id}/status` (staff)
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/status",
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
    caller.require(Action::ChangeTicketStatus)?;
    change(
        &state,
        &caller,
        id,
        TicketCommand::ChangeStatus {
            status: request.status,
        },
    )
    .await
}

/// `POST /api/v1/tickets/{id}/priority` (staff)
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/priority",
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
    caller.require(Action::ChangeTicketPriority)?;
    change(
        &state,
        &caller,
        id,
        TicketCommand::ChangePriority {
            priority: request.priority,
        },
    )
    .await
}

/// `POST /api/v1/tickets/{id}/rating` (the customer)
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/rating",
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
    caller.require(Action::RateSupport)?;
    change(
        &state,
        &caller,
        id,
        TicketCommand::RateSupport {
            by: caller.user_id,
            stars: request.stars,
            comment: request.comment,
        },
    )
    .await
}

async fn change(
    state: &AppState,
    caller: &AuthUser,
    id: Uuid,
    command: TicketCommand,
) -> Result<Json<TicketWithMessages>, ApiError> {
    let ticket_id = id.to_string();
    visible(state, caller, &ticket_id).await?;
    let committed = state
        .commands
        .tickets
        .execute(&ticket_id, command, &context(caller))
        .await
        .map_err(field_error)?;
    Ok(Json(
        read_back(state, caller, &ticket_id, committed.sequence).await?,
    ))
}

/// 404 unless the ticket exists and the caller may see it (so ids of others'
/// tickets are not confirmed).
async fn visible(state: &AppState, caller: &AuthUser, ticket_id: &str) -> Result<(), ApiError> {
    let (ticket, _) = state.commands.tickets.load(ticket_id).await?;
    let theirs = ticket.customer_id() == Some(caller.user_id);
    let opened = ticket.customer_id().is_some();
    if opened && (theirs || is_allowed(caller.role, Action::ViewAllTickets)) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such ticket",
        ))
    }
}

/// The domain names the rule a bad value broke; the API names the field.
fn field_error(error: domain::command::CommandError) -> ApiError {
    if error.kind == domain::command::ErrorKind::InvalidInput {
        let field = ["title", "description", "text", "stars", "category"]
            .into_iter()
            .find(|field| error.message.contains(field))
            .unwrap_or("body");
        return ApiError::invalid_field(field, error.message);
    }
    ApiError::from(error)
}

async fn read_back(
    state: &AppState,
    caller: &AuthUser,
    ticket_id: &str,
    sequence: usize,
) -> Result<TicketWithMessages, ApiError> {
    state
        .checkpoints
        .caught_up(
            "tickets",
            "Ticket",
            ticket_id,
            sequence,
            READ_YOUR_WRITES_LIMIT,
        )
        .await;
    let ticket: Option<TicketView> = sqlx::query_as(&format!(
        "SELECT {TICKET_COLUMNS} FROM rm_tickets WHERE ticket_id = $1"
    ))
    .bind(ticket_id)
    .fetch_optional(&state.pool)
    .await?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such ticket");
    let ticket = ticket.ok_or_else(not_found)?;
    if ticket.customer_id != caller.user_id && !is_allowed(caller.role, Action::ViewAllTickets) {
        return Err(not_found());
    }
    let messages: Vec<MessageView> = sqlx::query_as(
        "SELECT message_id, author_id, by_staff, internal, text, attachments, posted_at, edited_at, deleted_at \
         FROM rm_ticket_messages WHERE ticket_id = $1 AND (NOT internal OR $2) \
         ORDER BY posted_at, message_id",
    )
    .bind(ticket_id)
    // Internal notes: the desk, and staff the ticket is assigned to.
    .bind(
        is_allowed(caller.role, Action::ViewAllTickets)
            || (caller.role.is_staff() && ticket.assignee_id == Some(caller.user_id)),
    )
    .fetch_all(&state.pool)
    .await?;
    Ok(TicketWithMessages { ticket, messages })
}
