//! `/api/v1/bookings/free-slots`: when a master is free on a date for a service (or
//! a duration), within the salon's working hours.

use axum::Json;
use axum::extract::State;
use chrono::{NaiveDate, Utc};
use projections::read_models::bookings::{FreeSlots, Master, SlotLength};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FreeSlotsQuery {
    /// The master's user id.
    pub master_id: Uuid,
    /// The salon's calendar date.
    pub date: NaiveDate,
    /// The service: its duration counts. Give this or `duration_minutes`.
    pub service_id: Option<String>,
    /// How long the visit takes (5..720), when no service is given.
    #[param(minimum = 5, maximum = 720)]
    pub duration_minutes: Option<i64>,
    /// Slots start this often (5..240; 30 by default).
    #[param(minimum = 5, maximum = 240)]
    pub step_minutes: Option<i64>,
}

/// When a master is free on a date.
#[utoipa::path(
    get,
    path = "/bookings/free-slots",
    tag = "bookings",
    operation_id = "bookings_free_slots",
    summary = "A master's free slots on a date",
    description = "Within the salon's working hours (in its time zone); slots already begun \
        are not offered.",
    security(("bearer" = [])),
    params(FreeSlotsQuery),
    responses(
        (status = 200, description = "The free slots", body = FreeSlots),
        (status = 422, description = "A parameter is invalid (`details.field` names it)", body = ErrorBody),
    )
)]
pub async fn free(
    State(state): State<AppState>,
    _caller: AuthUser,
    ApiQuery(query): ApiQuery<FreeSlotsQuery>,
) -> Result<Json<FreeSlots>, ApiError> {
    let length = match (query.service_id, query.duration_minutes) {
        (Some(id), _) => SlotLength::Service(id),
        (None, Some(minutes)) => SlotLength::Minutes(minutes),
        (None, None) => {
            return Err(ApiError::invalid_field(
                "service_id",
                "give a service_id (or a duration_minutes)",
            ));
        }
    };
    let slots = state
        .reads
        .free_slots(
            &state.core.offer,
            query.master_id,
            query.date,
            length,
            query.step_minutes,
            Utc::now(),
        )
        .await?;
    Ok(Json(slots))
}

/// The masters a customer can book.
#[utoipa::path(
    get,
    path = "/bookings/masters",
    tag = "bookings",
    operation_id = "bookings_masters",
    summary = "The salon's masters",
    description = "Executors who are not blocked, by first name: their id and first name only.",
    security(("bearer" = [])),
    responses((status = 200, description = "The masters", body = Vec<Master>))
)]
pub async fn masters(
    State(state): State<AppState>,
    _caller: AuthUser,
) -> Result<Json<Vec<Master>>, ApiError> {
    Ok(Json(state.reads.masters().await?))
}
