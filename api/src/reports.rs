//! `/api/v1/reports` and `/api/v1/admin`: the tax ledger by month and year, the
//! receipts register (JSON or CSV), analytics over a date range, and the system's
//! own state (projection lag and parked events, outbox depth).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use projections::read_models::analytics::Summary;
use projections::read_models::receipts::to_csv;
use projections::read_models::status::SystemStatus;
use projections::read_models::tax_ledger::{MonthTotals, TaxLine, lines_csv, months_csv};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiQuery;
use projections::read_models::workbooks::{XLSX_CONTENT_TYPE, tax_ledger as workbook};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TaxLedgerQuery {
    /// The calendar year, from 2019 (when NPD began).
    #[param(minimum = 2019, maximum = 2100)]
    pub year: i32,
    /// One month of the year (1–12): its totals and its lines. Left out: the year.
    #[param(minimum = 1, maximum = 12)]
    pub month: Option<u32>,
    /// json (default), csv or xlsx
    #[param(pattern = "^(json|csv|xlsx)$")]
    pub format: Option<String>,
}

/// The NPD months of a year, or one month with its lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxYear {
    pub year: i32,
    /// The month asked for, if one was.
    pub month: Option<u32>,
    /// The tax months, in order.
    pub months: Vec<MonthTotals>,
    /// Every payment and refund of the month, in the order they happened (only
    /// when a month was asked for; the year's lines are in the CSV and XLSX forms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<TaxLine>>,
}

/// `GET /api/v1/reports/tax-ledger?year=2026[&month=11][&format=csv|xlsx]`: the
/// NPD totals of a year or a month, and their lines.
#[utoipa::path(
    get,
    path = "/reports/tax-ledger",
    tag = "reports",
    operation_id = "reports_tax_ledger",
    summary = "NPD totals and lines of a year or a month",
    description = "JSON by default. `format=csv` answers the months of a year, or the lines of \
        a month, as CSV; `format=xlsx` a workbook with a Months and a Lines sheet.",
    security(("bearer" = [])),
    params(TaxLedgerQuery),
    responses(
        (status = 200, description = "The period's tax months and lines",
            content(
                (TaxYear = "application/json"),
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )
        ),
        (status = 403, description = "The caller may not see the tax ledger", body = ErrorBody),
        (status = 422, description = "The year, month or format is invalid", body = ErrorBody),
    )
)]
pub async fn tax_ledger(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<TaxLedgerQuery>,
) -> Result<Response, ApiError> {
    let period = state
        .reads
        .tax_period(caller.caller(), query.year, query.month)
        .await?;
    let format = query.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx") {
        return Err(ApiError::invalid_field("format", "json, csv or xlsx"));
    }
    let (months, lines) = (period.months, period.lines);
    let name = match query.month {
        Some(month) => format!("tax-ledger-{}-{month:02}", query.year),
        None => format!("tax-ledger-{}", query.year),
    };
    let attachment = |content_type: &str, extension: &str, body: Vec<u8>| {
        (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.{extension}\""),
                ),
            ],
            body,
        )
            .into_response()
    };
    Ok(match format {
        "csv" if query.month.is_some() => attachment(
            "text/csv; charset=utf-8",
            "csv",
            lines_csv(&lines).into_bytes(),
        ),
        "csv" => attachment(
            "text/csv; charset=utf-8",
            "csv",
            months_csv(&months).into_bytes(),
        ),
        "xlsx" => attachment(
            XLSX_CONTENT_TYPE,
            "xlsx",
            workbook(&months, &lines).map_err(ApiError::internal)?,
        ),
        _ => Json(TaxYear {
            year: query.year,
            month: query.month,
            months,
            lines: query.month.is_some().then_some(lines),
        })
        .into_response(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReceiptsQuery {
    /// `2026-11`
    #[param(pattern = "^[0-9]{4}-[0-9]{2}$", example = "2026-11")]
    pub month: String,
    /// json (default) or csv
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

/// `GET /api/v1/reports/receipts?month=2026-11&format=csv`
#[utoipa::path(
    get,
    path = "/reports/receipts",
    tag = "reports",
    operation_id = "reports_receipts",
    summary = "The receipts register of a month for «Мой налог»",
    description = "Which receipts stand, which to annul (refunded) and which to annul and \
        reissue (partly refunded). `format=csv` answers a CSV attachment.",
    security(("bearer" = [])),
    params(ReceiptsQuery),
    responses(
        (status = 200, description = "The register, oldest first",
            content(
                (Vec<projections::read_models::receipts::ReceiptLine> = "application/json"),
                (String = "text/csv"),
            )
        ),
        (status = 403, description = "The caller may not see the tax ledger", body = ErrorBody),
        (status = 422, description = "The month or format is invalid", body = ErrorBody),
    )
)]
pub async fn receipts(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<ReceiptsQuery>,
) -> Result<Response, ApiError> {
    let lines = state.reads.receipts(caller.caller(), &query.month).await?;
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    /// The first day (UTC).
    pub from: NaiveDate,
    /// The last day (UTC), on or after `from`, at most a year later.
    pub to: NaiveDate,
}

/// `GET /api/v1/reports/analytics?from=2026-11-01&to=2026-11-30`
#[utoipa::path(
    get,
    path = "/reports/analytics",
    tag = "reports",
    operation_id = "reports_analytics",
    summary = "Figures over a range of days",
    security(("bearer" = [])),
    params(RangeQuery),
    responses(
        (status = 200, description = "The figures", body = Summary),
        (status = 403, description = "The caller may not see reports", body = ErrorBody),
        (status = 422, description = "The range is invalid", body = ErrorBody),
    )
)]
pub async fn analytics(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<RangeQuery>,
) -> Result<Json<Summary>, ApiError> {
    Ok(Json(
        state
            .reads
            .analytics(caller.caller(), query.from, query.to)
            .await?,
    ))
}

/// Is everything flowing?
#[utoipa::path(
    get,
    path = "/admin/status",
    tag = "admin",
    operation_id = "admin_status",
    summary = "The outbox and every projection: lag and parked events",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The system's state", body = SystemStatus),
        (status = 403, description = "The caller may not see reports", body = ErrorBody),
    )
)]
pub async fn system_status(
    State(state): State<AppState>,
    caller: AuthUser,
) -> Result<Json<SystemStatus>, ApiError> {
    Ok(Json(state.reads.system_status(caller.caller()).await?))
}
