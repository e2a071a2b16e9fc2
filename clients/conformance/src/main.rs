//! tokend-conformance: `serve` makes the shared verification cases against a
//! live tokend and keeps it serving; `verify` runs them through the Rust
//! verifier. The Python and Node verifiers run the same file (verify.py,
//! verify.mjs); run.sh runs all three and compare.py checks they agree.

mod cases;
mod live;
mod serve;
mod verify;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start tokend, write the cases to CASES (with EXPECTED's outcomes), serve until interrupted.
    Serve { cases: PathBuf, expected: PathBuf },
    /// Run CASES through the Rust verifier; write what it made of each to RESULTS.
    Verify { cases: PathBuf, results: PathBuf },
}

#[tokio::main]
async fn main() -> Result<(), live::Failure> {
    // reqwest is built with tokend's rustls features, which leave the provider to the program.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    match Cli::parse().command {
        Command::Serve { cases, expected } => serve::serve(&cases, &expected).await,
        Command::Verify { cases, results } => verify::verify(&cases, &results).await,
    }
}
