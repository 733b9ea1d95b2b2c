//! What an installed learngraph offers besides its commands: a version that
//! names its build, shell completions that work in a real shell, and a man
//! page, all generated from the command definitions.

mod common;

use std::process::Command;

fn stdout_of(args: &[&str]) -> String {
    let dir = common::temp_dir();
    let output = common::run_ok(dir.path(), args);
    String::from_utf8(output.stdout).expect("UTF-8")
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let version = stdout_of(&["--version"]);
    let manifest = env!("CARGO_PKG_VERSION");
    assert!(
        version.starts_with(&format!("learngraph {manifest} (commit ")),
        "{version}"
    );
    // Built from this clone: the commit is the one checked out (the tree may
    // have changed since the build, so `dirty` is not compared).
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git");
    if head.status.success() {
        let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
        assert!(
            version.contains(&format!("(commit {head}")),
            "{version} is not {head}"
        );
    }
}

/// Completes `words` (the last one being typed) with the bash completion
/// learngraph prints, loaded into a real bash.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let dir = common::temp_dir();
    let script = dir.path().join("learngraph.bash");
    std::fs::write(&script, stdout_of(&["completions", "bash"])).expect("write");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE='{}'; COMP_POINT=${{#COMP_LINE}}; \
         _learngraph learngraph '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words.join(" "),
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn the_bash_completion_completes_subcommands_and_their_flags() {
    assert_eq!(bash_complete(&["learngraph", "lo"]), ["load"]);
    let history = bash_complete(&["learngraph", "h"]);
    assert!(history.contains(&"history".to_string()), "{history:?}");
    let flags = bash_complete(&["learngraph", "load", "--re"]);
    for flag in ["--resume", "--rejects"] {
        assert!(flags.contains(&flag.to_string()), "{flag} not in {flags:?}");
    }
}

#[test]
fn zsh_and_fish_completions_and_the_man_page_name_every_subcommand() {
    let zsh = stdout_of(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef learngraph"), "{zsh}");
    let fish = stdout_of(&["completions", "fish"]);
    let man = stdout_of(&["man"]);
    assert!(man.contains(".TH learngraph 1"), "{man}");
    for subcommand in [
        "generate", "check", "export", "load", "verify", "ping", "ask", "report", "history", "clear",
    ] {
        assert!(zsh.contains(&format!("'{subcommand}:")), "zsh lacks {subcommand}");
        assert!(
            fish.contains(&format!("-a \"{subcommand}\"")),
            "fish lacks {subcommand}"
        );
        assert!(
            man.contains(&format!(".SS \"learngraph {subcommand}\"")),
            "man lacks {subcommand}"
        );
    }
}

/// The manual page as `man` shows it: one page for the whole tool (no
/// reference to a learngraph-load(1) nobody installs), with each command's
/// flags, the environment, and every exit code of the README's table.
#[test]
fn the_man_page_holds_flags_environment_and_every_exit_code_of_the_readme() {
    let man = stdout_of(&["man"]);
    assert!(
        !man.contains("learngraph\\-load(1)") && !man.contains("learngraph\\-generate"),
        "{man}"
    );
    for words in [
        "\\-\\-apply\\-graph\\-options",
        "\\-\\-max\\-retry\\-seconds",
        "\\-\\-password\\-file",
        ".SH ENVIRONMENT",
        "NEO4J_URI",
        "NEO4J_PASSWORD",
        "MYSQL_PASSWORD",
        "RUST_LOG",
        ".SH \"EXIT STATUS\"",
    ] {
        assert!(man.contains(words), "the man page lacks {words}");
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let codes: Vec<&str> = readme
        .lines()
        .skip_while(|line| !line.starts_with("Exit codes ("))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| line.strip_prefix("| "))
        .filter_map(|line| line.split(" |").next())
        .filter(|code| code.chars().all(|c| c.is_ascii_digit()) && !code.is_empty())
        .collect();
    assert!(codes.len() > 25, "the README's exit codes: {codes:?}");
    let exit_status = man.split(".SH \"EXIT STATUS\"").nth(1).expect("the section");
    let in_man: Vec<&str> = exit_status
        .lines()
        .filter_map(|line| line.strip_prefix("\\fB"))
        .filter_map(|line| line.strip_suffix("\\fR"))
        .collect();
    assert_eq!(in_man, codes, "the man page's exit codes against the README's");
}

#[test]
fn an_unknown_shell_is_a_usage_error_that_lists_the_shells() {
    let dir = common::temp_dir();
    let output = common::run_in(dir.path(), &["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bash") && stderr.contains("zsh") && stderr.contains("fish"),
        "{stderr}"
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    let dir = common::temp_dir();
    let sample = common::generate(dir.path(), "sample.csv", 500, 1, 0.0);
    let sample = sample.to_str().expect("UTF-8");
    let rejects = dir.path().join("rejects.csv");
    let rejects = rejects.to_str().expect("UTF-8");
    for args in [
        ["completions", "bash"].as_slice(),
        ["man"].as_slice(),
        ["check", sample, "--json", "--rejects", rejects].as_slice(),
        ["check", sample, "--rejects", rejects].as_slice(),
        ["ask", "--cypher", "top-skills"].as_slice(),
    ] {
        let mut child = Command::new(common::binary())
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Close the pipe at once: every write fails with a broken pipe.
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
