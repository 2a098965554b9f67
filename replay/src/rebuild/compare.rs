//! `rebuild --verify`: the rebuilt tables compared with the live ones row for row,
//! by primary key (all columns where a table has none), leaving out the columns
//! that record when the projection ran; each difference names the table, the key,
//! the column and both values.

use futures_util::TryStreamExt;
use projections::worker::Rebuildable;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::PgConnection;

use super::Schemas;
use crate::{Listed, ReplayError, ident};

/// One value that differs. `column` is `None` when a whole row is only on one side
/// (the other side's value is `null`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub table: String,
    pub key: Value,
    pub column: Option<String>,
    pub live: Value,
    pub rebuilt: Value,
}

/// How the rebuilt tables differ from the live ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Rows compared, per table, on the live side.
    pub rows: Vec<(String, i64)>,
    pub difference_count: u64,
    pub differences: Vec<Difference>,
}

impl Comparison {
    pub fn is_equal(&self) -> bool {
        self.difference_count == 0
    }
}

pub(crate) async fn compare(
    connection: &mut PgConnection,
    schemas: &Schemas,
    spec: &Rebuildable,
) -> Result<Comparison, ReplayError> {
    let mut rows_compared = Vec::new();
    let mut found: Listed<Difference> = Listed::default();
    let live = ident(&schemas.live);
    let rebuilt = ident(&schemas.rebuilt);
    for table in spec.tables {
        let name = format!("{live}.{}", ident(table));
        let ignored: Vec<&str> = spec
            .run_time_columns
            .iter()
            .filter(|(owner, _)| owner == table)
            .map(|(_, column)| *column)
            .collect();
        let mut key: Vec<String> = sqlx::query_scalar(
            "SELECT a.attname::text FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = to_regclass($1) AND i.indisprimary \
             ORDER BY array_position(i.indkey::int2[], a.attnum)",
        )
        .bind(&name)
        .fetch_all(&mut *connection)
        .await?;
        // Key columns are never null; a table without a key pairs equal rows.
        let join = if key.is_empty() {
            key = sqlx::query_scalar(
                "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) \
                 AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            )
            .bind(&name)
            .fetch_all(&mut *connection)
            .await?;
            "to_jsonb(l) = to_jsonb(r)".to_owned()
        } else {
            key.iter()
                .map(|column| format!("l.{c} = r.{c}", c = ident(column)))
                .collect::<Vec<_>>()
                .join(" AND ")
        };
        let order = key
            .iter()
            .map(|column| format!("COALESCE(l.{c}, r.{c})", c = ident(column)))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {name}"))
            .fetch_one(&mut *connection)
            .await?;
        rows_compared.push(((*table).to_owned(), rows));
        let query = format!(
            "SELECT CASE WHEN l IS NULL THEN NULL ELSE to_jsonb(l) - $1::text[] END, \
                    CASE WHEN r IS NULL THEN NULL ELSE to_jsonb(r) - $1::text[] END \
             FROM {name} l FULL JOIN {rebuilt}.{table} r ON {join} \
             WHERE (to_jsonb(l) - $1::text[]) IS DISTINCT FROM (to_jsonb(r) - $1::text[]) \
             ORDER BY {order}",
            table = ident(table)
        );
        let mut pairs = sqlx::query_as::<_, (Option<Value>, Option<Value>)>(&query)
            .bind(&ignored)
            .fetch(&mut *connection);
        while let Some((live_row, rebuilt_row)) = pairs.try_next().await? {
            for difference in differences(table, &key, live_row, rebuilt_row) {
                found.push(difference);
            }
        }
    }
    Ok(Comparison {
        rows: rows_compared,
        difference_count: found.count,
        differences: found.listed,
    })
}

/// The differences between the two sides of one key.
fn differences(
    table: &str,
    key: &[String],
    live: Option<Value>,
    rebuilt: Option<Value>,
) -> Vec<Difference> {
    let side = live.as_ref().or(rebuilt.as_ref());
    let key_value = Value::Object(
        key.iter()
            .map(|column| {
                let value = side
                    .and_then(|row| row.get(column))
                    .cloned()
                    .unwrap_or(Value::Null);
                (column.clone(), value)
            })
            .collect::<Map<_, _>>(),
    );
    match (live, rebuilt) {
        (Some(Value::Object(live)), Some(Value::Object(rebuilt))) => {
            let mut columns: Vec<&String> = live.keys().chain(rebuilt.keys()).collect();
            columns.sort();
            columns.dedup();
            columns
                .into_iter()
                .filter(|column| live.get(*column) != rebuilt.get(*column))
                .map(|column| Difference {
                    table: table.to_owned(),
                    key: key_value.clone(),
                    column: Some(column.clone()),
                    live: live.get(column).cloned().unwrap_or(Value::Null),
                    rebuilt: rebuilt.get(column).cloned().unwrap_or(Value::Null),
                })
                .collect()
        }
        (live, rebuilt) => vec![Difference {
            table: table.to_owned(),
            key: key_value,
            column: None,
            live: live.unwrap_or(Value::Null),
            rebuilt: rebuilt.unwrap_or(Value::Null),
        }],
    }
}

/// The comparison as text for a person.
pub fn render(projection: &str, comparison: &Comparison) -> String {
    let mut text = String::new();
    for difference in &comparison.differences {
        let key = serde_json::to_string(&difference.key).unwrap_or_default();
        match &difference.column {
            Some(column) => text.push_str(&format!(
                "{} {key} {column}: live {}, rebuilt {}\n",
                difference.table, difference.live, difference.rebuilt
            )),
            None if difference.live.is_null() => text.push_str(&format!(
                "{} {key}: only in the rebuild: {}\n",
                difference.table, difference.rebuilt
            )),
            None => text.push_str(&format!(
                "{} {key}: only in the live table: {}\n",
                difference.table, difference.live
            )),
        }
    }
    if comparison.difference_count > comparison.differences.len() as u64 {
        text.push_str(&format!(
            "… and {} more\n",
            comparison.difference_count - comparison.differences.len() as u64
        ));
    }
    let rows: Vec<String> = comparison
        .rows
        .iter()
        .map(|(table, rows)| format!("{table} {rows}"))
        .collect();
    if comparison.is_equal() {
        text.push_str(&format!(
            "{projection}: the rebuild equals the live tables row for row ({})\n",
            rows.join(", ")
        ));
    } else {
        text.push_str(&format!(
            "{projection}: {} difference(s) between the rebuild and the live tables ({})\n",
            comparison.difference_count,
            rows.join(", ")
        ));
    }
    text
}
