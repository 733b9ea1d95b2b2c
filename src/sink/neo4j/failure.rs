//! Driver errors in words: the server's own code and message when it sent
//! one, a plain sentence otherwise, and never a Rust debug structure.
//!
//! neo4rs 0.8 reports some server failures (a failed BEGIN or COMMIT) as an
//! "unexpected message" whose text is the debug dump of the Bolt FAILURE
//! message; the code and message are read back out of that text here, in
//! one place, so that nothing else has to.

/// A server's failure: its status code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerFailure {
    pub code: String,
    pub message: String,
}

/// The server's failure an error carries, if it carries one.
pub fn server_failure(error: &neo4rs::Error) -> Option<ServerFailure> {
    match error {
        neo4rs::Error::Neo4j(e) => Some(ServerFailure {
            code: e.code().to_string(),
            message: e.message().to_string(),
        }),
        neo4rs::Error::UnexpectedMessage(text) | neo4rs::Error::AuthenticationError(text) => {
            let code = dumped_field(text, "code")?;
            let message = dumped_field(text, "message").unwrap_or_default();
            Some(ServerFailure { code, message })
        }
        _ => None,
    }
}

/// One sentence for an error: the server's code and message, or what the
/// driver saw.
pub fn describe(error: &neo4rs::Error) -> String {
    if let Some(failure) = server_failure(error) {
        return if failure.message.is_empty() {
            format!("the server answered {}", failure.code)
        } else {
            format!("the server answered {}: {}", failure.code, failure.message)
        };
    }
    match error {
        neo4rs::Error::IOError { detail } => format!("the network connection failed ({detail})"),
        neo4rs::Error::ConnectionError => "the connection to the server was lost".to_string(),
        neo4rs::Error::UnexpectedMessage(text) | neo4rs::Error::UnknownMessage(text) => {
            // A dump without a code: keep only its first words.
            let words: String = text.split(['(', '{']).next().unwrap_or(text).trim().to_string();
            format!("the server sent an unexpected answer ({words})")
        }
        other => other.to_string(),
    }
}

/// The string value of `name` in a debug dump of a Bolt map, as neo4rs
/// prints it: `BoltString { value: "code" }: String(BoltString { value: "..." })`.
fn dumped_field(text: &str, name: &str) -> Option<String> {
    let key = format!("BoltString {{ value: \"{name}\" }}: String(BoltString {{ value: \"");
    let start = text.find(&key)? + key.len();
    let mut value = String::new();
    let mut chars = text[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                other => value.push(other),
            },
            '"' => return Some(value),
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = r#"unexpected response for BEGIN: Failure(Failure { metadata: BoltMap { value: {BoltString { value: "code" }: String(BoltString { value: "Neo.ClientError.Database.DatabaseNotFound" }), BoltString { value: "message" }: String(BoltString { value: "Database 'x' does not \"exist\"" })} } })"#;

    #[test]
    fn a_dumped_failure_becomes_its_code_and_message() {
        let error = neo4rs::Error::UnexpectedMessage(DUMP.to_string());
        assert_eq!(
            server_failure(&error),
            Some(ServerFailure {
                code: "Neo.ClientError.Database.DatabaseNotFound".to_string(),
                message: "Database 'x' does not \"exist\"".to_string(),
            })
        );
        let text = describe(&error);
        assert_eq!(
            text,
            "the server answered Neo.ClientError.Database.DatabaseNotFound: Database 'x' does not \"exist\""
        );
        assert!(!text.contains("BoltString"));
    }

    #[test]
    fn errors_without_a_server_code_are_plain_sentences() {
        assert_eq!(
            describe(&neo4rs::Error::ConnectionError),
            "the connection to the server was lost"
        );
        let odd = describe(&neo4rs::Error::UnexpectedMessage(
            "unexpected response for RUN: Record(BoltList { value: [] })".to_string(),
        ));
        assert_eq!(
            odd,
            "the server sent an unexpected answer (unexpected response for RUN: Record)"
        );
    }
}
