//! Credentials inside connection URIs (`bolt://user:secret@host`,
//! `mysql://user:secret@host/db?table=t`): where they end, and the URI as it
//! may be shown.
//!
//! One rule serves both URI kinds and every place a URI is printed (the
//! configuration block, summaries, logs, errors, records in the graph):
//! whatever stands before the URI's last `@` (after `scheme://`, if there
//! is one) is user-info and never shown. A password may therefore hold any
//! character, `/`, `?`, `#` and `@` included, written plainly or
//! percent-encoded; an `@` in a URI's path or query must be written `%40`.

/// Where the user-info of `uri` lies: the byte range of the text between
/// `scheme://` (or the start, for text without a scheme) and the last `@`,
/// and the position of that `@`.
fn userinfo_span(uri: &str) -> Option<(usize, usize)> {
    let at = uri.rfind('@')?;
    let start = scheme_end(&uri[..at]).unwrap_or(0);
    Some((start, at))
}

/// The end of a leading `scheme://` (RFC 3986: a letter, then letters,
/// digits, `+`, `-` or `.`). A `://` elsewhere, as inside a password of a
/// text that has no scheme, is none.
fn scheme_end(text: &str) -> Option<usize> {
    let end = text.find("://")?;
    let scheme = &text[..end];
    let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(end + 3)
}

/// Splits `uri` into the URI without its user-info, and the user-info's
/// user and password as written (not yet percent-decoded).
pub fn split_userinfo(uri: &str) -> (String, Option<&str>, Option<&str>) {
    let Some((start, at)) = userinfo_span(uri) else {
        return (uri.to_string(), None, None);
    };
    let userinfo = &uri[start..at];
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    (
        format!("{}{}", &uri[..start], &uri[at + 1..]),
        Some(user),
        password,
    )
}

/// `uri` as it may be shown: its user-info replaced by `***`. Text that is
/// not a URI at all is treated the same way, so that an error about a
/// malformed URI cannot quote the password either.
pub fn redact(uri: &str) -> String {
    match userinfo_span(uri) {
        Some((start, at)) => format!("{}***{}", &uri[..start], &uri[at..]),
        None => uri.to_string(),
    }
}

/// Percent-decodes `text` (`%40` is `@`); a `%` not followed by two hex
/// digits stays as it is.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(value) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_password_with_slash_question_mark_hash_and_at_is_user_info() {
        let (uri, user, password) = split_userinfo("bolt://neo4j:pa/ss?#@x@host:7687");
        assert_eq!(uri, "bolt://host:7687");
        assert_eq!((user, password), (Some("neo4j"), Some("pa/ss?#@x")));
        assert_eq!(redact("bolt://neo4j:pa/ss@host:7687"), "bolt://***@host:7687");
        assert_eq!(
            redact("neo4j:pa/ss@host"),
            "***@host",
            "not a URI: still redacted"
        );
        assert_eq!(redact("bolt://host:7687"), "bolt://host:7687");
        assert_eq!(percent_decode("s%40cret%2F%zz"), "s@cret/%zz");
    }

    /// A password of printable characters, written as it is or
    /// percent-encoded, through both URI kinds: neither the redacted form
    /// nor the URI left after the split holds it.
    fn printable_password() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[ -~]{6,24}").expect("a valid pattern")
    }

    fn percent_encoded(text: &str) -> String {
        text.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    proptest! {
        #[test]
        fn no_password_survives_redaction_or_the_split(password in printable_password(), encode in any::<bool>()) {
            // A marker makes the password distinctive enough to search for.
            let secret = format!("Zq{password}qZ");
            let written = if encode { percent_encoded(&secret) } else { secret.clone() };
            for uri in [
                format!("bolt://neo4j:{written}@db.example.com:7687"),
                format!("neo4j+s://neo4j:{written}@db.example.com"),
                format!("mysql://reader:{written}@db.example.com:3306/warehouse?table=t"),
                format!("neo4j:{written}@db.example.com"),
            ] {
                let shown = redact(&uri);
                let (rest, user, given) = split_userinfo(&uri);
                prop_assert!(!shown.contains(&written) && !shown.contains(&secret), "{shown}");
                prop_assert!(!rest.contains(&written) && !rest.contains(&secret), "{rest}");
                prop_assert!(shown.ends_with("@db.example.com:7687") || shown.contains("@db.example.com"));
                // A `%` followed by two hex digits in a plainly written
                // password reads as an encoding: only the other forms
                // come back exactly.
                if scheme_end(&uri).is_some() && (encode || !secret.contains('%')) {
                    prop_assert!(matches!(user, Some("neo4j") | Some("reader")), "{user:?}");
                    prop_assert_eq!(given.map(percent_decode), Some(secret.clone()));
                }
            }
        }
    }
}
