//! The network as it is outside the lab, against the real local server:
//! cluster routing (`neo4j://`), a server that accepts and never answers,
//! and a connection that goes silent in the middle of a batch.
// The lock serializes the tests that share the one database; holding it
// across awaits is the point.
#![allow(clippy::await_holding_lock)]

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{db_command, db_lock, generate, json, run_db_ok, temp_dir, test_db};

/// The test database's host and port.
fn db_address() -> SocketAddr {
    let uri = test_db().uri;
    let host_port = uri.split("://").nth(1).expect("a URI with a scheme");
    host_port.parse().expect("the test URI names 127.0.0.1:PORT")
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_load_over_neo4j_routing_writes_to_the_writer_the_server_names_and_verifies() {
    let _db = db_lock();
    let dir = temp_dir();
    let input = generate(dir.path(), "routed.csv", 1_500, 41, 0.0);
    let port = db_address().port();
    // The URI names a forwarding proxy; the server's routing table names
    // the server's own port as the writer, so a driver that follows the
    // table writes to another address than the one it was given.
    let proxy = StallingProxy::start(db_address(), b"never sent by any driver");
    let routed = format!("neo4j://{}", proxy.address);
    run_db_ok(dir.path(), &["clear", "--all", "--yes"]);

    let load = db_command(dir.path(), &["load", input.to_str().unwrap(), "--uri", &routed])
        .output()
        .expect("runs");
    let log = stderr(&load);
    assert!(load.status.success(), "{log}");
    // The driver asked for a routing table...
    assert!(
        proxy.routes.load(Ordering::SeqCst) >= 1,
        "no ROUTE request went through the proxy:\n{log}"
    );
    // ...and wrote to the writer it names. ArcadeDB names its own Bolt
    // port; a standalone Neo4j names the address the client connected to
    // (the proxy), so that `neo4j://` works through forwarded ports.
    let writer = if common::on_neo4j() {
        proxy.address.port()
    } else {
        port
    };
    assert!(
        log.contains(&format!("writer=127.0.0.1:{writer}")),
        "the load did not follow the routing table (URI {routed}, table's writer port {writer}):\n{log}"
    );
    assert!(log.contains("bolt=5."), "Bolt 5 was not agreed:\n{log}");
    let verify = db_command(dir.path(), &["verify", input.to_str().unwrap(), "--uri", &routed])
        .output()
        .expect("runs");
    assert!(
        verify.status.success(),
        "verify over neo4j:// failed:\n{}\n{}",
        String::from_utf8_lossy(&verify.stdout),
        stderr(&verify)
    );
    assert!(String::from_utf8_lossy(&verify.stdout).contains("PASSED"));
}

/// A Bolt URI at an HTTP port, or at a port where nothing listens, is
/// said as what it is: not a TLS or certificate problem, not a connection
/// "lost" that was never made.
#[test]
fn an_http_port_and_a_refused_connection_are_named_as_what_they_are() {
    let dir = temp_dir();
    let http = TcpListener::bind("127.0.0.1:0").expect("binds");
    let http_port = http.local_addr().expect("address").port();
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&answered);
    std::thread::spawn(move || {
        for stream in http.incoming().flatten() {
            let mut stream = stream;
            let mut handshake = [0u8; 20];
            let _ = stream.read(&mut handshake);
            // Counted before the answer: the client exits once it reads
            // the answer, and the test must not look before the count.
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let closed = TcpListener::bind("127.0.0.1:0").expect("binds");
    let closed_port = closed.local_addr().expect("address").port();
    drop(closed);

    let at_http = db_command(
        dir.path(),
        &[
            "ping",
            "--uri",
            &format!("bolt://127.0.0.1:{http_port}"),
            "--connect-timeout-seconds",
            "5",
        ],
    )
    .output()
    .expect("runs");
    let said = stderr(&at_http);
    assert_eq!(at_http.status.code(), Some(14), "{said}");
    assert!(answered.load(Ordering::SeqCst) >= 1, "the HTTP server was asked");
    assert!(
        said.contains("answered in HTTP, not Bolt") && said.contains("7687"),
        "{said}"
    );
    for wrong in ["TLS", "certificate", "lost"] {
        assert!(!said.contains(wrong), "{wrong} in: {said}");
    }

    let refused = db_command(
        dir.path(),
        &["ping", "--uri", &format!("bolt://127.0.0.1:{closed_port}")],
    )
    .output()
    .expect("runs");
    let said = stderr(&refused);
    assert_eq!(refused.status.code(), Some(14), "{said}");
    assert!(said.contains("refused: nothing listens"), "{said}");
    assert!(!said.contains("lost"), "{said}");
    assert_eq!(said.matches("error:").count(), 1, "{said}");
}

/// A server that accepts and never answers the handshake fails at the
/// connect deadline, not the query deadline (300 s by default), and never
/// later than the query deadline either.
#[test]
fn a_server_that_never_answers_the_handshake_is_unreachable_after_the_connect_deadline() {
    let port = common::silent_server();
    let dir = temp_dir();
    let input = generate(dir.path(), "silent.csv", 10, 42, 0.0);
    let uri = format!("bolt://127.0.0.1:{port}");
    for (command, deadline) in [
        (
            &["load", input.to_str().unwrap()][..],
            "--connect-timeout-seconds",
        ),
        (&["ping"][..], "--connect-timeout-seconds"),
        (&["load", input.to_str().unwrap()][..], "--query-timeout-seconds"),
    ] {
        let mut args = command.to_vec();
        args.extend(["--uri", &uri, deadline, "2"]);
        let started = Instant::now();
        let output = db_command(dir.path(), &args).output().expect("runs");
        let elapsed = started.elapsed();
        let log = stderr(&output);
        assert_eq!(output.status.code(), Some(14), "{args:?}: {log}");
        assert!(
            log.contains("within 2 s (neo4j.connect_timeout_seconds)"),
            "{args:?}: {log}"
        );
        // Not a speed claim: with only the query deadline this took 300 s,
        // and without one it never returned.
        assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    }
}

/// A TCP proxy to the database that, on the first connection whose client
/// sends `trigger`, stops forwarding in both directions and holds the
/// connection open: a flow dropped by a load balancer. Every other
/// connection (all of them, for a trigger never sent) is forwarded as is.
struct StallingProxy {
    address: SocketAddr,
    stalled: Arc<AtomicUsize>,
    /// Bolt ROUTE requests the clients sent through it: routing tables asked for.
    routes: Arc<AtomicUsize>,
    /// Both ends of every connection it forwarded.
    connections: Arc<Mutex<Vec<TcpStream>>>,
}

impl Drop for StallingProxy {
    /// Closes every connection it forwarded, the silent ones too. A load
    /// that died mid-batch leaves its transaction open, with its locks,
    /// until the server sees the connection gone: left open, it would hold
    /// up the next test's `clear` until the transaction's own timeout.
    fn drop(&mut self) {
        for stream in self.connections.lock().expect("not poisoned").iter() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// The start of a Bolt 4.3+ ROUTE message as a driver sends it: a
/// three-field structure of signature 0x66 whose first field, the routing
/// context, is a one-entry map holding the address the client used.
const ROUTE_MESSAGE: &[u8] = b"\xB3\x66\xA1\x87address";

impl StallingProxy {
    fn start(upstream: SocketAddr, trigger: &'static [u8]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let address = listener.local_addr().unwrap();
        let stalled = Arc::new(AtomicUsize::new(0));
        let routes = Arc::new(AtomicUsize::new(0));
        let armed = Arc::new(AtomicBool::new(true));
        let counter = stalled.clone();
        let route_counter = routes.clone();
        let connections = Arc::new(Mutex::new(Vec::new()));
        let opened = connections.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                opened
                    .lock()
                    .expect("not poisoned")
                    .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                let silent = Arc::new(AtomicBool::new(false));
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (armed, counter, silent2) = (armed.clone(), counter.clone(), silent.clone());
                let watch = Watch {
                    trigger,
                    armed,
                    stalled: counter,
                    routes: route_counter.clone(),
                };
                std::thread::spawn(move || pipe(client, server, Some(watch), silent));
                std::thread::spawn(move || pipe(s2, c2, None, silent2));
            }
        });
        StallingProxy {
            address,
            stalled,
            routes,
            connections,
        }
    }
}

/// What the proxy watches for in what a client sends.
struct Watch {
    trigger: &'static [u8],
    armed: Arc<AtomicBool>,
    stalled: Arc<AtomicUsize>,
    routes: Arc<AtomicUsize>,
}

/// Copies `from` to `to` until either closes, and passes the close on (a
/// client that exits is seen gone by the server), or forever stops copying
/// once the connection has gone silent.
fn pipe(mut from: TcpStream, mut to: TcpStream, watch: Option<Watch>, silent: Arc<AtomicBool>) {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut window: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        if let Some(watch) = &watch {
            let seen_before = window.len();
            window.extend_from_slice(&buffer[..n]);
            let pattern = watch.trigger;
            if window.windows(pattern.len()).any(|w| w == pattern)
                && watch.armed.swap(false, Ordering::SeqCst)
            {
                watch.stalled.fetch_add(1, Ordering::SeqCst);
                silent.store(true, Ordering::SeqCst);
            }
            // Each ROUTE counted once: only those that end in the new bytes.
            let routes = window
                .windows(ROUTE_MESSAGE.len())
                .enumerate()
                .filter(|(at, w)| *w == ROUTE_MESSAGE && at + ROUTE_MESSAGE.len() > seen_before)
                .count();
            watch.routes.fetch_add(routes, Ordering::SeqCst);
            let keep = window
                .len()
                .saturating_sub(pattern.len().max(ROUTE_MESSAGE.len()));
            window.drain(..keep);
        }
        if silent.load(Ordering::SeqCst) {
            // Hold both sockets open and answer nothing, ever.
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        if to.write_all(&buffer[..n]).is_err() {
            return;
        }
    }
}

#[test]
fn a_batch_on_a_connection_gone_silent_is_retried_after_the_deadline_and_nothing_is_lost() {
    let _db = db_lock();
    let dir = temp_dir();
    let input = generate(dir.path(), "stalled.csv", 2_000, 43, 0.0);
    run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let proxy = StallingProxy::start(db_address(), b"CREATE (l:Learner)");

    let load = db_command(
        dir.path(),
        &[
            "load",
            input.to_str().unwrap(),
            "--uri",
            &format!("bolt://{}", proxy.address),
            "--query-timeout-seconds",
            "3",
            "--batch-size",
            "500",
            "--json",
        ],
    )
    .output()
    .expect("runs");
    let log = stderr(&load);
    assert!(load.status.success(), "{log}");
    assert_eq!(
        proxy.stalled.load(Ordering::SeqCst),
        1,
        "the proxy never stalled a batch"
    );
    let summary = json(&load);
    assert!(summary["retries"].as_u64().unwrap_or(0) >= 1, "{summary}");
    assert!(log.contains("did not answer within 3 s"), "{log}");
    // Exact counts, read directly (not through the proxy).
    let verify = db_command(dir.path(), &["verify", input.to_str().unwrap()])
        .output()
        .expect("runs");
    assert!(
        verify.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&verify.stdout),
        stderr(&verify)
    );
}

#[test]
fn a_second_ctrl_c_exits_at_once_while_a_batch_hangs() {
    let _db = db_lock();
    let dir = temp_dir();
    let input = generate(dir.path(), "hung.csv", 2_000, 44, 0.0);
    run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    let proxy = StallingProxy::start(db_address(), b"CREATE (l:Learner)");
    let mut child = db_command(
        dir.path(),
        &[
            "load",
            input.to_str().unwrap(),
            "--uri",
            &format!("bolt://{}", proxy.address),
            "--query-timeout-seconds",
            "600",
            "--batch-size",
            "500",
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("runs");
    // The log, line by line as it comes.
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let waited = Instant::now();
    // A batch in flight means phase 2 runs, and its Ctrl-C handler is in
    // place (registered before the first batch is sent).
    while proxy.stalled.load(Ordering::SeqCst) == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "phase 2 never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    common::signal(&child, "INT");
    // The first Ctrl-C is heard and waits for the batch in flight, which
    // hangs: the load says so and goes on running.
    let mut log = String::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the first Ctrl-C was not heard: {log}"));
        log.push_str(&line);
        log.push('\n');
        if line.contains("Interrupted: finishing the batches in flight") {
            break;
        }
    }
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the first Ctrl-C did not wait: {log}"
    );
    common::signal(&child, "INT");
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(30),
            "the second Ctrl-C did not stop the load"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    reader.join().expect("the log is read");
    log.extend(lines.try_iter().map(|line| line + "\n"));
    // Exit 17 and "interrupted twice": the first Ctrl-C had not ended it.
    assert_eq!(status.code(), Some(17), "{log}");
    assert!(log.contains("interrupted twice"), "{log}");
    assert!(log.contains("load --resume"), "{log}");
    // The load died with a batch half done; once the proxy closes its
    // connections the server rolls that back and frees its locks, and
    // the next test's `clear` does not wait out the transaction timeout.
    drop(proxy);
    if common::on_neo4j() {
        assert_no_transaction_left_open();
    }
}

/// Waits until the server holds no transaction but the one asking, as
/// it does once every connection of a dead load is closed.
fn assert_no_transaction_left_open() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let graph = common::test_graph().await;
        let started = Instant::now();
        loop {
            let open = common::count(
                &graph,
                "SHOW TRANSACTIONS YIELD transactionId RETURN count(*) AS n",
            )
            .await;
            if open <= 1 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{} transactions of the dead load still open",
                open - 1
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}

/// A bare JSON-RPC client of `learngraph mcp` over stdio: one request, its
/// answer.
struct McpSession {
    child: std::process::Child,
    answers: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    next_id: u64,
}

impl McpSession {
    fn start(mut command: std::process::Command) -> Self {
        use std::io::BufRead;
        let mut child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("learngraph mcp starts");
        let answers = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut session = McpSession {
            child,
            answers,
            next_id: 0,
        };
        session.request(
            "initialize",
            serde_json::json!({"protocolVersion": "2025-06-18", "capabilities": {},
                               "clientInfo": {"name": "network-test", "version": "1"}}),
        );
        session.send(serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        session
    }

    fn send(&mut self, message: serde_json::Value) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{message}").expect("writes");
        stdin.flush().expect("flushes");
    }

    fn request(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self.answers.next().expect("an answer").expect("reads");
            let answer: serde_json::Value = serde_json::from_str(&line).expect("JSON-RPC");
            if answer["id"] == id {
                return answer["result"].clone();
            }
        }
    }

    fn call(&mut self, tool: &str, arguments: serde_json::Value) -> serde_json::Value {
        self.request(
            "tools/call",
            serde_json::json!({"name": tool, "arguments": arguments}),
        )
    }
}

/// An assistant's call whose connection goes silent fails within the
/// server's deadline (not after the loader's two-minute retry budget), and
/// the next call answers.
#[test]
fn an_mcp_call_on_a_connection_gone_silent_fails_within_the_deadline_and_the_next_answers() {
    let _db = db_lock();
    let dir = temp_dir();
    let input = generate(dir.path(), "mcp.csv", 300, 43, 0.0);
    run_db_ok(dir.path(), &["clear", "--all", "--yes"]);
    run_db_ok(dir.path(), &["load", input.to_str().unwrap()]);
    // Only top-skills sends this.
    let proxy = StallingProxy::start(db_address(), b"[:HAS_SKILL]->(s:Skill)");
    let uri = format!("bolt://{}", proxy.address);
    let mut session = McpSession::start(db_command(
        dir.path(),
        &["mcp", "--uri", &uri, "--deadline-seconds", "3"],
    ));
    let count = serde_json::json!({"query": "MATCH (l:Learner) RETURN count(l) AS n"});
    let before = session.call("read_cypher", count.clone());
    assert_eq!(before["isError"], false, "{before}");

    let started = Instant::now();
    let stalled = session.call("top-skills", serde_json::json!({}));
    let elapsed = started.elapsed();
    assert_eq!(
        proxy.stalled.load(Ordering::SeqCst),
        1,
        "the proxy never stalled the question"
    );
    assert_eq!(stalled["isError"], true, "{stalled}");
    let why = stalled["content"][0]["text"].as_str().unwrap_or_default();
    assert!(
        why.contains("did not answer within 5 s (--deadline-seconds)"),
        "{why}"
    );
    // Not a speed claim: the loader's retry budget is 120 s.
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");

    let after = session.call("read_cypher", count);
    assert_eq!(after["isError"], false, "{after}");
    assert_eq!(after["structuredContent"], before["structuredContent"]);
    drop(session.child.stdin.take());
    session.child.wait().expect("the server ends with its input");
}
