//! End-to-end: `learngraph report` of a loaded graph, rendered by a real
//! headless browser (Debian's chromium): the page is self-contained, and
//! its charts are drawn (their colours are on the screenshot).
// The database lock serializes whole tests.
#![allow(clippy::await_holding_lock)]

mod common;

use std::path::Path;
use std::process::Command;

use learngraph::graph::questions;
use learngraph::sink::report::chart::PALETTE;
use thousands::Separable;

/// Pixels of the screenshot in `rgb` (exactly).
fn pixels_of(png_path: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).expect("the screenshot"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    let step = info.color_type.samples();
    buffer[..info.buffer_size()]
        .chunks(step)
        .filter(|pixel| pixel[..3] == rgb)
        .count()
}

/// Renders `page` in headless chromium; returns the screenshot's path.
fn screenshot(page: &Path, height: u32) -> std::path::PathBuf {
    let browser = std::env::var("LEARNGRAPH_CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let screenshot = page.with_extension("png");
    let output = Command::new(&browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg(format!("--window-size=1100,{height}"))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("{browser} runs ({e}): scripts/test installs Debian's chromium"));
    assert!(
        output.status.success() && screenshot.exists(),
        "{browser} renders the page: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    screenshot
}

/// One section of a page, by its id.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<section id=\"{id}\">"))
        .unwrap_or_else(|| panic!("section {id}"));
    let end = start + html[start..].find("</section>").expect("its end");
    &html[start..end]
}

fn rgb(hex: &str) -> [u8; 3] {
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("a hex colour");
    [byte(1), byte(3), byte(5)]
}

#[test]
fn the_report_is_one_self_contained_page_whose_charts_a_browser_draws() {
    let _db = common::db_lock();
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let input = common::generate(dir.path(), "sample.csv", 2_000, 31, 0.02);
    let check = common::run_db(dir.path(), &["check", input.to_str().expect("utf-8"), "--json"]);
    let check_file = dir.path().join("check.json");
    std::fs::write(&check_file, &check.stdout).expect("writes the check report");
    let check: serde_json::Value = serde_json::from_slice(&check.stdout).expect("a check report");
    assert!(
        check["rows_rejected"].as_u64().expect("n") > 0,
        "the dirty sample has rejects"
    );
    common::run_db_ok(dir.path(), &["load", input.to_str().expect("utf-8")]);

    let page = dir.path().join("report.html");
    common::run_db_ok(
        dir.path(),
        &[
            "report",
            "--out",
            page.to_str().expect("utf-8"),
            "--check",
            check_file.to_str().expect("utf-8"),
        ],
    );
    let html = std::fs::read_to_string(&page).expect("the report is written");
    for question in questions::catalogue().iter().filter(|q| q.needs_nothing()) {
        assert!(
            html.contains(&format!("<section id=\"{}\">", question.name)),
            "{} is answered in the report",
            question.name
        );
    }
    assert!(
        html.contains(&format!(
            "<b>{}</b>rows loaded",
            check["rows_loaded"].as_u64().expect("n").separate_with_commas()
        )),
        "the check's figures, digits grouped"
    );
    assert!(
        html.contains("the latest run of load is"),
        "the page names the run it describes"
    );
    // One snapshot: the population over time waits for a second.
    assert!(section(&html, "population-over-time").contains("once the graph holds two snapshots"));
    assert!(html.contains("Rejected rows by reason"));
    // One snapshot: the transitions have nothing to compare, and say so.
    assert!(html.contains("load a later one"));
    let charts = html.matches("<svg class=\"chart\"").count();
    assert!(charts >= 8, "{charts} charts");
    for outside in ["src=", "href=", "@import", "url(", "<script"] {
        assert!(
            !html.contains(outside),
            "the page fetches nothing and runs nothing: {outside}"
        );
    }

    let shot = screenshot(&page, 9000);
    // Bars are drawn in the palette's exact colours, which nothing else on
    // the page uses: the first series in every chart, the second in the
    // stacked and range charts.
    let first = pixels_of(&shot, rgb(PALETTE[0]));
    let second = pixels_of(&shot, rgb(PALETTE[1]));
    assert!(first > 20_000, "{first} pixels of the first series' colour");
    assert!(second > 2_000, "{second} pixels of the second series' colour");

    // A run killed while it writes the page (here by the file-size limit,
    // SIGXFSZ, at 8 KiB) leaves the previous good page as it was.
    let before = std::fs::read(&page).expect("the page");
    assert!(before.len() > 8 << 10, "the page is larger than the limit");
    let output = Command::new("bash")
        .arg("-c")
        .arg("ulimit -f 8; exec \"$LEARNGRAPH_BIN\" report --out \"$LEARNGRAPH_OUT\"")
        .envs(
            common::db_command(dir.path(), &[])
                .get_envs()
                .filter_map(|(k, v)| Some((k, v?))),
        )
        .env("LEARNGRAPH_BIN", common::binary())
        .env("LEARNGRAPH_OUT", &page)
        .current_dir(dir.path())
        .output()
        .expect("bash runs");
    // It died of the file-size signal (SIGXFSZ, 25 on Linux), not of
    // another failure that would leave the page as it was just as well.
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&output.status),
        Some(25),
        "the write was cut short by the file-size limit: {output:?}"
    );
    assert_eq!(
        std::fs::read(&page).expect("the page"),
        before,
        "the previous page is intact"
    );

    // A second snapshot: the population over time, as two charts of
    // shares per snapshot, drawn by the browser.
    let (next, _) = common::generate_follow_up(dir.path(), "next.csv", 2_000, 31);
    common::run_db_ok(dir.path(), &["load", next.to_str().expect("utf-8")]);
    common::run_db_ok(dir.path(), &["report", "--out", page.to_str().expect("utf-8")]);
    let html = std::fs::read_to_string(&page).expect("the report is written");
    assert!(
        html.contains("the snapshot 2025-12-31"),
        "the page names the snapshot it describes"
    );
    let over_time = section(&html, "population-over-time");
    assert_eq!(
        over_time.matches("<svg class=\"chart\"").count(),
        2,
        "{over_time}"
    );
    for label in ["2025-09-30 (", "2025-12-31 (", "Graduate", "Wage Employed"] {
        assert!(over_time.contains(label), "{label} in {over_time}");
    }
    let alone = dir.path().join("over-time.html");
    std::fs::write(
        &alone,
        format!("<!DOCTYPE html><html><body>{over_time}</section></body></html>"),
    )
    .expect("writes the section alone");
    let drawn = screenshot(&alone, 1200);
    let colours = PALETTE
        .iter()
        .filter(|hex| pixels_of(&drawn, rgb(hex)) > 200)
        .count();
    assert!(colours >= 3, "{colours} series drawn in the population charts");
}

/// A check report that is missing, or is not one (here the export itself),
/// is an unreadable input (11), said once, and the hint never points a
/// redirection at the file given.
#[test]
fn a_missing_or_wrong_check_report_exits_11_and_the_hint_never_overwrites_it() {
    let dir = common::temp_dir();
    let export = common::generate(dir.path(), "sample.csv", 20, 3, 0.0);
    let before = std::fs::read(&export).expect("reads");
    let missing = dir.path().join("missing.json");
    for (given, says) in [
        (&missing, "cannot read the check report"),
        (&export, "is not a check report"),
    ] {
        let given = given.to_str().expect("utf-8");
        let output = common::run_in(dir.path(), &["report", "--out", "report.html", "--check", given]);
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(11), "{said}");
        assert!(said.contains(says), "{said}");
        assert!(said.contains("> check.json"), "{said}");
        assert!(!said.contains(&format!("> {given}")), "{said}");
    }
    assert_eq!(std::fs::read(&export).expect("reads"), before);
}
