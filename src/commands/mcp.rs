//! `learngraph mcp`: the MCP server an analyst's assistant starts (Claude
//! Desktop, Claude Code, VS Code and others): the graph's questions, its
//! schema, its load history and read-only Cypher as tools, over stdio (the
//! protocol owns stdout; everything else goes to stderr) or, with `--http`,
//! over the protocol's streamable HTTP transport: bound to a loopback
//! address unless told otherwise, a bearer token required when it is not,
//! and the `Host` and `Origin` headers checked on every request (the
//! protocol's defence against DNS rebinding).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::commands::{CONNECTING, ConfigArgs, Console, DatabaseArgs, Outcome, Shown, announce};
use crate::pipeline::mcp::{CypherLimits, GraphTools};

/// Serve the graph's questions to an assistant as a Model Context Protocol
/// server on stdin/stdout: a tool per question, the schema, the load
/// history, and read-only Cypher (checked by the server before it runs,
/// read-only, rolled back, row-limited, with a deadline). Nothing it offers
/// can change the graph.
#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// Rows a read_cypher answer holds at most.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_rows: u64,
    /// Seconds a tool call may take: a read_cypher statement runs at most
    /// this long, and any call on a database that is down or stalled fails
    /// after it (plus 2 s).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub deadline_seconds: u64,
    /// Serve the streamable HTTP transport at this address (`127.0.0.1:8808`)
    /// instead of stdio; the endpoint is `/mcp`.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// The bearer token HTTP clients must send (`Authorization: Bearer ...`),
    /// read from this file's first line. Required when `--http` is not a
    /// loopback address.
    #[arg(long, value_name = "FILE", requires = "http")]
    pub token_file: Option<PathBuf>,
    /// A browser origin allowed to call over HTTP (`https://app.example.org`);
    /// repeatable. Without one, only the server's own loopback origins.
    #[arg(long = "allow-origin", value_name = "ORIGIN", requires = "http")]
    pub allowed_origins: Vec<String>,
    /// A host name clients reach the server by (`learngraph.internal`), checked
    /// against each request's `Host`; repeatable. Loopback names and the
    /// address bound are always allowed. Required when `--http` listens on
    /// every address (`0.0.0.0`).
    #[arg(long = "allow-host", value_name = "HOST", requires = "http")]
    pub allowed_hosts: Vec<String>,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub async fn run(args: &McpArgs, console: Console) -> anyhow::Result<Outcome> {
    let config = args.config.load_connecting(&args.database)?;
    announce(&config, console, false, Shown::Connection(&[CONNECTING]));
    let limits = CypherLimits {
        rows: args.max_rows as usize,
        deadline: Duration::from_secs(args.deadline_seconds),
        ..CypherLimits::default()
    };
    let token = read_token(args)?;
    refuse_unguarded_exposure(args, token.as_ref())?;
    let tools = GraphTools::connect(config, limits).await?;
    if let Some(address) = args.http {
        return serve_http(tools, address, token, &args.allowed_origins, &args.allowed_hosts).await;
    }
    tracing::info!("MCP server ready on stdio");
    let running = tools
        .serve(rmcp::transport::stdio())
        .await
        .context("the MCP client's first message was not an MCP initialize request")?;
    running.waiting().await.context("the MCP server stopped")?;
    Ok(Outcome::Success)
}

/// The bearer token, when one is given.
fn read_token(args: &McpArgs) -> anyhow::Result<Option<String>> {
    let token = match &args.token_file {
        None => None,
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the token file {}", file.display()))?;
            let token = text.lines().next().unwrap_or_default().trim().to_string();
            if token.len() < 16 {
                bail!(
                    "the token in {} is {} characters long; use at least 16 (say, `openssl rand -hex 32`)",
                    file.display(),
                    token.len()
                );
            }
            if !token.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
                bail!(
                    "the token in {} holds characters an HTTP header cannot carry; use printable ASCII (say, \
                     `openssl rand -hex 32`)",
                    file.display()
                );
            }
            Some(token)
        }
    };
    Ok(token)
}

/// Refuses, before anything is served, an address other machines reach
/// without a token, and one that listens everywhere without the host names
/// its requests' `Host` may carry.
fn refuse_unguarded_exposure(args: &McpArgs, token: Option<&String>) -> anyhow::Result<()> {
    if let Some(address) = args.http
        && !address.ip().is_loopback()
        && token.is_none()
    {
        bail!(
            "--http {address} is reachable from other machines: give --token-file FILE, whose token every \
             client must send, or bind to 127.0.0.1"
        );
    }
    if let Some(address) = args.http
        && address.ip().is_unspecified()
        && args.allowed_hosts.is_empty()
    {
        bail!(
            "--http {address} listens on every address, and each request's Host header is checked (against DNS \
             rebinding): name the host names clients reach it by with --allow-host NAME (repeatable)"
        );
    }
    Ok(())
}

/// Serves `tools` over streamable HTTP at `address` until Ctrl-C.
async fn serve_http(
    tools: GraphTools,
    address: SocketAddr,
    token: Option<String>,
    allowed_origins: &[String],
    allowed_hosts: &[String],
) -> anyhow::Result<Outcome> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address}"))?;
    let bound = listener.local_addr()?;
    let port = bound.port();
    let mut origins: Vec<String> = vec![
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
        format!("http://[::1]:{port}"),
    ];
    origins.extend(allowed_origins.iter().cloned());
    let mut hosts = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !bound.ip().is_loopback() && !bound.ip().is_unspecified() {
        hosts.push(bound.ip().to_string());
    }
    hosts.extend(allowed_hosts.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .enforce_origin_validation();
    let cancel = config.cancellation_token.clone();
    let service = StreamableHttpService::new(
        move || Ok(tools.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let token = token.map(Arc::new);
    let router = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(axum::middleware::from_fn(move |request, next| {
            let token = token.clone();
            async move { bearer_checked(token, request, next).await }
        }));
    tracing::info!(address = %bound, "MCP server ready on http://{bound}/mcp");
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            cancel.cancel();
        })
        .await
        .context("the MCP HTTP server stopped")?;
    Ok(Outcome::Success)
}

/// Passes a request on when no token is set or it carries the token;
/// answers 401 otherwise. The comparison takes the same time wherever the
/// given token first differs.
async fn bearer_checked(
    token: Option<Arc<String>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use subtle::ConstantTimeEq;
    if let Some(token) = token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        let matches: bool = given.as_bytes().ct_eq(token.as_bytes()).into();
        if !matches {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "this server needs `Authorization: Bearer TOKEN`, the token of its --token-file\n",
            )
                .into_response();
        }
    }
    next.run(request).await
}
