//! The `tokend` binary: read the command line and the configuration file,
//! hand over to the library.

use std::process::ExitCode;

use tokend::{
    cli::config::{Command, ConfigCommand},
    cli::config_file::{self, ConfigError},
};

#[tokio::main]
async fn main() -> ExitCode {
    let resolved = match config_file::resolve(std::env::args_os()) {
        Ok(resolved) => resolved,
        Err(ConfigError::Usage(err)) => err.exit(),
        Err(err) => {
            eprintln!("tokend: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Config { command: ConfigCommand::Show } = resolved.cli.command {
        println!("{}", config_file::report(&resolved.settings));
        return ExitCode::SUCCESS;
    }
    tokend::observe::telemetry::init("info,sqlx=warn", resolved.cli.log_format);
    match tokend::cli::run::run(resolved.cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tokend: {err}");
            ExitCode::FAILURE
        }
    }
}
