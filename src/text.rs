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

/// An error and its causes as one sentence, each said once: a cause whose
/// text the message already holds (a `thiserror` message that quotes its
/// source, an OS error) is not repeated.
pub fn said_once<'a>(chain: impl IntoIterator<Item = &'a (dyn std::error::Error + 'static)>) -> String {
    let mut message = String::new();
    for cause in chain {
        let text = cause.to_string();
        if text.is_empty() || message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_quoting_its_cause_says_it_once_and_a_new_cause_is_added() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot read x.csv: {source}; check the path")]
        struct Quoting {
            source: std::io::Error,
        }
        let os = || std::io::Error::from_raw_os_error(2);
        let quoted = anyhow::Error::from(Quoting { source: os() });
        assert_eq!(
            said_once(quoted.chain()),
            "cannot read x.csv: No such file or directory (os error 2); check the path"
        );
        let context = anyhow::Error::from(os()).context("reading the settings");
        assert_eq!(
            said_once(context.chain()),
            "reading the settings: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn a_message_keeps_its_lines_and_loses_its_escape_sequences() {
        let message = "cannot read \u{1b}]0;pwned\u{7}x.csv\nsecond line\r";
        let shown = terminal_safe_lines(message);
        assert_eq!(shown, "cannot read \\u{1b}]0;pwned\\u{7}x.csv\nsecond line\\r");
    }
}
