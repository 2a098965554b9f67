//! Escaping for Telegram's HTML parse mode: every user-supplied string (names,
//! titles, reasons, review texts, a device's User-Agent) goes through [`escape`]
//! before it is put into a message.

/// `text` with `&`, `<`, `>` and `"` replaced by their entities, as Telegram's HTML
/// parse mode requires.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_in_user_text_is_shown_not_interpreted() {
        assert_eq!(
            escape(r#"<b>Анна</b> & "Co""#),
            "&lt;b&gt;Анна&lt;/b&gt; &amp; &quot;Co&quot;"
        );
        assert_eq!(escape("plain"), "plain");
    }
}
