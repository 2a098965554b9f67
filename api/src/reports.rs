//! `/api/v1/reports` and `/api/v1/admin`: the tax ledger by month and year, the
//! receipts register (JSON or CSV), analytics over a date range, and the system's
//! own state (projection lag and parked events, outbox depth).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use domain::money::tax::TaxRules;
use domain::permissions::Action;
use projections::read_models::analytics::{Summary, summary};
use projections::read_models::receipts::{register, to_csv};
use projections::read_models::tax_ledger::{MonthTotals, months};
use projections::relay::{OutboxStatus, outbox_status};
use projections::worker::{ProjectionStatus, status};
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiQuery};
use crate::startup::PROJECTION_NAMES;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearQuery {
    pub year: i32,
}

#[derive(Debug, Serialize)]
pub struct TaxYear {
    pub year: i32,
    pub months: Vec<MonthTotals>,
}

/// `GET /api/v1/reports/tax-ledger?year=2026`: monthly NPD totals of the year.
pub async fn tax_ledger(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<YearQuery>,
) -> Result<Json<TaxYear>, ApiError> {
    caller.require(Action::ViewTaxLedger)?;
    if !(2019..=2100).contains(&query.year) {
        return Err(ApiError::invalid_field(
            "year",
            "a year from 2019 (when NPD began)",
        ));
    }
    let all = months(&state.pool, &TaxRules::default())
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(TaxYear {
        year: query.year,
        months: all
            .into_iter()
            .filter(|month| month.month.year() == query.year)
            .collect(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptsQuery {
    /// `2026-11`
    pub month: String,
    /// json (default) or csv
    pub format: Option<String>,
}

/// `GET /api/v1/reports/receipts?month=2026-11&format=csv`
pub async fn receipts(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<ReceiptsQuery>,
) -> Result<Response, ApiError> {
    caller.require(Action::ViewTaxLedger)?;
    let month = NaiveDate::parse_from_str(&format!("{}-01", query.month), "%Y-%m-%d")
        .map_err(|_| ApiError::invalid_field("month", "a month like 2026-11"))?;
    let lines = register(&state.pool, month).await?;
    match query.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(lines).into_response()),
        "csv" => Ok((
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"receipts-{}.csv\"", query.month),
                ),
            ],
            to_csv(&lines),
        )
            .into_response()),
        _ => Err(ApiError::invalid_field("format", "json or csv")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// `GET /api/v1/reports/analytics?from=2026-11-01&to=2026-11-30`
pub async fn analytics(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<RangeQuery>,
) -> Result<Json<Summary>, ApiError> {
    caller.require(Action::ViewReports)?;
    if query.to < query.from || (query.to - query.from).num_days() > 366 {
        return Err(ApiError::invalid_field(
            "to",
            "on or after from, at most a year later",
        ));
    }
    Ok(Json(summary(&state.pool, query.from, query.to).await?))
}

#[derive(Debug, Serialize)]
pub struct SystemStatus {
    pub outbox: OutboxStatus,
    pub projections: Vec<ProjectionStatus>,
}

/// `GET /api/v1/admin/status`: is everything flowing?
pub async fn system_status(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<SystemStatus>, ApiError> {
    caller.require(Action::ViewReports)?;
    let mut projections = Vec::with_capacity(PROJECTION_NAMES.len());
    for name in PROJECTION_NAMES {
        projections.push(status(&state.pool, name).await?);
    }
    Ok(Json(SystemStatus {
        outbox: outbox_status(&state.pool).await?,
        projections,
    }))
}
