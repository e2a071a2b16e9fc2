//! The `tokend` binary: parse the command line, hand over to the library.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = tokend::config::Cli::parse();
    tokend::telemetry::init("info,sqlx=warn", cli.log_format);
    match tokend::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tokend: {err}");
            ExitCode::FAILURE
        }
    }
}
