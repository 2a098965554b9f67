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
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::http::paging::{contains_pattern, next_cursor, page_limit, parse_cursor};
use crate::read_your_writes::READ_YOUR_WRITES_LIMIT;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open {
    pub category: String,
    pub title: String,
    pub description: String,
    pub priority: Option<Priority>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct TicketView {
    pub ticket_id: String,
    pub customer_id: Uuid,
    pub category: String,
    pub title: String,
    pub priority: String,
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

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct MessageView {
    pub message_id: String,
    pub author_id: Uuid,
    pub by_staff: bool,
    pub internal: bool,
    pub text: String,
    pub attachments: Value,
    pub posted_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
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
pub async fn open(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(request): ApiJson<Open>,
) -> Result<(StatusCode, Json<TicketWithMessages>), ApiError> {
    caller.require(Action::OpenTicket)?;
    if request.category.trim().is_empty() || request.category.len() > 50 {
        return Err(ApiError::invalid_field("category", "1 to 50 characters"));
    }
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
pub async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TicketWithMessages>, ApiError> {
    Ok(Json(read_back(&state, &caller, &id.to_string(), 0).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub status: Option<String>,
    pub category: Option<String>,
    pub priority: Option<String>,
    pub assignee_id: Option<Uuid>,
    /// Text the title contains (any case).
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub before: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TicketPage {
    pub items: Vec<TicketView>,
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/tickets?status=&category=&priority=&assignee_id=&q=&limit=&before=`:
/// staff see every ticket, customers their own.
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Post {
    pub text: String,
    /// A note only staff see.
    #[serde(default)]
    pub internal: bool,
}

/// `POST /api/v1/tickets/{id}/messages`
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    pub text: String,
}

/// `PATCH /api/v1/tickets/{id}/messages/{message_id}`: one's own message, within the
/// edit window.
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    pub assignee_id: Uuid,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetStatus {
    pub status: TicketStatus,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPriority {
    pub priority: Priority,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub stars: u8,
    pub comment: Option<String>,
}

/// `POST /api/v1/tickets/{id}/assign` (staff): to a support agent or an admin.
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
        "SELECT message_id, author_id, by_staff, internal, text, attachments, posted_at, edited_at \
         FROM rm_ticket_messages WHERE ticket_id = $1 AND (NOT internal OR $2) \
         ORDER BY posted_at, message_id",
    )
    .bind(ticket_id)
    .bind(caller.role.is_staff())
    .fetch_all(&state.pool)
    .await?;
    Ok(TicketWithMessages { ticket, messages })
}
