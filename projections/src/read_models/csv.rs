//! CSV as spreadsheets read it (RFC 4180): comma-separated, CRLF line ends, a cell
//! quoted when it holds a comma, a quote or a line break, and a text cell that a
//! spreadsheet would take for a formula neutralised.

use std::borrow::Cow;

/// One line of cells, ending in CRLF.
pub fn row<S: AsRef<str>>(cells: &[S]) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|cell| quote(&neutralised(cell.as_ref())))
        .collect();
    let mut line = quoted.join(",");
    line.push_str("\r\n");
    line
}

/// A cell that starts like a formula (`=`, `+`, `-`, `@`, or a tab or carriage
/// return before one) gets a leading apostrophe, so Excel, LibreOffice and Google
/// Sheets show it as text instead of running it (CSV injection). A number (`-12.50`)
/// stays a number.
pub fn neutralised(cell: &str) -> Cow<'_, str> {
    if formula_like(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Whether a spreadsheet would take `cell` for a formula (and it is not a number).
pub fn formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number(cell)
}

fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|byte| byte.is_ascii_digit())
        && fraction
            .is_none_or(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
}

fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_with_commas_or_quotes_are_quoted() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a, b"), "\"a, b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(row(&["a", "b\nc"]), "a,\"b\nc\"\r\n");
    }

    #[test]
    fn formula_like_text_is_neutralised_and_numbers_are_not() {
        for formula in [
            "=1+1",
            "+7 999",
            "-cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "-",
            "-1e5",
            "+-1",
        ] {
            assert_eq!(neutralised(formula), format!("'{formula}"), "{formula:?}");
        }
        for plain in ["-12.50", "+3", "0.00", "12", "a=b", "", "Тверь"] {
            assert_eq!(neutralised(plain), plain, "{plain:?}");
        }
        assert_eq!(
            row(&["=HYPERLINK(\"x\")", "-5.00"]),
            "\"'=HYPERLINK(\"\"x\"\")\",-5.00\r\n"
        );
    }
}
