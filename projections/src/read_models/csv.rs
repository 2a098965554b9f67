//! CSV as spreadsheets read it (RFC 4180): comma-separated, CRLF line ends, a cell
//! quoted when it holds a comma, a quote or a line break.

/// One line of cells, ending in CRLF.
pub fn row<S: AsRef<str>>(cells: &[S]) -> String {
    let quoted: Vec<String> = cells.iter().map(|cell| quote(cell.as_ref())).collect();
    let mut line = quoted.join(",");
    line.push_str("\r\n");
    line
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
}
