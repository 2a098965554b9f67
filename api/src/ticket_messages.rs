//! `/api/v1/tickets/{id}/messages`: the thread of a ticket. Customers and staff post,
//! staff leave internal notes, authors edit their own within the edit window, and the
//! desk deletes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use domain::command::CommandError;
use projections::read_models::tickets::{OPENING_MESSAGE_ID, TicketWithMessages};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::tickets::read_back;

/// A message in a ticket's thread.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewTicketMessage)]
pub struct Post {
    pub text: String,
    /// A note only staff see.
    #[serde(default)]
    pub internal: bool,
    /// Files uploaded with purpose `ticket` (at most 10): whoever sees the message may
    /// read them (`GET /api/v1/files/{file_id}`).
    #[serde(default)]
    pub attachments: Vec<Uuid>,
}

/// `POST /api/v1/tickets/{id}/messages`
#[utoipa::path(
    post,
    path = "/tickets/{id}/messages",
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
    let written = state
        .core
        .post_ticket_message_with_files(
            caller.caller(),
            id,
            request.text,
            request.internal,
            &request.attachments,
            Utc::now(),
        )
        .await?;
    let ticket = read_back(&state, &caller, &written).await?;
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
    path = "/tickets/{id}/messages/{message_id}",
    tag = "tickets",
    operation_id = "tickets_edit_message",
    summary = "Edit one's own message",
    description = "Only the author, within 15 minutes of posting.",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The ticket's id"),
        ("message_id" = String, Path, description = "The message's id: a UUID, or `opening` \
            for the ticket's description (which stays as written: 409)"),
    ),
    request_body = Edit,
    responses(
        (status = 200, description = "The ticket with the edited message", body = TicketWithMessages),
        (status = 403, description = "Not the caller's message", body = ErrorBody),
        (status = 404, description = "No such ticket or message", body = ErrorBody),
        (status = 409, description = "The 15 minutes to edit have passed, or the message is \
            the ticket's description (`invalid_state`)", body = ErrorBody),
        (status = 422, description = "The text is invalid", body = ErrorBody),
    )
)]
pub async fn edit_message(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((id, message_id)): ApiPath<(Uuid, String)>,
    ApiJson(request): ApiJson<Edit>,
) -> Result<Json<TicketWithMessages>, ApiError> {
    let message_id = message_of_thread(&message_id)?;
    let written = state
        .core
        .edit_ticket_message(caller.caller(), id, message_id, request.text, Utc::now())
        .await?;
    Ok(Json(read_back(&state, &caller, &written).await?))
}

/// `DELETE /api/v1/tickets/{id}/messages/{message_id}` (support desk): the message
/// stays in the thread as deleted, without its text. Deleting it again is a no-op.
#[utoipa::path(
    delete,
    path = "/tickets/{id}/messages/{message_id}",
    tag = "tickets",
    operation_id = "tickets_delete_message",
    summary = "Delete a message (support desk)",
    description = "The message stays in the thread as deleted, without its text. Deleting \
        it again is a no-op.",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "The ticket's id"),
        ("message_id" = String, Path, description = "The message's id: a UUID, or `opening` \
            for the ticket's description (which stays as written: 409)"),
    ),
    responses(
        (status = 200, description = "The ticket with the message deleted", body = TicketWithMessages),
        (status = 403, description = "The caller is not on the support desk", body = ErrorBody),
        (status = 404, description = "No such ticket or message", body = ErrorBody),
        (status = 409, description = "The message is the ticket's description (`invalid_state`)", body = ErrorBody),
    )
)]
pub async fn delete_message(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath((id, message_id)): ApiPath<(Uuid, String)>,
) -> Result<Json<TicketWithMessages>, ApiError> {
    let message_id = message_of_thread(&message_id)?;
    let written = state
        .core
        .delete_ticket_message(caller.caller(), id, message_id, Utc::now())
        .await?;
    Ok(Json(read_back(&state, &caller, &written).await?))
}

/// The id of a message the thread shows, as the commands know it. The thread shows
/// the ticket's description as its first message, `opening`: it is part of the
/// ticket, not a message of its own, so it is there but cannot be changed (409).
fn message_of_thread(message_id: &str) -> Result<Uuid, ApiError> {
    if message_id == OPENING_MESSAGE_ID {
        return Err(CommandError::invalid_state(
            "the opening message is the ticket's description and stays as written",
        )
        .into());
    }
    message_id
        .parse()
        .map_err(|_| CommandError::not_found("no such message").into())
}
