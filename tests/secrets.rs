//! Credentials of any shape stay secret: a password holding `/`, `?`, `#`,
//! `@`, quotes or percent signs, written plainly or percent-encoded, in a
//! Neo4j or a MySQL URI, appears in no output and no error of the real
//! binary; a password prompt that cannot be shown fails instead of using
//! an empty password.

mod common;

use std::process::{Command, Output, Stdio};

use common::{binary, generate, temp_dir};

/// Passwords that broke or could break the URI parsing: every character
/// class that ends a URI part, and percent-encoded forms.
const PASSWORDS: [&str; 9] = [
    "pa/ss-Zq1",
    "pa?ss-Zq2",
    "pa#ss-Zq3",
    "p@ss@Zq4",
    "a:b/c?d#e@f%g-Zq5",
    "%2Fpa%40ss-Zq6",
    "\"quoted'-Zq7",
    "sp ace\\back-Zq8",
    // A scheme's `://` inside the password of a text without a scheme.
    "0A://A-Zq9",
];

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The forms in which a password could leak: as given, and its first and
/// last characters (a parser that cut it at a delimiter would show one
/// side of it).
fn assert_hidden(password: &str, output: &Output, what: &str) {
    let text = printed(output);
    assert!(
        !text.contains(password),
        "{what}: the password {password:?} is printed:\n{text}"
    );
    for part in [&password[..3], &password[password.len() - 3..]] {
        assert!(
            !text.contains(part),
            "{what}: part of the password {password:?} is printed:\n{text}"
        );
    }
}

fn learngraph(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary());
    command
        .args(args)
        .current_dir(dir)
        .env_remove("NEO4J_PASSWORD")
        .env_remove("NEO4J_USERNAME")
        .env_remove("MYSQL_PASSWORD")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    command
}

#[test]
fn a_neo4j_uri_password_of_any_shape_is_never_printed() {
    let dir = temp_dir();
    let input = generate(dir.path(), "data.csv", 20, 7, 0.0);
    let input = input.to_str().expect("utf-8");
    for password in PASSWORDS {
        for (uri, expected) in [
            // Port 1 refuses at once: the run reaches the connection error.
            (format!("bolt://neo4j:{password}@127.0.0.1:1"), 14),
            (format!("neo4j+s://neo4j:{password}@127.0.0.1:1"), 14),
            // Not a URI at all: the configuration error must not quote it.
            (format!("neo4j:{password}@127.0.0.1:1"), 10),
        ] {
            for args in [
                &["ping"][..],
                &["ping", "--json"][..],
                &["load", input, "--log-format", "json"][..],
                &["verify", input, "--json"][..],
            ] {
                let output = learngraph(dir.path(), args)
                    .env("NEO4J_URI", &uri)
                    .output()
                    .expect("runs");
                assert_eq!(
                    output.status.code(),
                    Some(expected),
                    "{args:?} {uri}: {}",
                    printed(&output)
                );
                assert_hidden(password, &output, &format!("{args:?} with NEO4J_URI"));
            }
        }
    }
}

#[test]
fn a_mysql_source_password_of_any_shape_is_never_printed() {
    let dir = temp_dir();
    for password in PASSWORDS {
        let source = format!("mysql://reader:{password}@127.0.0.1:1/warehouse?table=t");
        for args in [
            &["check", "--source", &source][..],
            &["check", "--json", "--source", &source][..],
            &["load", "--log-format", "json", "--source", &source][..],
            &["export", "--out", "out", "--source", &source][..],
        ] {
            let output = learngraph(dir.path(), args).output().expect("runs");
            assert_eq!(output.status.code(), Some(10), "{args:?}: {}", printed(&output));
            assert!(
                printed(&output).contains("carries a password"),
                "{}",
                printed(&output)
            );
            assert_hidden(password, &output, &format!("{args:?}"));
        }
    }
}

#[test]
fn a_password_prompt_without_a_terminal_fails_instead_of_using_an_empty_password() {
    let dir = temp_dir();
    let input = generate(dir.path(), "data.csv", 20, 7, 0.0);
    for (args, names) in [
        (
            vec![
                "check",
                "--source-password-prompt",
                "--source",
                "mysql://reader@127.0.0.1:1/w?table=t",
            ],
            "MYSQL_PASSWORD",
        ),
        (vec!["ping", "--password-prompt"], "NEO4J_PASSWORD"),
        (
            vec!["verify", input.to_str().expect("utf-8"), "--password-prompt"],
            "NEO4J_PASSWORD",
        ),
    ] {
        // setsid: no controlling terminal, as under cron.
        let output = Command::new("setsid")
            .arg("-w")
            .arg(binary())
            .args(&args)
            .current_dir(dir.path())
            .env_remove("MYSQL_PASSWORD")
            .env("NEO4J_URI", "bolt://127.0.0.1:1")
            .stdin(Stdio::null())
            .output()
            .expect("setsid runs");
        let text = printed(&output);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {text}");
        assert!(
            text.contains("cannot read the") && text.contains(names),
            "{args:?}: {text}"
        );
    }
}
