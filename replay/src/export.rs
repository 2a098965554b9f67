//! `replay export …`: the store's events of a range as JSON Lines or CSV, streamed
//! (memory stays flat however many), and the accountant's files: the tax ledger of a
//! month or a year and the receipts register of a month, as XLSX or CSV. Every CSV
//! and XLSX text cell that a spreadsheet would take for a formula is neutralised
//! (`projections::read_models::csv::neutralised`).

use std::io::Write;
use std::path::{Path, PathBuf};

use domain::command::{CommandError, ErrorKind};
use futures_util::TryStreamExt;
use projections::read_models::{csv, receipts, reports, tax_ledger, workbooks};
use serde::Serialize;
use sqlx::PgPool;

use crate::ReplayError;
use crate::state::Point;

/// Which events to export; every bound is optional.
#[derive(Debug, Clone, Default)]
pub struct EventRange {
    /// Included.
    pub from: Option<Point>,
    /// Excluded.
    pub to: Option<Point>,
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
}

/// The form of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
    Xlsx,
}

impl std::str::FromStr for Format {
    type Err = ReplayError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "jsonl" => Ok(Format::JsonLines),
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(ReplayError::BadFormat(other.to_owned())),
        }
    }
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct ExportedEvent {
    position: i64,
    recorded_at: chrono::DateTime<chrono::Utc>,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    #[serde(skip)]
    metadata_text: String,
    #[serde(skip)]
    payload_text: String,
    hash: String,
    #[sqlx(skip)]
    metadata: Option<Box<serde_json::value::RawValue>>,
    #[sqlx(skip)]
    payload: Option<Box<serde_json::value::RawValue>>,
}

const EVENT_HEADER: [&str; 10] = [
    "position",
    "recorded_at",
    "aggregate_type",
    "aggregate_id",
    "sequence",
    "event_type",
    "event_version",
    "metadata",
    "payload",
    "hash",
];

/// Refuses what `events` cannot export (before any file is made).
pub fn check_events(range: &EventRange, format: Format) -> Result<(), ReplayError> {
    if format == Format::Xlsx {
        return Err(ReplayError::BadFormat(
            "xlsx (events are exported as jsonl or csv)".into(),
        ));
    }
    if let Some(aggregate_type) = &range.aggregate_type {
        crate::known_type(aggregate_type)?;
    }
    Ok(())
}

/// Writes the events of `range`, oldest first, to `out`; returns how many. A reader
/// that stops reading (a closed pipe) ends the export quietly.
pub async fn events(
    pool: &PgPool,
    range: &EventRange,
    format: Format,
    out: &mut dyn Write,
) -> Result<u64, ReplayError> {
    check_events(range, format)?;
    let mut conditions = vec!["TRUE".to_owned()];
    let mut next = 1;
    let mut bound = |conditions: &mut Vec<String>, column: &str, operator: &str| {
        conditions.push(format!("{column} {operator} ${next}"));
        next += 1;
    };
    let column = |point: &Point| match point {
        Point::Position(_) => "global_position",
        Point::Time(_) => "recorded_at",
    };
    if let Some(from) = &range.from {
        bound(&mut conditions, column(from), ">=");
    }
    if let Some(to) = &range.to {
        bound(&mut conditions, column(to), "<");
    }
    if range.aggregate_type.is_some() {
        bound(&mut conditions, "aggregate_type", "=");
    }
    if range.aggregate_id.is_some() {
        bound(&mut conditions, "aggregate_id", "=");
    }
    let query = format!(
        "SELECT global_position AS position, recorded_at, aggregate_type, aggregate_id, sequence, \
                event_type, event_version, metadata::text AS metadata_text, payload::text AS payload_text, \
                encode(hash, 'hex') AS hash \
         FROM events WHERE {} ORDER BY global_position",
        conditions.join(" AND ")
    );
    let mut statement = sqlx::query_as::<_, ExportedEvent>(&query);
    for point in [&range.from, &range.to].into_iter().flatten() {
        statement = match point {
            Point::Position(position) => statement.bind(*position),
            Point::Time(time) => statement.bind(*time),
        };
    }
    if let Some(aggregate_type) = &range.aggregate_type {
        statement = statement.bind(aggregate_type);
    }
    if let Some(aggregate_id) = &range.aggregate_id {
        statement = statement.bind(aggregate_id);
    }
    let mut rows = statement.fetch(pool);
    let mut written = 0;
    if format == Format::Csv && !write(out, csv::row(&EVENT_HEADER).as_bytes())? {
        return Ok(0);
    }
    while let Some(mut event) = rows.try_next().await? {
        let line = match format {
            Format::Csv => csv::row(&[
                event.position.to_string(),
                event
                    .recorded_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                event.aggregate_type.clone(),
                event.aggregate_id.clone(),
                event.sequence.to_string(),
                event.event_type.clone(),
                event.event_version.clone(),
                event.metadata_text.clone(),
                event.payload_text.clone(),
                event.hash.clone(),
            ]),
            _ => {
                // The stored JSON copied through as it is.
                let raw = |text: String| {
                    serde_json::value::RawValue::from_string(text)
                        .map(Some)
                        .map_err(|error| ReplayError::Output(error.into()))
                };
                event.metadata = raw(std::mem::take(&mut event.metadata_text))?;
                event.payload = raw(std::mem::take(&mut event.payload_text))?;
                let mut line = serde_json::to_string(&event)
                    .map_err(|error| ReplayError::Output(error.into()))?;
                line.push('\n');
                line
            }
        };
        if !write(out, line.as_bytes())? {
            break;
        }
        written += 1;
    }
    if let Err(error) = out.flush()
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(ReplayError::Output(error));
    }
    Ok(written)
}

/// Writes `bytes`; `false` when the reader has gone (a closed pipe).
fn write(out: &mut dyn Write, bytes: &[u8]) -> Result<bool, ReplayError> {
    match out.write_all(bytes) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(error) => Err(ReplayError::Output(error)),
    }
}

/// A period of the tax ledger as the command line gives it: a year (`2026`) or a
/// month of it (`2026-11`). Which years and months exist is the read model's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxPeriod {
    pub year: i32,
    pub month: Option<u32>,
}

impl std::str::FromStr for TaxPeriod {
    type Err = ReplayError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || ReplayError::BadPeriod(text.to_owned());
        let (year, month) = match text.split_once('-') {
            Some((year, month)) => (year, Some(month.parse::<u32>().map_err(|_| bad())?)),
            None => (text, None),
        };
        let year = year.parse::<i32>().map_err(|_| bad())?;
        Ok(TaxPeriod { year, month })
    }
}

/// A refusal of the read model: bad input is a bad argument (exit 2).
fn refused(period: &str, error: CommandError) -> ReplayError {
    match error.kind {
        ErrorKind::InvalidInput => ReplayError::BadPeriod(format!("{period} ({})", error.message)),
        _ => ReplayError::Ledger(error.to_string()),
    }
}

/// The files an accountant's export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Files {
    pub files: Vec<String>,
    pub rows: u64,
}

/// The tax ledger of `period`: XLSX (sheets Months and Lines) at `out`, or CSV (the
/// lines at `out`, the monthly totals beside it as `<name>.months.csv`).
pub async fn tax_ledger(
    pool: &PgPool,
    period: TaxPeriod,
    format: Format,
    out: &Path,
) -> Result<Files, ReplayError> {
    let reports::TaxPeriod { months, lines, .. } =
        reports::tax_period(pool, period.year, period.month)
            .await
            .map_err(|error| refused(&format!("{}", period.year), error))?;
    let rows = (months.len() + lines.len()) as u64;
    match format {
        Format::Xlsx => {
            let bytes = workbooks::tax_ledger(&months, &lines)
                .map_err(|error| ReplayError::Ledger(error.to_string()))?;
            save(out, &bytes)?;
            Ok(Files {
                files: vec![out.display().to_string()],
                rows,
            })
        }
        Format::Csv => {
            let totals = sibling(out, "months.csv");
            save(out, tax_ledger::lines_csv(&lines).as_bytes())?;
            save(&totals, tax_ledger::months_csv(&months).as_bytes())?;
            Ok(Files {
                files: vec![out.display().to_string(), totals.display().to_string()],
                rows,
            })
        }
        Format::JsonLines => Err(ReplayError::BadFormat(
            "jsonl (the ledger is csv or xlsx)".into(),
        )),
    }
}

/// The receipts register of `month` (`2026-11`) for «Мой налог», as XLSX or CSV.
pub async fn receipts(
    pool: &PgPool,
    month: TaxPeriod,
    format: Format,
    out: &Path,
) -> Result<Files, ReplayError> {
    let Some(number) = month.month else {
        return Err(ReplayError::BadPeriod(format!(
            "{} (give a month: 2026-11)",
            month.year
        )));
    };
    let name = format!("{}-{number:02}", month.year);
    let lines = reports::receipts(pool, &name)
        .await
        .map_err(|error| refused(&name, error))?;
    let bytes = match format {
        Format::Xlsx => {
            workbooks::receipts(&lines).map_err(|error| ReplayError::Ledger(error.to_string()))?
        }
        Format::Csv => receipts::to_csv(&lines).into_bytes(),
        Format::JsonLines => {
            return Err(ReplayError::BadFormat(
                "jsonl (the register is csv or xlsx)".into(),
            ));
        }
    };
    save(out, &bytes)?;
    Ok(Files {
        files: vec![out.display().to_string()],
        rows: lines.len() as u64,
    })
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ledger".to_owned());
    path.with_file_name(format!("{stem}.{suffix}"))
}

fn save(path: &Path, bytes: &[u8]) -> Result<(), ReplayError> {
    std::fs::write(path, bytes).map_err(ReplayError::Output)
}
