//! Paging and text search shared by the lists: the page size, keyset cursors
//! (`<time>|<id>`, newest first, stable for equal times) and `LIKE` patterns.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::command::CommandError;

/// A page of a list, newest first: how many, and the cursor of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub before: Option<Cursor>,
}

/// Where the previous page ended: its last item's time and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: String,
}

impl Page {
    /// `limit` (50 unless given, 1 to 200) and `before`, a `next_cursor` of an
    /// earlier page; bad values name the parameter.
    pub fn new(limit: Option<i64>, before: Option<&str>) -> Result<Self, CommandError> {
        Ok(Self {
            limit: page_limit(limit)?,
            before: before.map(Cursor::parse).transpose()?,
        })
    }

    pub(crate) fn before_at(&self) -> Option<DateTime<Utc>> {
        self.before.as_ref().map(|cursor| cursor.at)
    }

    pub(crate) fn before_id(&self) -> Option<String> {
        self.before.as_ref().map(|cursor| cursor.id.clone())
    }

    /// The cursor of the page after `items`, when this page was full.
    pub(crate) fn next_cursor<T>(
        &self,
        items: &[T],
        key: impl Fn(&T) -> (DateTime<Utc>, &str),
    ) -> Option<String> {
        if items.len() as i64 != self.limit {
            return None;
        }
        items.last().map(|last| {
            let (at, id) = key(last);
            format!("{}|{id}", at.to_rfc3339_opts(SecondsFormat::Micros, true))
        })
    }
}

impl Cursor {
    pub fn parse(text: &str) -> Result<Self, CommandError> {
        let bad = || CommandError::invalid("before", "a next_cursor from a previous page");
        let (at, id) = text.split_once('|').ok_or_else(bad)?;
        let at = at.parse::<DateTime<Utc>>().map_err(|_| bad())?;
        Ok(Self {
            at,
            id: id.to_owned(),
        })
    }
}

/// `limit` of a list: 50 unless given, 1 to 200.
pub fn page_limit(limit: Option<i64>) -> Result<i64, CommandError> {
    let limit = limit.unwrap_or(50);
    if (1..=200).contains(&limit) {
        Ok(limit)
    } else {
        Err(CommandError::invalid("limit", "from 1 to 200"))
    }
}

/// A lower-case `LIKE` pattern matching `text` anywhere, its wildcards escaped.
pub fn contains_pattern(text: &str) -> String {
    format!(
        "%{}%",
        text.to_lowercase().replace('%', "\\%").replace('_', "\\_")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_check_their_limit_and_cursor() {
        assert_eq!(Page::new(None, None).map(|page| page.limit), Ok(50));
        for bad in [Some(0), Some(201)] {
            assert_eq!(
                Page::new(bad, None).map_err(|error| error.field),
                Err(Some("limit".to_owned()))
            );
        }
        assert_eq!(
            Page::new(None, Some("yesterday")).map_err(|error| error.field),
            Err(Some("before".to_owned()))
        );
        let page = Page::new(Some(2), Some("2026-11-23T10:00:00.000000Z|abc")).expect("page");
        assert_eq!(page.before_id().as_deref(), Some("abc"));
        let items = [1, 2];
        let at = page.before_at().expect("at");
        assert_eq!(
            page.next_cursor(&items, |_| (at, "x")).as_deref(),
            Some("2026-11-23T10:00:00.000000Z|x")
        );
        assert_eq!(page.next_cursor(&items[..1], |_| (at, "x")), None);
    }

    #[test]
    fn patterns_escape_wildcards() {
        assert_eq!(contains_pattern("50%_Off"), "%50\\%\\_off%");
    }
}
