//! `/api/v1/bookings/free-slots`: when a master is free on a date for a service (or
//! a duration), within the salon's working hours.

use axum::Json;
use axum::extract::State;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use domain::order::Slot;
use projections::read_models::bookings::{FreeSlotsError, free_slots};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiQuery, ErrorBody};
use crate::http::openapi::schemas;

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
#[derive(Debug, Serialize, ToSchema)]
pub struct FreeSlots {
    pub master_id: Uuid,
    pub date: NaiveDate,
    /// Free slots of the asked duration, on the step grid, earliest first.
    #[schema(value_type = Vec<schemas::Slot>)]
    pub slots: Vec<Slot>,
}

/// `GET /api/v1/bookings/free-slots?master_id=&date=&duration_minutes=&step_minutes=`
#[utoipa::path(
    get,
    path = "/api/v1/bookings/free-slots",
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
    let duration_minutes = match (&query.service_id, query.duration_minutes) {
        (Some(id), _) => state
            .shopfront
            .service(id)
            .map(|service| i64::from(service.duration_minutes))
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "service_id",
                    "not one of the salon's services; GET /api/v1/bookings/services lists them",
                )
            })?,
        (None, Some(minutes)) if (5..=720).contains(&minutes) => minutes,
        (None, Some(_)) => {
            return Err(ApiError::invalid_field("duration_minutes", "from 5 to 720"));
        }
        (None, None) => {
            return Err(ApiError::invalid_field(
                "service_id",
                "give a service_id (or a duration_minutes)",
            ));
        }
    };
    let step = query.step_minutes.unwrap_or(30);
    if !(5..=240).contains(&step) {
        return Err(ApiError::invalid_field("step_minutes", "from 5 to 240"));
    }
    let hours = state.salon;
    let local = |time| {
        hours
            .utc_offset
            .from_local_datetime(&query.date.and_time(time))
            .single()
            .map(|moment| moment.with_timezone(&Utc))
            .ok_or_else(|| ApiError::invalid_field("date", "a date the salon's calendar has"))
    };
    let (opens, closes) = (local(hours.opens)?, local(hours.closes)?);
    // Slots already begun are not offered; the rest stay on the step grid.
    let now = Utc::now();
    let opens = if now > opens {
        let step_seconds = step * 60;
        let passed = (now - opens).num_seconds();
        opens + Duration::seconds((passed + step_seconds - 1) / step_seconds * step_seconds)
    } else {
        opens
    };
    let slots = if closes <= opens {
        Vec::new()
    } else {
        free_slots(
            &state.pool,
            query.master_id,
            opens,
            closes,
            Duration::minutes(duration_minutes),
            Duration::minutes(step),
        )
        .await
        .map_err(|error| match error {
            FreeSlotsError::Database(error) => ApiError::from(error),
            other => ApiError::invalid_field("duration_minutes", other.to_string()),
        })?
    };
    Ok(Json(FreeSlots {
        master_id: query.master_id,
        date: query.date,
        slots,
    }))
}
