//! End-to-end: `learngraph mcp` through a client no one here wrote, the
//! official Python MCP SDK (`tests/fixtures/mcp_client.py`; scripts/test
//! installs it into a virtual environment and names its interpreter in
//! LEARNGRAPH_TEST_MCP_PYTHON), against a graph loaded from a generated
//! file.
//!
//! - Every question through MCP answers as `ask --json` does; the schema
//!   tool's labels and types are the graph's; the history tool says what
//!   `history --json` says.
//! - Hostile calls: writes of every kind, `LOAD CSV`, a write procedure,
//!   two statements, a write behind a comment, a huge answer, a statement
//!   past its deadline, wrong parameter types, an unknown tool. Each is
//!   refused or bounded with a reason, the server answers the next call,
//!   and the graph's counts (read through a second driver) are unchanged.
//! - A second client, the MCP Inspector's command-line mode, lists the
//!   tools and calls one; on ArcadeDB too (scripts/test's compatibility
//!   set), where `read_cypher` is not offered.
//! - Over streamable HTTP: no token, a wrong token and a foreign `Origin`
//!   are refused; with the token a session answers as stdio does; an
//!   address other machines reach is refused without a token.
#![allow(clippy::await_holding_lock)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::Running;
use serde_json::{Value as Json, json};

fn python() -> String {
    std::env::var("LEARNGRAPH_TEST_MCP_PYTHON").expect(
        "LEARNGRAPH_TEST_MCP_PYTHON is not set: run the tests with scripts/test, which installs the Python MCP SDK",
    )
}

/// The command line that starts the server against the test database, as
/// a client spawns it: connection as flags, the password from a file (a
/// client passes the server only a bare environment).
fn server_command_line(dir: &Path) -> Vec<String> {
    let db = common::test_db();
    let password = dir.join("password");
    std::fs::write(&password, &db.password).expect("writes");
    let mut line = vec![common::binary().display().to_string()];
    line.extend(
        [
            "mcp",
            "--uri",
            &db.uri,
            "--user",
            &db.user,
            "--database",
            &db.database,
            "--password-file",
        ]
        .map(String::from),
    );
    line.push(password.display().to_string());
    line
}

/// Starts the server through the Python client, makes `calls`, and returns
/// what the client saw.
fn through_client(dir: &Path, extra: &[&str], calls: &Json) -> Json {
    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp_client.py");
    let mut command = Command::new(python());
    command
        .arg(client)
        .arg("--")
        .args(server_command_line(dir))
        .args(extra)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the Python client starts");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(calls.to_string().as_bytes())
            .expect("writes the calls");
    }
    let output = child.wait_with_output().expect("the client ends");
    assert!(
        output.status.success(),
        "the MCP client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the client printed no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The MCP Inspector's command-line mode (a second client no one here
/// wrote; scripts/test installs it, pinned, and names it in
/// LEARNGRAPH_TEST_MCP_INSPECTOR): one method against a server it starts
/// over stdio. Its JSON answer and what it said on stderr, once it exited
/// with `code` (5 when the tool answered an error).
fn inspector(dir: &Path, method: &[&str], code: i32) -> (Json, String) {
    let inspector = std::env::var("LEARNGRAPH_TEST_MCP_INSPECTOR").expect(
        "LEARNGRAPH_TEST_MCP_INSPECTOR is not set: run the tests with scripts/test, which installs the MCP Inspector",
    );
    let output = Command::new(inspector)
        .arg("--cli")
        .args(method)
        .arg("--")
        .args(server_command_line(dir))
        .current_dir(dir)
        // Its catalogue of servers, which it creates when missing: here,
        // not in the home folder.
        .env("MCP_CATALOG_PATH", dir.join("inspector-catalog.json"))
        .output()
        .expect("the MCP Inspector starts");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(code),
        "the MCP Inspector's exit:\n{stderr}"
    );
    let answer = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the Inspector printed no JSON ({e}):\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (answer, stderr)
}

/// A folder whose generated file of `rows` rows (`seed`) the test database
/// holds alone.
fn loaded(rows: u64, seed: u64) -> tempfile::TempDir {
    let dir = common::temp_dir();
    common::run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    common::generate(dir.path(), "data.csv", rows, seed, 0.0);
    common::run_db_ok(dir.path(), &["load", "data.csv"]);
    dir
}

/// The names of the tools a client listed, sorted.
fn listed(tools: &Json) -> Vec<String> {
    let mut names: Vec<String> = tools
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().expect("a name").to_string())
        .collect();
    names.sort();
    names
}

/// The tools the server offers for `ask --json`'s catalogue, sorted:
/// read_cypher only where the server says what a statement would do.
fn offered(catalogue: &Json) -> Vec<String> {
    let mut names: Vec<String> = catalogue
        .as_array()
        .expect("a list")
        .iter()
        .map(|q| q["name"].as_str().expect("a name"))
        .chain(["graph_schema", "load_history"])
        .chain(common::on_neo4j().then_some("read_cypher"))
        .map(String::from)
        .collect();
    names.sort();
    names
}

async fn graph_counts(graph: &neo4rs::Graph) -> (i64, i64) {
    (
        common::count(graph, "MATCH (n) RETURN count(n) AS n").await,
        common::count(graph, "MATCH ()-[r]->() RETURN count(r) AS n").await,
    )
}

async fn strings(graph: &neo4rs::Graph, statement: &str) -> Vec<String> {
    let mut rows = graph.execute(neo4rs::query(statement)).await.expect("runs");
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.expect("reads") {
        out.push(row.get::<String>("k").expect("k"));
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn every_question_answers_through_mcp_as_through_ask() {
    let _db = common::db_lock();
    let dir = loaded(3_000, 83);
    let graph = common::test_graph().await;
    let learner = strings(
        &graph,
        "MATCH (l:Learner) RETURN l.hashedEmail AS k ORDER BY k LIMIT 1",
    )
    .await[0]
        .clone();

    let catalogue = common::json(&common::run_db_ok(dir.path(), &["ask", "--json"]));
    let mut calls = Vec::new();
    let mut expected = Vec::new();
    for question in catalogue.as_array().expect("a list") {
        let name = question["name"].as_str().expect("a name");
        let needs_learner = question["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .any(|p| p["name"] == "learner" && p["default"].is_null());
        let (arguments, params) = if needs_learner {
            (
                json!({"learner": learner}),
                vec!["--param".to_string(), format!("learner={learner}")],
            )
        } else {
            (json!({}), Vec::new())
        };
        let mut args = vec!["ask", name, "--json"];
        args.extend(params.iter().map(String::as_str));
        expected.push(common::json(&common::run_db_ok(dir.path(), &args)));
        calls.push(json!({"tool": name, "arguments": arguments}));
    }
    calls.push(json!({"tool": "graph_schema"}));
    calls.push(json!({"tool": "load_history"}));
    let seen = through_client(dir.path(), &[], &Json::Array(calls));

    assert_eq!(seen["server"], "learngraph");
    assert_eq!(listed(&seen["tools"]), offered(&catalogue));

    let answers = seen["calls"].as_array().expect("calls");
    for (answer, expected) in answers.iter().zip(&expected) {
        assert_eq!(answer["error"], false, "{answer}");
        let structured = &answer["structured"];
        assert_eq!(structured["question"], expected["question"]);
        assert_eq!(structured["columns"], expected["columns"]);
        assert_eq!(structured["rows"], expected["rows"], "{}", expected["question"]);
        assert_eq!(structured["parameters"], expected["parameters"]);
    }

    // The schema tool's labels and types are the graph's, with its counts.
    let schema = &answers[expected.len()]["structured"];
    let graph_labels = strings(&graph, "CALL db.labels() YIELD label RETURN label AS k").await;
    for label in &graph_labels {
        if label == "LoadLock" {
            continue;
        }
        if ["LoadRun", "Snapshot"].contains(&label.as_str()) {
            let entry = schema["loadRecords"]
                .as_array()
                .expect("load records")
                .iter()
                .find(|l| l["label"] == label.as_str())
                .unwrap_or_else(|| panic!("{label} is not among the schema tool's load records: {schema}"));
            let count = common::count(&graph, &format!("MATCH (n:{label}) RETURN count(n) AS n")).await;
            assert_eq!(entry["count"], count, "{label}");
            continue;
        }
        let entry = schema["labels"]
            .as_array()
            .expect("labels")
            .iter()
            .find(|l| l["label"] == label.as_str())
            .unwrap_or_else(|| panic!("{label} is in the graph but not in the schema tool: {schema}"));
        let count = common::count(&graph, &format!("MATCH (n:{label}) RETURN count(n) AS n")).await;
        assert_eq!(entry["count"], count, "{label}");
    }
    for rel in strings(
        &graph,
        "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType AS k",
    )
    .await
    {
        let entry = schema["relationships"]
            .as_array()
            .expect("types")
            .iter()
            .find(|r| r["type"] == rel.as_str())
            .unwrap_or_else(|| panic!("{rel} is in the graph but not in the schema tool"));
        let count = common::count(&graph, &format!("MATCH ()-[r:{rel}]->() RETURN count(r) AS n")).await;
        assert_eq!(entry["count"], count, "{rel}");
    }
    assert!(
        schema["contract"]
            .as_str()
            .is_some_and(|c| c.contains("hashedEmail"))
    );

    let history = common::json(&common::run_db_ok(dir.path(), &["history", "--json"]));
    assert_eq!(answers[expected.len() + 1]["structured"], history);
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_calls_are_refused_or_bounded_and_change_nothing() {
    let _db = common::db_lock();
    let dir = loaded(2_000, 89);
    let graph = common::test_graph().await;
    let before = graph_counts(&graph).await;

    let refused = [
        "CREATE (x:Intruder) RETURN x",
        "MERGE (x:Intruder {id: 1}) RETURN x",
        "MATCH (l:Learner) SET l.fullName = 'x' RETURN count(l)",
        "MATCH (l:Learner) DETACH DELETE l",
        "MATCH (l:Learner) WITH l LIMIT 1 CALL (l) { CREATE (l)-[:OWNS]->(:Intruder) } RETURN 1",
        "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
        "CALL db.createLabel('Intruder')",
        "MATCH (n) RETURN count(n) AS n; MATCH (m) DETACH DELETE m",
        "MATCH (n) RETURN count(n) AS n /* a comment */ CREATE (:Intruder)",
        "// a comment\nCREATE (:Intruder)",
        "CALL dbms.listConfig() YIELD name RETURN name",
        "SHOW USERS",
        "MATCH (l:Learner) CALL (l) { SET l.x = 1 } IN TRANSACTIONS RETURN 1",
    ];
    let mut calls: Vec<Json> = Vec::new();
    for statement in refused {
        calls.push(json!({"tool": "read_cypher", "arguments": {"query": statement}}));
        calls.push(
            json!({"tool": "read_cypher", "arguments": {"query": "MATCH (l:Learner) RETURN count(l) AS n"}}),
        );
    }
    // A huge answer is cut at the limit and says so.
    calls.push(json!({"tool": "read_cypher", "arguments": {"query": "MATCH (a:Learner), (b:Learner) RETURN a.hashedEmail, b.hashedEmail", "limit": 50}}));
    // Huge values are cut by the answer's size (4 MiB) whatever the row
    // limit: 1,000 rows of 100 kB, and one row of 6 MB.
    let pad = "x".repeat(100_000);
    calls.push(json!({"tool": "read_cypher", "arguments": {"query": "UNWIND range(1, 1000) AS i RETURN i, $pad AS pad", "parameters": {"pad": pad}, "limit": 1000}}));
    let half = "y".repeat(3_000_000);
    calls.push(json!({"tool": "read_cypher", "arguments": {"query": "RETURN $half + $half AS big", "parameters": {"half": half}}}));
    // Terminal escape sequences in a value: kept in the JSON, escaped in
    // the text.
    let escapes = "\u{1b}]0;pwned\u{7}\u{1b}[31mred\r\nline";
    calls.push(json!({"tool": "read_cypher", "arguments": {"query": "RETURN $v AS v", "parameters": {"v": escapes}}}));
    // Past the deadline (2 s here).
    calls.push(json!({"tool": "read_cypher", "arguments": {"query": "UNWIND range(1, 1000000000) AS x WITH x WHERE x % 7 = 3 RETURN count(x) AS n"}}));
    // Wrong types, out of bounds, unknown names.
    calls.push(json!({"tool": "top-skills", "arguments": {"limit": "many"}}));
    calls.push(json!({"tool": "top-skills", "arguments": {"limit": -1}}));
    calls.push(json!({"tool": "top-skills", "arguments": {"nonsense": 1}}));
    calls.push(json!({"tool": "read_cypher", "arguments": {"query": 42}}));
    calls.push(json!({"tool": "read_cypher", "arguments": {"query": "RETURN 1", "limit": 0}}));
    calls.push(json!({"tool": "no-such-tool"}));
    calls.push(json!({"tool": "top-skills", "arguments": {"limit": 2}}));
    let seen = through_client(dir.path(), &["--deadline-seconds", "2"], &Json::Array(calls));
    let answers = seen["calls"].as_array().expect("calls");

    let learners = common::count(&graph, "MATCH (l:Learner) RETURN count(l) AS n").await;
    let digits: Vec<char> = learners.to_string().chars().rev().collect();
    let grouped: String = digits
        .chunks(3)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(",")
        .chars()
        .rev()
        .collect();
    for (i, statement) in refused.iter().enumerate() {
        let refusal = &answers[2 * i];
        assert_eq!(refusal["error"], true, "{statement} was not refused: {refusal}");
        assert!(
            refusal["text"].as_str().is_some_and(|t| t.len() > 20),
            "{statement}: the refusal says why: {refusal}"
        );
        let next = &answers[2 * i + 1];
        assert_eq!(
            next["error"], false,
            "the server answers after {statement}: {next}"
        );
        assert_eq!(next["structured"]["rows"], json!([[learners]]));
        // The text holds the rows too, for clients that show only text.
        let text = next["text"].as_str().expect("text");
        assert!(text.starts_with("1 rows\n") && text.contains(&grouped), "{text}");
    }
    let mut rest = answers[2 * refused.len()..].iter();
    let huge = rest.next().expect("the huge answer");
    assert_eq!(huge["error"], false, "{huge}");
    assert_eq!(huge["structured"]["rows"].as_array().map(Vec::len), Some(50));
    assert_eq!(huge["structured"]["cut"], true);
    assert!(huge["text"].as_str().is_some_and(|t| t.contains("cut")), "{huge}");
    let wide = rest.next().expect("the wide answer");
    let kept = wide["structured"]["rows"].as_array().map_or(0, Vec::len);
    assert!(
        (1..1000).contains(&kept) && kept * 100_000 <= 4 << 20,
        "{kept} rows of 100 kB"
    );
    assert_eq!(wide["structured"]["cut"], true);
    assert!(wide["text"].as_str().is_some_and(|t| t.contains("cut at 4 MiB")));
    let giant = rest.next().expect("the giant value");
    assert_eq!(giant["error"], false);
    assert_eq!(giant["structured"]["rows"], json!([]));
    assert_eq!(giant["structured"]["cut"], true);
    let escaped = rest.next().expect("the escapes");
    assert_eq!(escaped["structured"]["rows"], json!([[escapes]]));
    let text = escaped["text"].as_str().expect("text");
    assert!(
        !text.contains(['\u{1b}', '\u{7}', '\r']) && text.contains("red"),
        "{text:?}"
    );
    let slow = rest.next().expect("the slow one");
    assert_eq!(slow["error"], true, "{slow}");
    assert!(
        slow["text"].as_str().is_some_and(|t| t.contains("deadline")),
        "{slow}"
    );
    // Each says what is wrong in a tool call's words (arguments, not
    // `ask`'s --param).
    for (says, bad) in [
        ["`limit`", "not an integer"],
        ["`limit`", "out of range: top-skills takes it from 1 to"],
        ["top-skills has no parameter \"nonsense\"", "it takes: limit"],
        ["read_cypher needs `query`", "as text"],
        ["`limit`", "from 1 to"],
    ]
    .into_iter()
    .zip(rest.by_ref())
    {
        assert_eq!(bad["error"], true, "{bad}");
        let text = bad["text"].as_str().unwrap_or_default();
        assert!(says.iter().all(|s| text.contains(s)), "{bad} should say {says:?}");
        assert!(!text.contains("--param"), "{bad}");
    }
    let unknown = rest.next().expect("the unknown tool");
    assert!(
        unknown["protocol_error"]
            .as_str()
            .is_some_and(|t| t.contains("no-such-tool")),
        "{unknown}"
    );
    let last = rest.next().expect("the last call");
    assert_eq!(last["error"], false, "the server still answers: {last}");
    assert_eq!(last["structured"]["rows"].as_array().map(Vec::len), Some(2));

    assert_eq!(graph_counts(&graph).await, before, "the graph is unchanged");
}

/// Runs the Python client with `args` and the JSON `input`; its JSON answer.
fn client(args: &[&str], input: &Json) -> Json {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mcp_client.py");
    let mut child = Command::new(python())
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the Python client starts");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.to_string().as_bytes()).expect("writes");
    }
    let output = child.wait_with_output().expect("the client ends");
    assert!(
        output.status.success(),
        "the MCP client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the client's JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn over_http_the_token_the_origin_and_the_host_are_checked() {
    let _db = common::db_lock();
    let dir = loaded(1_000, 97);
    // A token of shell, format and quoting characters: it must pass as
    // it is and never be printed.
    let token = r#"0123456789 $(id) "q" 'x' %s {} \n; `y`"#;
    std::fs::write(dir.path().join("token"), format!("{token}\n")).expect("writes");

    let mut server = Running::spawn(common::db_command(
        dir.path(),
        &[
            "mcp",
            "--http",
            "127.0.0.1:0",
            "--token-file",
            "token",
            "--allow-host",
            "learngraph.test",
        ],
    ));
    let ready = server.wait_for("MCP server ready on http://");
    let url = ready
        .split("ready on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the server's URL")
        .to_string();

    let statuses = client(&["--refusals", &url, token], &json!(null));
    assert_eq!(statuses["no_token"], 401, "{statuses}");
    assert_eq!(statuses["wrong_token"], 401, "{statuses}");
    assert_eq!(statuses["foreign_origin"], 403, "{statuses}");
    assert_eq!(statuses["own_origin"], 200, "{statuses}");
    assert_eq!(statuses["foreign_host"], 403, "{statuses}");
    assert_eq!(statuses["allowed_host"], 200, "{statuses}");

    let seen = client(
        &["--http", &url, token],
        &json!([{"tool": "top-skills", "arguments": {"limit": 3}}]),
    );
    let expected = common::json(&common::run_db_ok(
        dir.path(),
        &["ask", "top-skills", "--param", "limit=3", "--json"],
    ));
    assert_eq!(seen["calls"][0]["structured"]["rows"], expected["rows"], "{seen}");
    server.child.kill().expect("stops");
    let (_, log) = server.finish();
    assert!(log.contains("MCP server ready"), "{log}");
    for secret in [token, &common::test_db().password] {
        assert!(!log.contains(secret), "a secret in the server's log:\n{log}");
    }

    // Reachable from other machines: refused without a token, before
    // anything is served.
    let open = common::run_db(dir.path(), &["mcp", "--http", "0.0.0.0:0"]);
    assert_eq!(
        open.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&open.stderr)
    );
    assert!(String::from_utf8_lossy(&open.stderr).contains("--token-file"));
    // A token no header can carry: refused at start, and not echoed.
    std::fs::write(dir.path().join("odd-token"), "ünïcödé-token-0123456789\n").expect("writes");
    let odd = common::run_db(
        dir.path(),
        &["mcp", "--http", "127.0.0.1:0", "--token-file", "odd-token"],
    );
    let said = String::from_utf8_lossy(&odd.stderr);
    assert_eq!(odd.status.code(), Some(1), "{said}");
    assert!(
        said.contains("printable ASCII") && !said.contains("ünïcödé"),
        "{said}"
    );
    // Listening everywhere with a token: refused until the host names
    // clients use are named (each request's Host is checked).
    let everywhere = common::run_db(
        dir.path(),
        &["mcp", "--http", "0.0.0.0:0", "--token-file", "token"],
    );
    assert_eq!(everywhere.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&everywhere.stderr).contains("--allow-host"),
        "{}",
        String::from_utf8_lossy(&everywhere.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mcp_inspector_lists_the_tools_and_calls_them() {
    let _db = common::db_lock();
    let dir = loaded(1_000, 89);
    let graph = common::test_graph().await;
    let before = graph_counts(&graph).await;

    // Every tool, and schemas the Inspector's portability check passes
    // (it prints a warning per problem, and nothing when there is none).
    let (tool_list, said) = inspector(dir.path(), &["--method", "tools/list", "--strict"], 0);
    let catalogue = common::json(&common::run_db_ok(dir.path(), &["ask", "--json"]));
    assert_eq!(listed(&tool_list["tools"]), offered(&catalogue));
    assert!(!said.contains("Warning"), "schema warnings:\n{said}");

    let (answer, _) = inspector(
        dir.path(),
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "top-skills",
            "--tool-arg",
            "limit=3",
        ],
        0,
    );
    let expected = common::json(&common::run_db_ok(
        dir.path(),
        &["ask", "top-skills", "--param", "limit=3", "--json"],
    ));
    assert_eq!(answer["isError"], false, "{answer}");
    assert_eq!(answer["structuredContent"]["rows"], expected["rows"], "{answer}");
    assert_eq!(answer["structuredContent"]["columns"], expected["columns"]);

    let write = "MATCH (l:Learner) WITH l LIMIT 1 CREATE (l)-[:KNOWS]->(:Intruder)";
    if common::on_neo4j() {
        let (refused, _) = inspector(
            dir.path(),
            &[
                "--method",
                "tools/call",
                "--tool-name",
                "read_cypher",
                "--tool-arg",
                &format!("query={write}"),
            ],
            5,
        );
        assert_eq!(refused["isError"], true, "{refused}");
        let why = refused["content"][0]["text"].as_str().expect("a reason");
        assert!(why.contains("write"), "{why}");
    } else {
        // The Inspector calls no tool the server did not list; a client
        // that does is told why.
        let seen = through_client(
            dir.path(),
            &[],
            &json!([{"tool": "read_cypher", "arguments": {"query": write}},
                    {"tool": "read_cypher", "arguments": {"query": "MATCH (n) RETURN count(n) AS n"}}]),
        );
        for call in seen["calls"].as_array().expect("calls") {
            assert_eq!(call["error"], true, "{call}");
            let why = call["text"].as_str().expect("a reason");
            assert!(why.contains("runs on Neo4j itself only"), "{why}");
        }
    }
    assert_eq!(graph_counts(&graph).await, before, "the graph is unchanged");
}
