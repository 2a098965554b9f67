//! `/api/v1/generations`: asking for an image generation (fitting, editing), paid in
//! credits, and following it; `/api/v1/assistant/sessions`: the AI assistants'
//! chats; `/api/v1/reports/ai-usage`: the owner's margin report.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::generation::GenerationKind;
use domain::use_cases::Written;
use domain::use_cases::assistant::{AssistantKind, AssistantReply};
use domain::use_cases::generation::GenerationRequest;
use projections::read_models::ai_usage::AiUsageReport;
use projections::read_models::generations::{GenerationList, GenerationView};
use projections::read_models::paging::Page;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiJsonOrEmpty, ApiPath, ApiQuery};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGeneration {
    pub kind: GenerationKind,
    /// Files uploaded with purpose `generation_input`: fitting, the person then the
    /// garment; editing, the photo.
    pub input_files: Vec<Uuid>,
    /// Editing: what to change (required). Fitting: an optional wish.
    pub prompt: Option<String>,
}

/// `POST /api/v1/generations`
#[utoipa::path(
    post,
    path = "/generations",
    tag = "generations",
    operation_id = "generations_create",
    summary = "Ask for an image generation; its credits are spent at once",
    security(("bearer" = [])),
    request_body = NewGeneration,
    responses(
        (status = 202, description = "Charged and queued; follow it here or on the live feed", body = GenerationView),
                (status = 422, description = "Bad input (`details.field` names it)", body = ErrorBody),
        (status = 409, description = "Too few credits (`insufficient_credits`), or no image provider set up here (`generation_not_configured`)", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(request): ApiJson<NewGeneration>,
) -> Result<(StatusCode, Json<GenerationView>), ApiError> {
    let written = state
        .core
        .request_generation(
            caller.caller(),
            GenerationRequest {
                kind: request.kind,
                input_files: request.input_files,
                prompt: request.prompt,
            },
            Utc::now(),
        )
        .await?;
    let job_id = Uuid::parse_str(&written.aggregate_id).map_err(ApiError::internal)?;
    let view = state
        .reads
        .generation(caller.caller(), job_id, Some(&written))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most this many (1..200, 50 by default).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

/// `GET /api/v1/generations`
#[utoipa::path(
    get,
    path = "/generations",
    tag = "generations",
    operation_id = "generations_list",
    summary = "The caller's generations, newest first",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page", body = GenerationList),
        (status = 422, description = "A parameter is invalid", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<GenerationList>, ApiError> {
    let page = Page::new(query.limit, query.before.as_deref())?;
    Ok(Json(state.reads.generations(caller.caller(), page).await?))
}

/// `GET /api/v1/generations/{job_id}`
#[utoipa::path(
    get,
    path = "/generations/{job_id}",
    tag = "generations",
    operation_id = "generations_get",
    summary = "One of the caller's generations",
    security(("bearer" = [])),
    params(("job_id" = Uuid, Path, description = "The generation")),
    responses(
        (status = 200, description = "The generation", body = GenerationView),
        (status = 404, description = "No such generation of the caller's", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(job_id): ApiPath<Uuid>,
) -> Result<Json<GenerationView>, ApiError> {
    Ok(Json(
        state
            .reads
            .generation(caller.caller(), job_id, None)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// `editing` (prompts for a photo) or `study` (the students' FAQ assistant).
    pub kind: AssistantKind,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssistantSession {
    pub session_id: Uuid,
}

/// `POST /api/v1/assistant/sessions`
#[utoipa::path(
    post,
    path = "/assistant/sessions",
    tag = "assistant",
    operation_id = "assistant_start",
    summary = "Start a chat with an assistant",
    security(("bearer" = [])),
    request_body = NewSession,
    responses((status = 201, description = "The chat", body = AssistantSession))
)]
pub async fn start_session(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(request): ApiJson<NewSession>,
) -> Result<(StatusCode, Json<AssistantSession>), ApiError> {
    let session_id = state
        .core
        .start_assistant_session(caller.caller(), request.kind, Utc::now())
        .await?;
    Ok((StatusCode::CREATED, Json(AssistantSession { session_id })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// 1 to 2000 characters.
    pub text: String,
}

/// `POST /api/v1/assistant/sessions/{session_id}/messages`
#[utoipa::path(
    post,
    path = "/assistant/sessions/{session_id}/messages",
    tag = "assistant",
    operation_id = "assistant_ask",
    summary = "Ask the assistant; the editing assistant answers with three prompts to generate from",
    security(("bearer" = [])),
    params(("session_id" = Uuid, Path, description = "The chat")),
    request_body = NewMessage,
    responses(
        (status = 200, description = "The answer", body = AssistantReply),
        (status = 404, description = "No such open chat of the caller's", body = ErrorBody),
        (status = 409, description = "Too few credits, too many messages a minute (`rate_limited`), or no model set up here (`assistant_not_configured`)", body = ErrorBody),
        (status = 502, description = "The model failed (`assistant_unavailable`); credits returned", body = ErrorBody),
    )
)]
pub async fn ask(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(session_id): ApiPath<Uuid>,
    ApiJson(message): ApiJson<NewMessage>,
) -> Result<Json<AssistantReply>, ApiError> {
    Ok(Json(
        state
            .core
            .ask_assistant(caller.caller(), session_id, &message.text, Utc::now())
            .await?,
    ))
}

/// `POST /api/v1/assistant/sessions/{session_id}/reset`
#[utoipa::path(
    post,
    path = "/assistant/sessions/{session_id}/reset",
    tag = "assistant",
    operation_id = "assistant_reset",
    summary = "End the chat and start a new one with the same assistant",
    security(("bearer" = [])),
    params(("session_id" = Uuid, Path, description = "The chat")),
    responses(
        (status = 201, description = "The new chat", body = AssistantSession),
        (status = 404, description = "No such open chat of the caller's", body = ErrorBody),
    )
)]
pub async fn reset(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(session_id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<AssistantSession>), ApiError> {
    let session_id = state
        .core
        .reset_assistant_session(caller.caller(), session_id, Utc::now())
        .await?;
    Ok((StatusCode::CREATED, Json(AssistantSession { session_id })))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    /// The ticket's category (`general` when not given).
    pub category: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OpenedTicket {
    pub ticket_id: String,
}

/// `POST /api/v1/assistant/sessions/{session_id}/handover`
#[utoipa::path(
    post,
    path = "/assistant/sessions/{session_id}/handover",
    tag = "assistant",
    operation_id = "assistant_handover",
    summary = "Hand the chat's last question to a person: a support ticket",
    security(("bearer" = [])),
    params(("session_id" = Uuid, Path, description = "The chat")),
    request_body = Handover,
    responses(
        (status = 201, description = "The ticket", body = OpenedTicket),
        (status = 409, description = "Nothing was asked yet", body = ErrorBody),
    )
)]
pub async fn handover(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(session_id): ApiPath<Uuid>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty,
) -> Result<(StatusCode, Json<OpenedTicket>), ApiError> {
    let request: Handover = serde_json::from_value(body)
        .map_err(|error| ApiError::invalid_field("category", error.to_string()))?;
    let Written { aggregate_id, .. } = state
        .core
        .hand_over_to_support(caller.caller(), session_id, request.category, Utc::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(OpenedTicket {
            ticket_id: aggregate_id,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// `GET /api/v1/reports/ai-usage?from=&to=`
#[utoipa::path(
    get,
    path = "/reports/ai-usage",
    tag = "reports",
    operation_id = "reports_ai_usage",
    summary = "AI requests, tokens, the providers' cost and the credits charged (the owner's)",
    security(("bearer" = [])),
    params(Period),
    responses(
        (status = 200, description = "By provider and purpose", body = AiUsageReport),
        (status = 403, description = "Only the owner", body = ErrorBody),
    )
)]
pub async fn ai_usage(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<Json<AiUsageReport>, ApiError> {
    Ok(Json(
        state
            .reads
            .ai_usage(caller.caller(), period.from, period.to)
            .await?,
    ))
}
