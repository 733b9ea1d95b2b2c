//! The `learngraph` binary: parses the command line and hands each
//! subcommand its arguments. Errors end here, printed with their causes.

use clap::{Parser, Subcommand};

use learngraph::commands;

#[derive(Debug, Parser)]
#[command(
    name = "learngraph",
    version,
    about = "Learner-profile export to Neo4j knowledge graph"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Generate(commands::generate::GenerateArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Generate(args) => commands::generate::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
