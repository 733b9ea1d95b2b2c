//! `learngraph man`: one manual page for the whole tool, generated from the
//! command-line definition: what clap_mangen writes for the top command,
//! then every subcommand with its own flags (clap_mangen would point to
//! pages such as learngraph-load(1) that nobody installs), the environment
//! the configuration reads, and the exit codes.

use clap::{Arg, ArgAction, Command};
use roff::{Roff, bold, italic, roman};

use crate::exit;

/// The environment variables learngraph reads, with what each gives.
const ENVIRONMENT: [(&str, &str); 7] = [
    (
        "NEO4J_URI",
        "the database URI (neo4j.uri), over the configuration file; --uri wins over it",
    ),
    (
        "NEO4J_USERNAME",
        "the database user (neo4j.user); --user wins over it",
    ),
    (
        "NEO4J_PASSWORD",
        "the database password, over the configuration file's; --password-file and --password-prompt win over it",
    ),
    (
        "NEO4J_DATABASE",
        "the database name (neo4j.database); --database wins over it",
    ),
    (
        "MYSQL_PASSWORD",
        "the password of a --source mysql:// table; --source-password-file and --source-password-prompt win over it",
    ),
    (
        "RUST_LOG",
        "the log filter (default info); RUST_LOG=warn also hides the settings a command shows at its start",
    ),
    (
        "HOSTNAME",
        "the host name the load lock records, where the system gives none",
    ),
];

/// The whole page, in roff.
pub fn page(cli: Command) -> std::io::Result<Vec<u8>> {
    let man = clap_mangen::Man::new(cli.clone());
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;

    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    for command in cli.get_subcommands().filter(|c| !c.is_hide_set()) {
        command_section(&mut roff, command);
    }
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in ENVIRONMENT {
        roff.control("TP", []);
        roff.text([bold(name)]);
        roff.text([roman(meaning)]);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in exit::MEANINGS {
        roff.control("TP", []);
        roff.text([bold(code.to_string())]);
        roff.text([roman(meaning)]);
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(
        "The README (Commands, Configuration, Exit codes, Troubleshooting), docs/input.md for the export the tool \
         reads and docs/graph.md for the graph it builds.",
    )]);
    out.extend_from_slice(roff.render().as_bytes());
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// `learngraph NAME`: what it does, its arguments and flags.
fn command_section(roff: &mut Roff, command: &Command) {
    let heading = format!("learngraph {}", command.get_name());
    roff.control("SS", [heading.as_str()]);
    if let Some(about) = command.get_long_about().or(command.get_about()) {
        roff.text([roman(about.to_string())]);
    }
    for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
        roff.control("TP", []);
        roff.text(label(arg));
        let mut help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(ToString::to_string)
            .unwrap_or_default();
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        if !values.is_empty() && takes_value(arg) {
            help.push_str(&format!(" [possible values: {}]", values.join(", ")));
        }
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        if !defaults.is_empty() && takes_value(arg) {
            help.push_str(&format!(" [default: {}]", defaults.join(", ")));
        }
        roff.text([roman(help)]);
    }
    for nested in command.get_subcommands().filter(|c| !c.is_hide_set()) {
        command_section(roff, nested);
    }
}

fn takes_value(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
}

/// `-s, --long <VALUE>` or `<NAME>`, as the synopsis of a flag.
fn label(arg: &Arg) -> Vec<roff::Inline> {
    let value = arg
        .get_value_names()
        .and_then(|names| names.first())
        .map(ToString::to_string)
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    if arg.is_positional() {
        return vec![italic(format!("<{value}>"))];
    }
    let mut flags = Vec::new();
    if let Some(short) = arg.get_short() {
        flags.push(format!("-{short}"));
    }
    if let Some(long) = arg.get_long() {
        flags.push(format!("--{long}"));
    }
    let mut inlines = vec![bold(flags.join(", "))];
    if takes_value(arg) {
        inlines.push(roman(" "));
        inlines.push(italic(format!("<{value}>")));
    }
    inlines
}
