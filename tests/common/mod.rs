//! Fixtures shared by the integration tests: running the real binary in a
//! temporary folder and generating input files with it.
#![allow(dead_code)]

pub mod model;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

use learngraph::generate::snapshots::{ChangeReport, report_path};
use learngraph::graph::records::{EntityCollector, LearnerRecord};
use learngraph::source::reader::{ChunkReader, for_each_record};
use learngraph::transform::quality::Findings;
use learngraph::transform::{TransformOptions, Transformer, decode};

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

/// Fails the test, showing the command's output, unless it succeeded.
pub fn assert_success(args: &[&str], output: Output) -> Output {
    assert!(
        output.status.success(),
        "learngraph {args:?} failed with {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs the binary and fails the test, showing its output, unless it succeeds.
pub fn run_ok(dir: &Path, args: &[&str]) -> Output {
    assert_success(args, run_in(dir, args))
}

/// Runs `generate --rows rows --seed seed --out out` with `extra` flags;
/// fails the test unless it succeeds.
fn run_generate(dir: &Path, rows: u64, seed: u64, out: &Path, extra: &[&str]) {
    let (rows, seed) = (rows.to_string(), seed.to_string());
    let mut args = vec![
        "generate",
        "--rows",
        &rows,
        "--seed",
        &seed,
        "--out",
        out.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    run_ok(dir, &args);
}

/// Generates `rows` rows with `seed` (and `--dirty dirty` when non-zero)
/// into `dir/name` and returns the path.
pub fn generate(dir: &Path, name: &str, rows: u64, seed: u64, dirty: f64) -> PathBuf {
    let out = dir.join(name);
    run_generate(dir, rows, seed, &out, &["--dirty", &dirty.to_string()]);
    out
}

/// Writes the follow-up snapshot of the file `rows` and `seed` make into
/// `dir/name`; returns its path and the generator's change report.
pub fn generate_follow_up(dir: &Path, name: &str, rows: u64, seed: u64) -> (PathBuf, ChangeReport) {
    let out = dir.join(name);
    run_generate(dir, rows, seed, &out, &["--follow-up"]);
    let report = std::fs::read(report_path(&out)).expect("the change report exists");
    let report = serde_json::from_slice(&report).expect("the change report parses");
    (out, report)
}

/// Writes `count` successive snapshots of the population `rows` and `seed`
/// make (`generate --snapshots`, with `--dirty dirty`) into `dir/folder`;
/// returns the path of each, `snapshot-1.csv` first.
pub fn generate_snapshots(
    dir: &Path,
    folder: &str,
    rows: u64,
    seed: u64,
    count: usize,
    dirty: f64,
) -> Vec<PathBuf> {
    let out = dir.join(folder);
    run_generate(
        dir,
        rows,
        seed,
        &out,
        &["--snapshots", &count.to_string(), "--dirty", &dirty.to_string()],
    );
    (1..=count)
        .map(|n| out.join(format!("snapshot-{n}.csv")))
        .collect()
}

/// A command's standard output as JSON.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The `n` of a query that returns one row.
pub async fn count(graph: &neo4rs::Graph, statement: &str) -> i64 {
    let mut stream = graph.execute(neo4rs::query(statement)).await.expect("query runs");
    let row = stream.next().await.expect("reads").expect("a row");
    row.get::<i64>("n").expect("n")
}

/// A TOML configuration in `dir` whose `neo4j.password_file` holds
/// `password`; returns the TOML file.
pub fn toml_with_password_file(dir: &Path, password: &str) -> PathBuf {
    let password_file = dir.join("password-from-toml.txt");
    std::fs::write(&password_file, format!("{password}\n")).expect("write the password file");
    let toml = dir.join("learngraph.toml");
    std::fs::write(
        &toml,
        format!(
            "[neo4j]\npassword_file = {:?}\n",
            password_file.display().to_string()
        ),
    )
    .expect("write the configuration");
    toml
}

/// A fresh temporary folder, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary folder")
}

/// The labels of the analysts' model (docs/graph.md), without the load's
/// own records.
pub const LABELS: [&str; 9] = [
    "Learner",
    "Country",
    "City",
    "Skill",
    "Program",
    "Company",
    "Institution",
    "LearningState",
    "ProfessionalStatus",
];

/// The relationship types of the model written by default (docs/graph.md;
/// RESIDES_IN and FROM_COUNTRY are off unless configured).
pub const TYPES: [&str; 8] = [
    "HAS_SKILL",
    "ENROLLED_IN",
    "WORKS_FOR",
    "RUNS_VENTURE",
    "STUDIED_AT",
    "HAS_LEARNING_STATE",
    "HAS_PROFESSIONAL_STATUS",
    "IN_COUNTRY",
];

/// The local test database, as scripts/test exports it.
pub struct TestDb {
    pub uri: String,
    pub password: String,
    /// `root` and `learners` on the local servers; another server's with
    /// LEARNGRAPH_TEST_USER and LEARNGRAPH_TEST_DATABASE.
    pub user: String,
    pub database: String,
}

/// The database the end-to-end tests use. They need it: without it they
/// fail with a message saying how to start it, rather than pass unchecked.
pub fn test_db() -> TestDb {
    let uri = std::env::var("LEARNGRAPH_TEST_URI").expect(
        "LEARNGRAPH_TEST_URI is not set: run the tests with scripts/test, which starts the local database",
    );
    let file = std::env::var("LEARNGRAPH_TEST_PASSWORD_FILE").expect("LEARNGRAPH_TEST_PASSWORD_FILE is set");
    let password = std::fs::read_to_string(file)
        .expect("password file")
        .trim()
        .to_string();
    let user = std::env::var("LEARNGRAPH_TEST_USER").unwrap_or_else(|_| "root".to_string());
    let database = std::env::var("LEARNGRAPH_TEST_DATABASE").unwrap_or_else(|_| "learners".to_string());
    TestDb {
        uri,
        password,
        user,
        database,
    }
}

/// The binary with `args`, set up for the test database (credentials in
/// its environment, never on its command line).
pub fn db_command(dir: &Path, args: &[&str]) -> Command {
    let db = test_db();
    let mut command = Command::new(binary());
    command
        .args(args)
        .current_dir(dir)
        .env("NEO4J_URI", &db.uri)
        .env("NEO4J_USERNAME", &db.user)
        .env("NEO4J_PASSWORD", &db.password)
        .env("NEO4J_DATABASE", &db.database)
        .env("RUST_BACKTRACE", "0");
    command
}

/// Runs the binary against the test database.
pub fn run_db(dir: &Path, args: &[&str]) -> Output {
    db_command(dir, args)
        .output()
        .expect("the learngraph binary runs")
}

/// A driver connection to the test database, for reading the graph back.
pub async fn test_graph() -> neo4rs::Graph {
    let db = test_db();
    let config = neo4rs::ConfigBuilder::default()
        .uri(db.uri.as_str())
        .user(db.user.as_str())
        .password(db.password.as_str())
        .db(db.database.as_str())
        .build()
        .expect("config");
    neo4rs::Graph::connect(config)
        .await
        .expect("connects to the test database")
}

/// [`run_db`], failing the test unless the command succeeds.
pub fn run_db_ok(dir: &Path, args: &[&str]) -> Output {
    assert_success(args, run_db(dir, args))
}

/// Rewrites a finished load's checkpoint as an interrupted load's.
pub fn mark_interrupted(checkpoint: &Path) {
    let text = std::fs::read_to_string(checkpoint).expect("a checkpoint");
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(json["complete"], true, "{text}");
    json["complete"] = serde_json::Value::Bool(false);
    std::fs::write(checkpoint, serde_json::to_vec_pretty(&json).expect("json")).expect("writes");
}

/// A server on a free local port that accepts every connection and holds
/// it open without a byte of answer; returns the port.
pub fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("an address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// Serializes the tests that share the one test database.
pub fn db_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Every accepted record of a file, transformed by the library.
pub fn records(path: &Path) -> Vec<LearnerRecord> {
    records_and_programs(path).0
}

/// Every accepted record of a file, and the programs the file names
/// (cohort code -> program name).
pub fn records_and_programs(path: &Path) -> (Vec<LearnerRecord>, HashMap<String, Option<String>>) {
    let transformer = Transformer::new(TransformOptions::default());
    let mut reader = ChunkReader::open(path, 1_000).expect("opens");
    reader.header().expect("header");
    let mut out = Vec::new();
    let mut programs = HashMap::new();
    while let Some(chunk) = reader.next_chunk().expect("reads") {
        for_each_record(&chunk, |raw, _| {
            let mut findings = Findings::default();
            let mut entities = EntityCollector::default();
            if let Ok(fields) = decode(raw)
                && let Ok(record) = transformer.transform(&fields, &mut findings, &mut entities)
            {
                out.push(record);
                for (cohort, name) in entities.take().programs {
                    programs.entry(cohort).or_insert(name);
                }
            }
        });
    }
    (out, programs)
}

/// `check --json` of `input` with `extra` flags; fails the test unless it succeeds.
pub fn check_json(dir: &Path, input: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["check", input.to_str().expect("utf-8"), "--json"];
    args.extend_from_slice(extra);
    json(&run_ok(dir, &args))
}

/// The position of a column of the input contract.
pub fn column(name: &str) -> usize {
    learngraph::source::columns::COLUMNS
        .iter()
        .position(|c| *c == name)
        .expect("a contract column")
}

/// The Learner properties only `load` writes (docs/graph.md, "What
/// learngraph adds to the model"): an offline import has none of them.
pub const LOAD_MARKS: [&str; 5] = [
    "firstSnapshot",
    "changedBySnapshot",
    "priorSourceHash",
    "priorChangedBySnapshot",
    "priorSnapshotId",
];

/// A file's data rows (their fields) by key.
pub type RowsByKey = std::collections::HashMap<Vec<u8>, Vec<Vec<u8>>>;

/// Every data row of a file by its key (the first row of each key).
pub fn rows_by_key(path: &Path) -> RowsByKey {
    let key = column("hashed_email");
    let mut rows = std::collections::HashMap::new();
    rewrite(path, &path.with_extension("copy"), |_, fields| {
        rows.entry(fields[key].clone()).or_insert_with(|| fields.clone());
        true
    });
    rows
}

/// Copies a CSV file record by record; `edit` may change a data record's
/// fields (numbered from 0, the header is copied as it is) and returns
/// whether to keep it. Records of another length than the header's (a
/// damaged row) are copied as they are read.
pub fn rewrite(from: &Path, to: &Path, mut edit: impl FnMut(usize, &mut Vec<Vec<u8>>) -> bool) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(from)
        .expect("opens");
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_path(to)
        .expect("creates");
    let mut record = csv::ByteRecord::new();
    let mut index = 0;
    while reader.read_byte_record(&mut record).expect("reads") {
        let mut fields: Vec<Vec<u8>> = record.iter().map(<[u8]>::to_vec).collect();
        if index == 0 || edit(index - 1, &mut fields) {
            writer.write_record(&fields).expect("writes");
        }
        index += 1;
    }
    writer.flush().expect("flushes");
}

/// Which local server the end-to-end tests run against (`neo4j` or
/// `arcadedb`), as scripts/test exports it; Neo4j unless told otherwise.
pub fn test_server() -> String {
    std::env::var("LEARNGRAPH_TEST_SERVER").unwrap_or_else(|_| "neo4j".to_string())
}

/// Whether the tests run against Neo4j (the servers differ where a test
/// configures the server itself: TLS, memory limits).
pub fn on_neo4j() -> bool {
    test_server() == "neo4j"
}

/// A second local server of the tests' kind on its own ports (`bolt_port`,
/// and `bolt_port - 5207` for HTTP) and folder, with extra settings: JVM
/// options for ArcadeDB, neo4j.conf lines for Neo4j. Stopped when dropped.
pub struct FreshServer {
    pub dir: PathBuf,
    bolt_port: u16,
    server: String,
    java_opts: String,
    neo4j_conf: String,
}

impl FreshServer {
    /// A server of the tests' kind with no extra settings.
    pub fn new(dir: PathBuf, bolt_port: u16) -> Self {
        FreshServer {
            dir,
            bolt_port,
            server: test_server(),
            java_opts: String::new(),
            neo4j_conf: String::new(),
        }
    }

    /// The same, configured for each kind of server: `arcadedb_java_opts`
    /// when the tests run on ArcadeDB, `neo4j_conf` lines on Neo4j.
    pub fn configured(
        dir: PathBuf,
        bolt_port: u16,
        arcadedb_java_opts: &[String],
        neo4j_conf: &[String],
    ) -> Self {
        let mut server = FreshServer::new(dir, bolt_port);
        server.java_opts = arcadedb_java_opts.join(" ");
        server.neo4j_conf = neo4j_conf.join("\n");
        server
    }

    /// Runs `scripts/local-db ACTION` for this server.
    pub fn script(&self, action: &str) -> Output {
        self.script_with(&[action])
    }

    /// Runs `scripts/local-db ARGS...` for this server.
    pub fn script_with(&self, args: &[&str]) -> Output {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        // The servers' jars are installed once per project: reuse them.
        let package = std::env::var("LEARNGRAPH_DB_PKG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join(".local-db/pkg"));
        Command::new("bash")
            .arg(root.join("scripts/local-db"))
            .args(args)
            .env("LEARNGRAPH_DB_SERVER", &self.server)
            .env("LEARNGRAPH_DB_DIR", &self.dir)
            .env("LEARNGRAPH_DB_PKG_DIR", package)
            .env("LEARNGRAPH_BOLT_PORT", self.bolt_port.to_string())
            .env("LEARNGRAPH_HTTP_PORT", (self.bolt_port - 5207).to_string())
            .env("LEARNGRAPH_DB_HEAP", "1g")
            .env("LEARNGRAPH_DB_PAGECACHE", "256m")
            .env("LEARNGRAPH_DB_JAVA_OPTS", &self.java_opts)
            .env("LEARNGRAPH_NEO4J_CONF", &self.neo4j_conf)
            .output()
            .expect("local-db runs")
    }

    /// Starts the server, failing the test with the script's output if it
    /// does not start.
    pub fn start(&self) {
        let started = self.script("start");
        assert!(
            started.status.success(),
            "the local server did not start: {}{}",
            String::from_utf8_lossy(&started.stdout),
            String::from_utf8_lossy(&started.stderr)
        );
    }

    pub fn password_file(&self) -> PathBuf {
        self.dir.join("password")
    }

    pub fn uri(&self) -> String {
        format!("bolt://127.0.0.1:{}", self.bolt_port)
    }

    /// Runs the binary with `args` in `dir` against this server (its URI,
    /// unless `args` names another with `--uri`; its password file).
    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(binary())
            .args(args)
            .arg("--password-file")
            .arg(self.password_file())
            .current_dir(dir)
            .env("NEO4J_URI", self.uri())
            .env("NEO4J_USERNAME", "root")
            .env("NEO4J_DATABASE", "learners")
            .env_remove("NEO4J_PASSWORD")
            .output()
            .expect("the learngraph binary runs")
    }
}

impl Drop for FreshServer {
    fn drop(&mut self) {
        let _ = self.script("stop");
    }
}

/// A private CA and a server certificate for localhost and 127.0.0.1 it
/// signed, as the server takes it (a PKCS#12 key store). Returns the CA's
/// PEM file and the key store.
pub fn make_certificates(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (Debian's openssl package)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "30",
        "-subj",
        "/CN=learngraph test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "30",
        "-extfile",
        "server.ext",
    ]);
    openssl(&[
        "pkcs12",
        "-export",
        "-in",
        "server.pem",
        "-inkey",
        "server.key",
        "-certfile",
        "ca.pem",
        "-out",
        "server.p12",
        "-passout",
        "pass:test-store",
        "-name",
        "server",
    ]);
    (dir.join("ca.pem"), dir.join("server.p12"))
}

/// A running load whose log is read as it comes: `wait_for` blocks until a
/// line holds the text, so the test acts on an event, not on a guess of how
/// long a step takes.
pub struct Running {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Running {
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the load starts");
        let stderr = child.stderr.take().expect("stderr");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            log: Vec::new(),
        }
    }

    /// Waits for the first line that holds `text`, and returns it.
    pub fn wait_for(&mut self, text: &str) -> String {
        self.wait_for_any(&[text])
    }

    /// Waits for the first line that holds any of `texts`, and returns it.
    pub fn wait_for_any(&mut self, texts: &[&str]) -> String {
        for line in self.lines.iter() {
            let found = texts.iter().any(|t| line.contains(t));
            self.log.push(line.clone());
            if found {
                return line;
            }
        }
        panic!(
            "the load ended before logging any of {texts:?}:\n{}",
            self.log.join("\n")
        );
    }

    pub fn finish(mut self) -> (Option<i32>, String) {
        let status = self.child.wait().expect("the load ends");
        self.log.extend(self.lines.iter());
        (status.code(), self.log.join("\n"))
    }
}

/// Every label and relationship type count, and the first learners by key
/// with every property and every relationship (type, properties, target),
/// as sorted text: equal graphs give equal values. `learners_limit` takes
/// the first learners only; `leave_out` names properties (run marks) left
/// out of the comparison.
pub async fn graph_picture(
    learners_limit: Option<usize>,
    leave_out: &[&str],
) -> (BTreeMap<String, i64>, Vec<String>) {
    let graph = test_graph().await;
    let mut counts = BTreeMap::new();
    for (statement, prefix) in [
        (
            "MATCH (n) UNWIND labels(n) AS k RETURN k, count(*) AS n",
            "label ",
        ),
        ("MATCH ()-[r]->() RETURN type(r) AS k, count(*) AS n", "type "),
    ] {
        let mut rows = graph.execute(neo4rs::query(statement)).await.expect("counts");
        while let Some(row) = rows.next().await.expect("reads") {
            let k: String = row.get("k").expect("k");
            if k != "LoadRun" {
                counts.insert(format!("{prefix}{k}"), row.get::<i64>("n").expect("n"));
            }
        }
    }
    let mut learners = Vec::new();
    let mut rows = graph
        .execute(
            neo4rs::query(
                "MATCH (l:Learner) WITH l ORDER BY l.hashedEmail LIMIT $limit \
                 OPTIONAL MATCH (l)-[r]->(t) RETURN l, r, t ORDER BY l.hashedEmail",
            )
            .param("limit", learners_limit.map_or(i64::MAX, |n| n as i64)),
        )
        .await
        .expect("sample");
    let mut by_learner: BTreeMap<String, Vec<String>> = BTreeMap::new();
    while let Some(row) = rows.next().await.expect("reads") {
        let node: neo4rs::Node = row.get("l").expect("l");
        let key: String = node.get("hashedEmail").expect("key");
        let entry = by_learner
            .entry(key)
            .or_insert_with(|| vec![properties_of(&node.keys(), leave_out, |k| node.get(k))]);
        if let (Ok(rel), Ok(target)) = (row.get::<neo4rs::Relation>("r"), row.get::<neo4rs::Node>("t")) {
            entry.push(format!(
                "{} {} -> {:?} {}",
                rel.typ(),
                properties_of(&rel.keys(), leave_out, |k| rel.get(k)),
                target.labels(),
                properties_of(&target.keys(), leave_out, |k| target.get(k)),
            ));
        }
    }
    for (key, mut parts) in by_learner {
        let node = parts.remove(0);
        parts.sort();
        learners.push(format!("{key} {node} [{}]", parts.join("; ")));
    }
    (counts, learners)
}

fn properties_of<E: std::fmt::Debug>(
    keys: &[&str],
    leave_out: &[&str],
    get: impl Fn(&str) -> Result<neo4rs::BoltType, E>,
) -> String {
    let mut pairs: Vec<String> = keys
        .iter()
        .filter(|k| !leave_out.contains(k))
        .map(|k| format!("{k}={:?}", get(k).expect("property")))
        .collect();
    pairs.sort();
    pairs.join(",")
}

/// `n` as the human output writes it, digits grouped by threes with
/// commas (written here, not taken from the code under test).
pub fn with_commas(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Records that the graph gave `code` to the model's country `name`
/// (`codes` by name, `names` by code); an error when a code is given to
/// two countries or a country has two codes.
pub fn learn_country_code(
    codes: &mut BTreeMap<String, String>,
    names: &mut BTreeMap<String, String>,
    code: &str,
    name: &str,
) -> Result<(), String> {
    let known_name = names.entry(code.to_string()).or_insert_with(|| name.to_string());
    let known_code = codes.entry(name.to_string()).or_insert_with(|| code.to_string());
    if known_name != name || known_code != code {
        return Err(format!(
            "country codes are not one per country: {code} is given to {known_name} and {name}, or {name} has {known_code} and {code}"
        ));
    }
    Ok(())
}

/// Sends `signal` (STOP, CONT, INT, ...) to a child process.
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal}");
}
