//! Fixtures shared by the integration tests: running the real binary in a
//! temporary folder and generating input files with it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The learngraph binary Cargo built for these tests.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_learngraph"))
}

/// Runs the binary with `args` in `dir` and returns its output.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the learngraph binary runs")
}

/// Runs the binary and fails the test, showing its output, unless it succeeds.
pub fn run_ok(dir: &Path, args: &[&str]) -> Output {
    let output = run_in(dir, args);
    assert!(
        output.status.success(),
        "learngraph {args:?} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Generates `rows` rows with `seed` (and `--dirty dirty` when non-zero)
/// into `dir/name` and returns the path.
pub fn generate(dir: &Path, name: &str, rows: u64, seed: u64, dirty: f64) -> PathBuf {
    let out = dir.join(name);
    let rows = rows.to_string();
    let seed = seed.to_string();
    let dirty = dirty.to_string();
    run_ok(
        dir,
        &[
            "generate",
            "--rows",
            &rows,
            "--seed",
            &seed,
            "--out",
            out.to_str().expect("utf-8 path"),
            "--dirty",
            &dirty,
        ],
    );
    out
}

/// A fresh temporary folder, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}
