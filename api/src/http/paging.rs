//! Paging and text search shared by the API's lists: the page size, keyset cursors
//! (`<time>|<id>`, newest first, stable for equal times) and `LIKE` patterns.

use chrono::{DateTime, SecondsFormat, Utc};

use super::error::ApiError;

/// `limit` of a list: 50 unless given, 1 to 200.
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(50);
    if (1..=200).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::invalid_field("limit", "from 1 to 200"))
    }
}

/// The `before` cursor of a list, if given.
pub fn parse_cursor(before: Option<&str>) -> Result<Option<(DateTime<Utc>, String)>, ApiError> {
    let Some(text) = before else { return Ok(None) };
    let bad = || ApiError::invalid_field("before", "a next_cursor from a previous page");
    let (at, id) = text.split_once('|').ok_or_else(bad)?;
    let at = at.parse::<DateTime<Utc>>().map_err(|_| bad())?;
    Ok(Some((at, id.to_owned())))
}

/// The cursor of the page after `items`, when the page was full.
pub fn next_cursor<T>(
    items: &[T],
    limit: i64,
    key: impl Fn(&T) -> (DateTime<Utc>, &str),
) -> Option<String> {
    if items.len() as i64 != limit {
        return None;
    }
    items.last().map(|last| {
        let (at, id) = key(last);
        format!("{}|{id}", at.to_rfc3339_opts(SecondsFormat::Micros, true))
    })
}

/// A lower-case `LIKE` pattern matching `text` anywhere, its wildcards escaped.
pub fn contains_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.to_lowercase().replace('%', "\\%").replace('_', "\\_")
    )
}
