//! The export's MySQL table as the source, against the real local MariaDB
//! server (`scripts/local-mysql`, started by `scripts/test`) and the real
//! local graph database: the same rows give the same graph from the CSV
//! file and from the table, a dirty file gives the same rejects, the
//! server's own column types read as the file's text, a killed load resumes
//! from its spool, and each kind of connection failure has its exit code.
// The lock serializes the tests that share the one database; holding it
// across awaits is the point.
#![allow(clippy::await_holding_lock)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{assert_success, check_json, db_command, db_lock, generate, json, run_db_ok, temp_dir};

/// A generated file (see [`generate`]), also imported into the local MySQL
/// table.
fn generate_imported(dir: &Path, name: &str, rows: u64, seed: u64, dirty: f64) -> PathBuf {
    let input = generate(dir, name, rows, seed, dirty);
    script(&["import", input.to_str().unwrap()], None);
    input
}

fn script(args: &[&str], stdin: Option<&str>) -> Output {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new("bash");
    command.arg(root.join("scripts/local-mysql")).args(args);
    command.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("local-mysql runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .expect("stdin");
    }
    let output = child.wait_with_output().expect("local-mysql ends");
    assert!(
        output.status.success(),
        "scripts/local-mysql {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The table's source URI (another table of the same database with `table`).
fn source(table: Option<&str>) -> String {
    let uri = text(&script(&["uri"], None));
    match table {
        Some(t) => format!("{}?table={t}", uri.split('?').next().unwrap()),
        None => uri,
    }
}

fn mysql_password() -> String {
    let file = text(&script(&["password-file"], None));
    std::fs::read_to_string(file)
        .expect("password")
        .trim()
        .to_string()
}

/// The binary against the test graph database, reading `--source` with
/// the MySQL password in its environment.
fn with_source(dir: &Path, args: &[&str]) -> Output {
    db_command(dir, args)
        .env("MYSQL_PASSWORD", mysql_password())
        .output()
        .expect("runs")
}

/// [`with_source`], failing the test unless the command succeeds.
fn with_source_ok(dir: &Path, args: &[&str]) -> Output {
    assert_success(args, with_source(dir, args))
}

/// `check --json` of a table of the local MySQL database (the import's by
/// default).
fn check_table(dir: &Path, table: Option<&str>) -> serde_json::Value {
    let report = json(&with_source_ok(
        dir,
        &["check", "--source", &source(table), "--json"],
    ));
    // One pass reads the rows as they stream in: nothing is spooled.
    let spooled: Vec<_> = std::fs::read_dir(dir)
        .expect("the work folder")
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry.file_name().to_string_lossy().contains(".spool.csv")
                && !entry.file_name().to_string_lossy().ends_with(".rejects.csv")
        })
        .map(|entry| entry.file_name())
        .collect();
    assert!(spooled.is_empty(), "check wrote a spool: {spooled:?}");
    // The report names the table it read, not a file that does not exist.
    let input = report["input"].as_str().expect("the input");
    assert!(
        input.starts_with("mysql://")
            && input.ends_with(&format!("table={}", table.unwrap_or("impact_learners_profile"))),
        "{input}"
    );
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_rows_from_the_file_and_from_the_table_give_the_same_graph() {
    let _db = db_lock();
    let dir = temp_dir();
    let input = generate_imported(dir.path(), "same.csv", 2_500, 81, 0.0);

    run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let file_load = run_db_ok(dir.path(), &["load", input.to_str().unwrap(), "--json"]);
    let from_file = common::graph_picture(Some(60), &[]).await;

    run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let load = with_source_ok(dir.path(), &["load", "--source", &source(None), "--json"]);
    assert_eq!(json(&load)["rows_read"], 2_500);
    assert_eq!(json(&load)["rows_accepted"], json(&file_load)["rows_accepted"]);
    let from_table = common::graph_picture(Some(60), &[]).await;
    let verify = with_source_ok(dir.path(), &["verify", "--source", &source(None)]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));

    assert!(from_file.0.len() > 10, "{:?}", from_file.0);
    assert_eq!(from_file.0, from_table.0, "label and type counts differ");
    assert_eq!(from_file.1.len(), 60);
    for (a, b) in from_file.1.iter().zip(&from_table.1) {
        assert_eq!(a, b, "a learner differs between the two loads");
    }
}

/// Reasons a row of a table cannot have: a table row always has every
/// column, and a utf8mb4 column holds only valid UTF-8 (the import's
/// LOAD DATA pads or trims such a row into a well-formed one).
const FILE_ONLY_REASONS: [&str; 3] = ["wrong_column_count", "invalid_utf8", "truncated"];

/// (record, reason, key) of each rejected row of a rejects file, leaving
/// out the reasons only a file can have.
fn table_representable_rejects(path: &Path) -> Vec<(String, String, String)> {
    let mut reader = csv::Reader::from_path(path).expect("rejects file");
    // The raw row of an invalid_utf8 reject is not UTF-8: read bytes.
    reader
        .byte_records()
        .map(|r| r.expect("a rejects row"))
        .map(|r| {
            r.iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect::<Vec<_>>()
        })
        .filter(|r| !FILE_ONLY_REASONS.contains(&r[2].as_str()))
        .map(|r| {
            let key = r[4].split(',').next().unwrap_or("").to_string();
            (r[0].clone(), r[2].clone(), key)
        })
        .collect()
}

#[test]
fn a_dirty_file_in_the_table_yields_the_same_rejects() {
    let _db = db_lock();
    let dir = temp_dir();
    let input = generate_imported(dir.path(), "dirty.csv", 3_000, 82, 0.05);
    let from_file = check_json(dir.path(), &input, &[]);
    let from_table = check_table(dir.path(), None);
    assert_eq!(from_file["rows_read"], from_table["rows_read"]);
    let reasons = |report: &serde_json::Value| -> BTreeMap<String, u64> {
        report["rejected_by_reason"]
            .as_object()
            .expect("reasons")
            .iter()
            .filter(|(reason, _)| !FILE_ONLY_REASONS.contains(&reason.as_str()))
            .map(|(reason, n)| (reason.clone(), n.as_u64().unwrap()))
            .collect()
    };
    assert!(
        !reasons(&from_file).is_empty(),
        "the dirty file has no table-representable rejects"
    );
    assert_eq!(reasons(&from_file), reasons(&from_table));
    let file_rejects = table_representable_rejects(Path::new(from_file["rejects_file"].as_str().unwrap()));
    let table_rejects =
        table_representable_rejects(&dir.path().join(from_table["rejects_file"].as_str().unwrap()));
    assert!(!file_rejects.is_empty());
    assert_eq!(
        file_rejects, table_rejects,
        "the same rows, by record and key, for the same reasons"
    );
}

#[test]
fn the_servers_own_column_types_read_as_the_files_text_in_any_column_order() {
    let _db = db_lock();
    let dir = temp_dir();
    let input = generate_imported(dir.path(), "typed.csv", 800, 83, 0.0);
    // A table as production has it: flags TINYINT, numbers INT and DOUBLE,
    // JSON columns JSON, columns in another order, NULL for missing values.
    script(
        &["sql"],
        Some(
            "DROP TABLE IF EXISTS typed_profile;
             CREATE TABLE typed_profile AS SELECT * FROM impact_learners_profile;
             ALTER TABLE typed_profile DROP COLUMN row_id;
             UPDATE typed_profile SET is_placed = NULL WHERE is_placed NOT REGEXP '^-?[0-9]+([.][0-9]+)?$';
             UPDATE typed_profile SET is_featured = NULL WHERE is_featured NOT REGEXP '^-?[0-9]+([.][0-9]+)?$';
             UPDATE typed_profile SET rnk = NULL WHERE rnk NOT REGEXP '^-?[0-9]+([.][0-9]+)?$';
             UPDATE typed_profile SET is_placed = ROUND(is_placed), is_featured = ROUND(is_featured), rnk = ROUND(rnk);
             ALTER TABLE typed_profile MODIFY is_placed TINYINT NULL, MODIFY is_featured TINYINT NULL,
               MODIFY rnk INT, MODIFY placement_details JSON,
               MODIFY hashed_email VARCHAR(64) FIRST, MODIFY snapshot_id INT AFTER hashed_email;",
        ),
    );
    let from_file = check_json(dir.path(), &input, &[]);
    let from_table = check_table(dir.path(), Some("typed_profile"));
    for key in [
        "rows_read",
        "rows_loaded",
        "rows_rejected",
        "nodes",
        "relationships",
    ] {
        assert_eq!(from_file[key], from_table[key], "{key} differs");
    }
    // The same findings, but for the flags written `0.0` / `1.0` in the
    // file: a TINYINT column holds them as 0 / 1, so the table has fewer.
    let mut file_findings = from_file["findings"].as_object().unwrap().clone();
    let mut table_findings = from_table["findings"].as_object().unwrap().clone();
    let decimal_flags = (
        file_findings
            .remove("flag_as_decimal")
            .and_then(|v| v.as_u64())
            .unwrap_or(0),
        table_findings
            .remove("flag_as_decimal")
            .and_then(|v| v.as_u64())
            .unwrap_or(0),
    );
    assert!(decimal_flags.1 < decimal_flags.0, "{decimal_flags:?}");
    assert_eq!(file_findings, table_findings);
}

#[test]
fn a_killed_load_from_the_table_resumes_from_its_spool_and_ignores_later_table_writes() {
    let _db = db_lock();
    let dir = temp_dir();
    let input = generate_imported(dir.path(), "resume.csv", 12_000, 84, 0.0);
    run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let args = [
        "load",
        "--source",
        &source(None),
        "--batch-size",
        "500",
        "--checkpoint-interval",
        "500",
    ];
    let mut child = db_command(dir.path(), &args)
        .env("MYSQL_PASSWORD", mysql_password())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("runs");
    // Killed once phase 2 has checkpointed some rows.
    let spool = dir
        .path()
        .join("127.0.0.1_13306.learners.impact_learners_profile.spool.csv");
    let checkpoint = dir
        .path()
        .join("127.0.0.1_13306.learners.impact_learners_profile.spool.csv.checkpoint.json");
    let started = std::time::Instant::now();
    while !checkpoint.exists() {
        assert!(started.elapsed().as_secs() < 120, "no checkpoint was written");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(spool.is_file(), "the spool is kept for the resume");

    // The table changes meanwhile: the resume must not see it.
    script(
        &["sql"],
        Some("DELETE FROM impact_learners_profile WHERE row_id % 2 = 0;"),
    );
    // A resume that names another table (its spool pointed at the
    // interrupted load's) is refused, naming the setting that differs.
    let config = dir.path().join("other-table.toml");
    std::fs::write(
        &config,
        format!("[source]\nspool_path = {:?}\n", spool.to_str().expect("utf-8")),
    )
    .expect("writes");
    let other = source(Some("another_table"));
    let refused = with_source(
        dir.path(),
        &[
            "load",
            "--source",
            &other,
            "--config",
            config.to_str().unwrap(),
            "--resume",
        ],
    );
    let text = log(&refused);
    assert_eq!(refused.status.code(), Some(18), "{text}");
    assert!(
        text.contains("source.uri was")
            && text.contains("?table=impact_learners_profile")
            && text.contains("another_table"),
        "the refusal names what differs: {text}"
    );
    let mut resume_args = args.to_vec();
    resume_args.extend(["--resume", "--json"]);
    let resumed = with_source_ok(dir.path(), &resume_args);
    let check = check_json(dir.path(), &input, &[]);
    assert_eq!(json(&resumed)["rows_read"], 12_000);
    assert_eq!(json(&resumed)["rows_accepted"], check["rows_loaded"]);
    // Exact counts against the rows the load read.
    let verify = run_db_ok(dir.path(), &["verify", spool.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
}

#[test]
fn each_connection_failure_has_its_own_exit_code_and_no_password_is_shown() {
    let _db = db_lock();
    let dir = temp_dir();
    generate_imported(dir.path(), "errors.csv", 50, 85, 0.0);
    let uri = source(None);
    let base = uri.split('?').next().unwrap().to_string();
    let port = base
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let check = |source: &str, password: &str| -> (Option<i32>, String) {
        let output = db_command(dir.path(), &["check", "--source", source])
            .env("MYSQL_PASSWORD", password)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let password = mysql_password();
    let unused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cases = [
        (
            uri.replace(&port, &unused.to_string()),
            password.clone(),
            24,
            "was refused: nothing listens there",
        ),
        (uri.clone(), "wrong-password-42".to_string(), 25, "refused user"),
        (
            uri.replace("/learners?", "/nosuchdb?"),
            password.clone(),
            26,
            "no database",
        ),
        (
            format!("{base}?table=nosuchtable"),
            password.clone(),
            27,
            "has no table",
        ),
    ];
    for (source, password, code, words) in cases {
        let (status, stderr) = check(&source, &password);
        assert_eq!(status, Some(code), "{source}: {stderr}");
        assert!(stderr.contains(words), "{source}: {stderr}");
        // The driver's words, never its Rust types.
        for internal in ["DriverError", "MySqlError", "IoError", "{ "] {
            assert!(!stderr.contains(internal), "{source}: {stderr}");
        }
        assert!(
            !stderr.contains(&mysql_password()),
            "the password shows in: {stderr}"
        );
        assert!(
            !stderr.contains("wrong-password-42"),
            "the password shows in: {stderr}"
        );
    }
    script(
        &["sql"],
        Some(
            "DROP TABLE IF EXISTS lacking; CREATE TABLE lacking AS SELECT * FROM impact_learners_profile;
             ALTER TABLE lacking DROP COLUMN bio;",
        ),
    );
    let (status, stderr) = check(&format!("{base}?table=lacking"), &password);
    assert_eq!(status, Some(13), "{stderr}");
    assert!(stderr.contains("\"bio\""), "{stderr}");
}

#[test]
fn tls_to_the_mysql_server_required_and_verified_against_a_ca_file() {
    let work = temp_dir();
    let certs = work.path().join("certs");
    std::fs::create_dir(&certs).expect("mkdir");
    let (ca, _) = common::make_certificates(&certs);
    // A second server of its own, offering TLS.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tls_server = |args: &[&str]| {
        Command::new("bash")
            .arg(root.join("scripts/local-mysql"))
            .args(args)
            .env("LEARNGRAPH_MYSQL_DIR", work.path().join("mysql"))
            .env("LEARNGRAPH_MYSQL_PORT", "13316")
            .env("LEARNGRAPH_MYSQL_TLS_DIR", &certs)
            .output()
            .expect("local-mysql runs")
    };
    struct Stop<'a>(&'a dyn Fn(&[&str]) -> Output);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            (self.0)(&["stop"]);
        }
    }
    let started = tls_server(&["start"]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let _stop = Stop(&tls_server);
    let input = generate(work.path(), "tls.csv", 200, 86, 0.0);
    let imported = tls_server(&["import", input.to_str().unwrap()]);
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let password = std::fs::read_to_string(work.path().join("mysql/password")).unwrap();
    let base = "mysql://learngraph@127.0.0.1:13316/learners?table=impact_learners_profile";
    let check = |source: &str| {
        db_command(work.path(), &["check", "--source", source, "--json"])
            .env("MYSQL_PASSWORD", password.trim())
            .output()
            .expect("runs")
    };
    let required = assert_success(
        &["check", "ssl-mode=required"],
        check(&format!("{base}&ssl-mode=required")),
    );
    assert_eq!(json(&required)["rows_read"], 200);
    let verified = assert_success(
        &["check", "ssl-mode=verify_identity"],
        check(&format!(
            "{base}&ssl-mode=verify_identity&ssl-ca={}",
            ca.display()
        )),
    );
    assert_eq!(json(&verified)["rows_read"], 200);
    // Verified against the system's roots, which do not know the CA.
    let refused = check(&format!("{base}&ssl-mode=verify_ca"));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(24), "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
}

/// The stderr of a run, for what its log says.
fn log(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_resume_after_a_finished_table_load_reads_todays_table_not_the_old_spool() {
    let _db = db_lock();
    let dir = temp_dir();
    run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let spool = dir
        .path()
        .join("127.0.0.1_13306.learners.impact_learners_profile.spool.csv");
    let uri = source(None);

    // Day 1: a load that finishes; a cron job that always resumes.
    generate_imported(dir.path(), "day1.csv", 1_000, 86, 0.0);
    let day1 = with_source_ok(dir.path(), &["load", "--resume", "--source", &uri, "--json"]);
    assert_eq!(json(&day1)["snapshot_date"], "2025-09-30");

    // Day 2: the table holds the next snapshot. The resume has nothing to
    // continue: it reads today's table, not day 1's spool.
    let (day2, report) = common::generate_follow_up(dir.path(), "day2.csv", 1_000, 86);
    script(&["import", day2.to_str().unwrap()], None);
    let resumed = with_source_ok(dir.path(), &["load", "--resume", "--source", &uri, "--json"]);
    let summary = json(&resumed);
    assert!(
        !log(&resumed).contains("Resuming the interrupted load"),
        "{}",
        log(&resumed)
    );
    assert!(
        log(&resumed).contains("reading the table afresh"),
        "{}",
        log(&resumed)
    );
    assert_eq!(summary["snapshot_date"], "2025-12-31", "{summary}");
    assert_eq!(summary["rows_read"], report.rows_written, "{summary}");
    assert_eq!(summary["learners_written"], report.learners_joining, "{summary}");
    assert_eq!(
        summary["learners_marked_missing"], report.learners_leaving,
        "{summary}"
    );
    let verify = with_source_ok(dir.path(), &["verify", "--source", &uri]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));

    // Day 3: the table changes again, and today's first read fails
    // partway: what it leaves is a partial spool (a fresh read removes the
    // old one first) beside day 2's finished checkpoint.
    script(
        &["sql"],
        Some("DELETE FROM impact_learners_profile WHERE row_id % 25 = 0;"),
    );
    let partial = dir
        .path()
        .join("127.0.0.1_13306.learners.impact_learners_profile.spool.csv.partial");
    let day2_bytes = std::fs::read(&spool).expect("day 2's spool");
    std::fs::write(&partial, &day2_bytes[..day2_bytes.len() / 2]).expect("writes");
    std::fs::remove_file(&spool).expect("removes");
    let resumed = with_source_ok(dir.path(), &["load", "--resume", "--source", &uri, "--json"]);
    let summary = json(&resumed);
    let rows_now = text(&script(
        &["sql"],
        Some("SELECT COUNT(*) FROM impact_learners_profile;"),
    ))
    .lines()
    .last()
    .expect("a count")
    .trim()
    .parse::<u64>()
    .expect("a number");
    assert_eq!(summary["rows_read"], rows_now, "{summary}");
    assert_eq!(
        summary["learners_marked_missing"].as_u64(),
        Some(report.rows_written - rows_now),
        "{summary}"
    );
    assert!(!partial.exists(), "the partial spool was replaced");
    let verify = with_source_ok(dir.path(), &["verify", "--source", &uri]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
}

#[test]
fn a_trial_load_of_a_larger_table_reads_its_first_rows_then_the_full_load_the_rest() {
    let _db = db_lock();
    let dir = temp_dir();
    run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    // An old spool at the same path must not be taken for this table.
    generate(dir.path(), "old.csv", 40, 3, 0.0);
    std::fs::copy(
        dir.path().join("old.csv"),
        dir.path()
            .join("127.0.0.1_13306.learners.impact_learners_profile.spool.csv"),
    )
    .expect("copies");
    generate_imported(dir.path(), "table.csv", 3_000, 87, 0.0);
    let uri = source(None);
    let trial = json(&with_source_ok(
        dir.path(),
        &["load", "--max-rows", "300", "--source", &uri, "--json"],
    ));
    assert_eq!(trial["trial_max_rows"], 300, "{trial}");
    assert_eq!(trial["rows_read"], 300, "{trial}");
    let trial_learners = trial["rows_accepted"].as_u64().expect("rows");
    assert_eq!(
        trial["learners_written"].as_u64(),
        Some(trial_learners),
        "{trial}"
    );

    let full = json(&with_source_ok(dir.path(), &["load", "--source", &uri, "--json"]));
    assert_eq!(full["rows_read"], 3_000, "{full}");
    assert_eq!(
        full["learners_unchanged"].as_u64(),
        Some(trial_learners),
        "{full}"
    );
    assert_eq!(full["learners_marked_missing"], 0, "{full}");
    let verify = with_source_ok(dir.path(), &["verify", "--source", &uri]);
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
}

/// A TOML file setting the MySQL deadlines to `seconds`.
fn short_deadlines(dir: &Path, seconds: u64) -> PathBuf {
    let path = dir.join("deadlines.toml");
    std::fs::write(
        &path,
        format!("[source]\nconnect_timeout_seconds = {seconds}\nread_timeout_seconds = {seconds}\n"),
    )
    .expect("writes");
    path
}

#[test]
fn a_mysql_server_that_accepts_and_never_answers_fails_at_the_connect_deadline() {
    let port = common::silent_server();
    let dir = temp_dir();
    let toml = short_deadlines(dir.path(), 2);
    let uri = format!("mysql://reader@127.0.0.1:{port}/learners?table=impact_learners_profile");
    for command in ["check", "load"] {
        let started = std::time::Instant::now();
        let output = db_command(
            dir.path(),
            &[command, "--source", &uri, "-c", toml.to_str().unwrap()],
        )
        .env("MYSQL_PASSWORD", "not-needed")
        .output()
        .expect("runs");
        let elapsed = started.elapsed();
        assert_eq!(output.status.code(), Some(24), "{}", log(&output));
        assert!(
            log(&output).contains("did not answer within 2 s (source.connect_timeout_seconds)"),
            "{}",
            log(&output)
        );
        // Not a speed claim: without a deadline this never returned.
        assert!(elapsed < std::time::Duration::from_secs(60), "took {elapsed:?}");
    }
}

/// A TCP proxy to the MySQL server that forwards the server's first
/// `limit` bytes and then goes silent in both directions, holding the
/// connection open: a stalled server, or a flow a firewall dropped.
fn stalling_proxy(upstream: std::net::SocketAddr, limit: usize) -> u16 {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let server = std::net::TcpStream::connect(upstream).expect("upstream");
            let (mut client_read, mut server_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut client_read, &mut server_write);
            });
            let (mut server_read, mut client_write) = (server, client);
            std::thread::spawn(move || {
                let mut forwarded = 0;
                let mut buffer = [0u8; 8192];
                while let Ok(n) = server_read.read(&mut buffer) {
                    if n == 0 || forwarded + n > limit {
                        break;
                    }
                    if client_write.write_all(&buffer[..n]).is_err() {
                        return;
                    }
                    forwarded += n;
                }
                // Silent from here on, the connection held open.
                std::thread::sleep(std::time::Duration::from_secs(120));
                drop((server_read, client_write));
            });
        }
    });
    port
}

#[test]
fn a_table_read_that_stalls_midway_fails_at_the_read_deadline() {
    let _db = db_lock();
    let dir = temp_dir();
    generate_imported(dir.path(), "stall.csv", 2_000, 88, 0.0);
    let uri = source(None);
    // host:port of the local server, from its URI.
    let authority = uri["mysql://".len()..].split('/').next().unwrap();
    let address: std::net::SocketAddr = authority
        .rsplit('@')
        .next()
        .unwrap()
        .replace("localhost", "127.0.0.1")
        .parse()
        .expect("an address");
    let port = stalling_proxy(address, 200_000);
    let proxied = uri.replace(&address.port().to_string(), &port.to_string());
    let toml = short_deadlines(dir.path(), 2);
    let output = with_source(
        dir.path(),
        &["check", "--source", &proxied, "-c", toml.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(24), "{}", log(&output));
    assert!(
        log(&output).contains("said nothing for 2 s (source.read_timeout_seconds)"),
        "{}",
        log(&output)
    );
}

#[test]
fn a_second_server_on_a_taken_port_says_so_at_once() {
    let work = temp_dir();
    // Something else holds the port: a plain listener.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("address").port().to_string();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .arg(root.join("scripts/local-mysql"))
        .arg("start")
        .env("LEARNGRAPH_MYSQL_DIR", work.path().join("mysql"))
        .env("LEARNGRAPH_MYSQL_PORT", &port)
        .output()
        .expect("local-mysql runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} is taken by another process"))
            && stderr.contains("LEARNGRAPH_MYSQL_PORT"),
        "{stderr}"
    );
    // Said before anything was made or started, not after the 60 s wait
    // for a server that could never bind.
    assert!(!work.path().join("mysql").exists(), "no server was set up");
}
