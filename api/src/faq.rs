//! `/api/v1/faq`: the questions and answers, by category. Everyone signed in reads
//! them; admins write (a question asked again in its category replaces the answer),
//! change and delete them. The same content the bot's /faq shows.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use domain::use_cases::faq::FaqEntry;
use projections::read_models::faq::FaqItem;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody, found, not_found};
use crate::http::extract::{ApiJson, ApiPath};

/// The whole FAQ.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaqList {
    /// By category, then question.
    pub items: Vec<FaqItem>,
}

/// A question and its answer under a category.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqBody {
    /// 1–60 characters.
    pub category: String,
    /// 1–200 characters.
    pub question: String,
    /// 1–3000 characters.
    pub answer: String,
}

impl From<FaqBody> for FaqEntry {
    fn from(body: FaqBody) -> Self {
        FaqEntry {
            category: body.category,
            question: body.question,
            answer: body.answer,
        }
    }
}

#[utoipa::path(
    get,
    path = "/faq",
    tag = "faq",
    operation_id = "faq_list",
    summary = "The FAQ",
    security(("bearer" = [])),
    responses((status = 200, description = "Every entry, by category then question", body = FaqList))
)]
pub async fn list(
    State(state): State<AppState>,
    _caller: AuthUser,
) -> Result<Json<FaqList>, ApiError> {
    Ok(Json(FaqList {
        items: state.reads.faq().await?,
    }))
}

#[utoipa::path(
    post,
    path = "/faq",
    tag = "faq",
    operation_id = "faq_put",
    summary = "Write a question and its answer (admins)",
    description = "A question its category already has gets the new answer.",
    security(("bearer" = [])),
    request_body = FaqBody,
    responses(
        (status = 201, description = "The entry as it is now", body = FaqItem),
        (status = 403, description = "The caller does not manage the FAQ", body = ErrorBody),
        (status = 422, description = "A field is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(body): ApiJson<FaqBody>,
) -> Result<(StatusCode, Json<FaqItem>), ApiError> {
    let id = state
        .core
        .put_faq_entry(caller.caller(), None, body.into(), Utc::now())
        .await?;
    let entry = found(state.reads.faq_entry(id).await?, "FAQ entry")?;
    Ok((StatusCode::CREATED, Json(entry)))
}

#[utoipa::path(
    put,
    path = "/faq/{id}",
    tag = "faq",
    operation_id = "faq_update",
    summary = "Change an entry (admins)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The entry's id")),
    request_body = FaqBody,
    responses(
        (status = 200, description = "The entry as it is now", body = FaqItem),
        (status = 403, description = "The caller does not manage the FAQ", body = ErrorBody),
        (status = 404, description = "No such entry", body = ErrorBody),
        (status = 422, description = "A field is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<FaqBody>,
) -> Result<Json<FaqItem>, ApiError> {
    let id = state
        .core
        .put_faq_entry(caller.caller(), Some(id), body.into(), Utc::now())
        .await?;
    Ok(Json(found(state.reads.faq_entry(id).await?, "FAQ entry")?))
}

#[utoipa::path(
    delete,
    path = "/faq/{id}",
    tag = "faq",
    operation_id = "faq_delete",
    summary = "Delete an entry (admins)",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The entry's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller does not manage the FAQ", body = ErrorBody),
        (status = 404, description = "No such entry", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    if state.core.delete_faq_entry(caller.caller(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found("FAQ entry"))
    }
}
