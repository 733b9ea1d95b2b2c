//! Text that did not come from learngraph itself (data cells, file names,
//! records another process left in the graph) on its way to a terminal.

/// Text from the data as it may reach a terminal: control characters (C0,
/// DEL and C1, which start escape and OSC sequences, and line breaks that
/// would break a table) shown escaped (`\u{1b}`, `\n`), so a cell can
/// neither run a terminal command nor forge lines. JSON and CSV outputs
/// keep the value as it is.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// [`terminal_safe`] for a message of several lines: line breaks stay,
/// every other control character is shown escaped. For learngraph's own
/// messages, which may quote a file name or a record from the graph.
pub fn terminal_safe_lines(text: &str) -> String {
    text.split('\n').map(terminal_safe).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_keeps_its_lines_and_loses_its_escape_sequences() {
        let message = "cannot read \u{1b}]0;pwned\u{7}x.csv\nsecond line\r";
        let shown = terminal_safe_lines(message);
        assert_eq!(shown, "cannot read \\u{1b}]0;pwned\\u{7}x.csv\nsecond line\\r");
    }
}
