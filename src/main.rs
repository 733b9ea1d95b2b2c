//! The `learngraph` binary: parses the command line, sets up logging, and
//! hands each subcommand its arguments. Errors end here, printed with their
//! causes, and become the process exit code.

use clap::{CommandFactory, Parser, Subcommand};

use learngraph::commands::{self, Console, LogFormat, Outcome};
use learngraph::exit;

/// Transform threads allocate and the consumer frees: mimalloc handles that
/// pattern far better than the system allocator (measured in BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "learngraph",
    version = learngraph::VERSION,
    about = "Learner-profile export to Neo4j knowledge graph"
)]
struct Cli {
    /// Log lines as text or as one JSON object per line (on stderr).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    /// Show every detail: the whole configuration in every command.
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    verbose: bool,
    /// Show no configuration at the start (a scheduler's log keeps only
    /// what happened); `RUST_LOG=warn` does the same.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Generate(commands::generate::GenerateArgs),
    Check(commands::check::CheckArgs),
    Export(commands::export::ExportArgs),
    Load(commands::load::LoadArgs),
    Verify(commands::verify::VerifyArgs),
    Ping(commands::ping::PingArgs),
    Ask(commands::ask::AskArgs),
    Report(commands::report::ReportArgs),
    History(commands::history::HistoryArgs),
    Mcp(commands::mcp::McpArgs),
    Clear(commands::clear::ClearArgs),
    /// Print a shell completion script, generated from these commands:
    /// `source <(learngraph completions bash)`, or save it where the shell
    /// looks (bash: ~/.local/share/bash-completion/completions/learngraph;
    /// zsh: a file `_learngraph` in a folder of $fpath; fish:
    /// ~/.config/fish/completions/learngraph.fish)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from these commands:
    /// `learngraph man | man -l -`, or save it as learngraph.1 in a man
    /// folder (e.g. ~/.local/share/man/man1)
    Man,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,neo4j=warn"));
    // Colours only on a terminal: a log piped to a file or a collector
    // stays plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

fn main() -> std::process::ExitCode {
    // Both TLS clients (Bolt and MySQL) use rustls; with more than one
    // crypto back end compiled in, rustls needs the process's choice.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let console = Console {
        log_format: cli.log_format,
        verbose: cli.verbose,
        quiet: cli.quiet,
    };
    let result = match &cli.command {
        Command::Generate(args) => commands::generate::run(args),
        Command::Check(args) => commands::check::run(args, console),
        Command::Export(args) => commands::export::run(args, console),
        Command::Load(args) => runtime().and_then(|rt| rt.block_on(commands::load::run(args, console))),
        Command::Verify(args) => runtime().and_then(|rt| rt.block_on(commands::verify::run(args, console))),
        Command::Ping(args) => runtime().and_then(|rt| rt.block_on(commands::ping::run(args, console))),
        Command::Ask(args) => runtime().and_then(|rt| rt.block_on(commands::ask::run(args, console))),
        Command::Report(args) => runtime().and_then(|rt| rt.block_on(commands::report::run(args, console))),
        Command::History(args) => runtime().and_then(|rt| rt.block_on(commands::history::run(args, console))),
        Command::Mcp(args) => runtime().and_then(|rt| rt.block_on(commands::mcp::run(args, console))),
        Command::Clear(args) => runtime().and_then(|rt| rt.block_on(commands::clear::run(args, console))),
        Command::Completions { shell } => print_completions(*shell),
        Command::Man => print_man_page(),
    };
    match result {
        Ok(Outcome::Success) => std::process::ExitCode::from(exit::SUCCESS),
        Ok(Outcome::TooManyRejects) => std::process::ExitCode::from(exit::TOO_MANY_REJECTS),
        Ok(Outcome::VerifyFailed) => std::process::ExitCode::from(exit::VERIFY_FAILED),
        Ok(Outcome::WriteRefused) => std::process::ExitCode::from(exit::WRITE_REFUSED),
        Ok(Outcome::LastRunUnfinished) => std::process::ExitCode::from(exit::LAST_RUN_UNFINISHED),
        Err(error) => {
            let code = exit::code_for(&error);
            // A message may quote a file name or a record another process
            // left: its escape sequences never reach the terminal raw.
            let message = learngraph::text::terminal_safe_lines(&learngraph::text::said_once(error.chain()));
            // Said once: as a line for people, or as one JSON event.
            match cli.log_format {
                LogFormat::Text => eprintln!("error: {message}"),
                LogFormat::Json => tracing::error!(error = %message, exit_code = code, "Stopped"),
            }
            std::process::ExitCode::from(code)
        }
    }
}

fn print_completions(shell: clap_complete::Shell) -> anyhow::Result<Outcome> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "learngraph", &mut script);
    commands::write_stdout(&script)?;
    Ok(Outcome::Success)
}

fn print_man_page() -> anyhow::Result<Outcome> {
    commands::write_stdout(&commands::man::page(Cli::command())?)?;
    Ok(Outcome::Success)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}
