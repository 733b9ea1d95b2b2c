//! Driver errors in words: the server's own code and message when it sent
//! one, a plain sentence otherwise, and never a Rust debug structure.

use neo4j::Neo4jError;

use super::bolt::BoltError;

/// One sentence for an error: the server's code and message, or what the
/// driver saw.
pub fn describe(error: &BoltError) -> String {
    if let Some(code) = error.server_code() {
        let message = error.server_message().unwrap_or_default();
        return if message.is_empty() {
            format!("the server answered {code}")
        } else {
            format!("the server answered {code}: {message}")
        };
    }
    let Some(driver) = error.driver() else {
        return error.to_string();
    };
    match driver {
        Neo4jError::Disconnect { source, .. } => match source {
            Some(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                "the connection was refused: nothing listens at that host and port (Bolt's is 7687 unless the \
                 server says otherwise)"
                    .to_string()
            }
            Some(io) if speaks_http(&io.to_string()) => HTTP_PORT.to_string(),
            Some(io) if is_tls_failure(&io.to_string()) => describe_config(&io.to_string()),
            Some(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => format!(
                "the server closed the connection ({io}); if it requires TLS, use bolt+s:// or neo4j+s://"
            ),
            Some(io) => format!("the connection to the server was lost ({io})"),
            None => "the connection to the server was lost".to_string(),
        },
        Neo4jError::Timeout { message, .. } => {
            format!("no connection to the server could be had in time ({message})")
        }
        Neo4jError::InvalidConfig { message, .. } if speaks_http(message) => HTTP_PORT.to_string(),
        Neo4jError::InvalidConfig { message, .. } => describe_config(message),
        Neo4jError::ProtocolError { message, .. } => {
            format!("the server broke the Bolt protocol ({message})")
        }
        other => other.to_string(),
    }
}

/// What a Bolt client pointed at an HTTP port is told: not TLS, the port.
const HTTP_PORT: &str = "the server at that address answered in HTTP, not Bolt: the URI names its HTTP port \
     (7474 by default, for the browser and the HTTP API); use the Bolt port (7687 by default)";

/// Whether the driver saw an HTTP answer to the Bolt handshake (`HTTP` is
/// the four bytes 72, 84, 84, 80).
fn speaks_http(message: &str) -> bool {
    message.contains("looks like HTTP") || message.contains("[72, 84, 84, 80]")
}

/// TLS failures come back as configuration errors; the sentence says
/// which setting decides.
fn describe_config(message: &str) -> String {
    if is_tls_failure(message) {
        format!(
            "the TLS handshake failed: {message}; the server's certificate is not trusted: for a private CA set \
             neo4j.trusted_ca (or --trusted-ca) to its PEM file, for a self-signed certificate on a test server \
             use bolt+ssc:// or neo4j+ssc://"
        )
    } else {
        message.to_string()
    }
}

/// Whether an error's text is about TLS: a certificate the client does not
/// trust, or a failed handshake.
pub fn is_tls_failure(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn errors_without_a_server_code_are_plain_sentences() {
        assert_eq!(
            describe(&BoltError::TimedOut(Duration::from_secs(7))),
            "the server did not answer within 7 s (neo4j.query_timeout_seconds)"
        );
        assert!(speaks_http(
            "unexpected server handshake response [72, 84, 84, 80] (looks like HTTP)"
        ));
        assert!(!is_tls_failure(HTTP_PORT), "{HTTP_PORT}");
        let tls = describe_config("invalid peer certificate: UnknownIssuer");
        assert!(
            tls.contains("certificate") && tls.contains("neo4j.trusted_ca"),
            "{tls}"
        );
    }
}
