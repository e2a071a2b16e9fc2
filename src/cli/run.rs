//! One command of the command line, run: the store opened and migrated, the
//! parts the command needs put together, and why it could not run.

use super::{
    backup::back_up,
    config::{Cli, ClientCommand, Command, IssuerCommand, KeysCommand},
    serve::{key_custody, secret_max_age, serve_until_signalled},
};
use crate::{
    authority::{Admin, AdminSettings, AuthError, Clock, KeySealer},
    domain::SecretMaxAge,
    edge::tls::TlsError,
    store::{Store, StoreError},
};

/// Why a command could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Authority(#[from] AuthError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("cannot listen on {address} ({flag}): {source}")]
    Bind { flag: &'static str, address: std::net::SocketAddr, source: std::io::Error },
    #[error("cannot serve TLS: {0}")]
    Tls(#[from] TlsError),
    #[error("no backup written: {0}")]
    Backup(String),
}

/// Runs one command of the CLI.
pub async fn run(cli: Cli) -> Result<(), RunError> {
    let store = Store::connect(&cli.database_url).await?;
    store.migrate().await?;
    let key_file = cli.key_file();
    let (hsm, rsa) = (cli.hsm_settings(), cli.rsa_key_bits);
    let sealed_keys = match cli.command {
        Command::Serve(_) | Command::Keys { .. } => {
            store.keys().await?.iter().any(|row| KeySealer::is_sealed(&row.private_key))
        }
        _ => false,
    };
    let outcome = match cli.command {
        Command::Serve(args) => match key_custody(key_file, sealed_keys, hsm, rsa) {
            Ok(custody) => {
                serve_until_signalled(store.clone(), *args, custody, secret_max_age(cli.secret_max_age)?)
                    .await
            }
            Err(err) => Err(err),
        },
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::Client { command } => {
            let admin = admin(&store, secret_max_age(cli.secret_max_age)?);
            let changes = !matches!(command, ClientCommand::List { .. });
            println!("{}", super::clients::run(&admin.registry, command).await?);
            say_when_servers_follow(changes);
            Ok(())
        }
        Command::Issuer { command } => {
            let admin = admin(&store, None);
            let changes = !matches!(command, IssuerCommand::List { .. });
            println!("{}", super::issuers::run(&admin.registry, command).await?);
            say_when_servers_follow(changes);
            Ok(())
        }
        Command::Events { command } => {
            let admin = admin(&store, None);
            println!("{}", super::events::run(&admin.audit, command).await?);
            Ok(())
        }
        Command::Backup { to } => back_up(&store, &to, key_file).await,
        // Answered by the binary from the resolved settings, before any database is opened.
        Command::Config { .. } => Ok(()),
        Command::Keys { command } => {
            let custody = || {
                key_custody(key_file, sealed_keys, hsm, rsa)
                    .map_err(|err| AuthError::Misconfigured(err.to_string()))
            };
            let changes = matches!(command, KeysCommand::Rotate { .. } | KeysCommand::Retire { .. });
            println!("{}", super::keys::run(&store, command, custody).await?);
            say_when_servers_follow(changes);
            Ok(())
        }
    };
    store.close().await;
    outcome
}

/// Tells the operator, on stderr (stdout stays the command's answer), when
/// servers already running act on a change the command made.
fn say_when_servers_follow(changed: bool) {
    if changed {
        eprintln!(
            "running servers follow within their upkeep period (5 s); on PostgreSQL, at once through a notice"
        );
    }
}

/// The operator's parts, as `serve` builds them, for a command.
fn admin(store: &Store, secret_max_age: Option<SecretMaxAge>) -> Admin {
    Admin::open(store, &Clock::system(), AdminSettings { secret_max_age, ..AdminSettings::default() })
}
