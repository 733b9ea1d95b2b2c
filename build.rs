//! Names the build: `learngraph --version` and every `LoadRun` record say
//! which commit the binary was built from and whether the tree held
//! uncommitted changes, so that a bug report names the build that ran.
//!
//! Read from git when the source is a clone; from `LEARNGRAPH_COMMIT` (and
//! `LEARNGRAPH_DIRTY`) when it is not, say an unpacked source archive;
//! otherwise the commit is "unknown".

use std::process::Command;

fn git(args: &[&str]) -> Option<std::process::Output> {
    Command::new("git").args(args).output().ok()
}

fn main() {
    let from_env = std::env::var("LEARNGRAPH_COMMIT").ok().filter(|c| !c.is_empty());
    let commit = from_env.clone().or_else(|| {
        git(&["rev-parse", "--short=12", "HEAD"])
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
    });
    let dirty = match &from_env {
        Some(_) => std::env::var("LEARNGRAPH_DIRTY").is_ok_and(|d| d == "1" || d == "true"),
        // Tracked files that differ from the commit; `git diff` does not
        // rewrite the index (`git status` would, and so rerun this script).
        None => {
            commit.is_some()
                && git(&["diff", "--quiet", "HEAD", "--"]).is_some_and(|out| out.status.code() == Some(1))
        }
    };
    let version = format!(
        "{} (commit {}{})",
        std::env::var("CARGO_PKG_VERSION").unwrap_or_default(),
        commit.as_deref().unwrap_or("unknown"),
        if dirty { ", dirty" } else { "" }
    );
    println!("cargo:rustc-env=LEARNGRAPH_VERSION={version}");
    // Again when the sources, the commit or the index change.
    for path in [
        "src",
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        ".git/HEAD",
        ".git/index",
    ] {
        if std::path::Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    if let Ok(head) = std::fs::read_to_string(".git/HEAD")
        && let Some(reference) = head.strip_prefix("ref: ")
    {
        println!("cargo:rerun-if-changed=.git/{}", reference.trim());
    }
    println!("cargo:rerun-if-env-changed=LEARNGRAPH_COMMIT");
    println!("cargo:rerun-if-env-changed=LEARNGRAPH_DIRTY");
}
