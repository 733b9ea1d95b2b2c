//! One module per subcommand, each with its arguments and a `run`.

pub mod generate;
