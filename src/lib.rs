//! tokend: an OAuth 2.0 client-credentials token service.
//!
//! Outside in:
//! - [`edge`]: bytes in, requests out: the server assembly, connections within
//!   limits, TLS, and per-call deadlines in each protocol's own terms.
//! - The adapters, each speaking the [`contract`] its own way: [`grpc`] (the
//!   tonic services), [`oauth`] (form-encoded OAuth, discovery, the TokenIDP
//!   dialect) and [`connect`] (the Connect gateway and the console's assets);
//!   [`http`] holds what the HTTP-speaking ones share.
//! - [`failure`]: the one mapping from a failure to what a caller sees.
//! - [`observe`]: metrics, the request log and logging.
//! - [`authority`]: the core — authenticate callers, decide scopes and
//!   audiences, mint and check tokens, manage clients and signing keys.
//! - [`domain`]: value types parsed once at the edge.
//! - [`store`]: sqlx persistence on SQLite (default) or PostgreSQL.
//! - [`limits`]: the sizes and times that must agree with each other.
//! - [`cli`]: the command line, its configuration file and its commands.
//!   [`run`] is what `main` calls.

pub mod authority;
pub mod cli;
pub mod connect;
pub mod contract;
pub mod domain;
pub mod edge;
pub mod failure;
pub mod grpc;
pub mod http;
pub mod limits;
pub mod oauth;
pub mod observe;
pub mod store;

use std::{path::PathBuf, sync::Arc};

use tokio::net::TcpListener;

use crate::{
    authority::{
        AssertionSettings, AuditSettings, AuditTrail, AuthError, Authority, Clock, FailureLimits,
        IssuanceLog, KeySealer, Registry, SecretHasher, Settings,
    },
    cli::config::{Cli, Command, ServeArgs},
    domain::{Audience, SecretMaxAge},
    edge::tls::Tls,
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
    #[error("cannot serve TLS: {0}")]
    Tls(#[from] edge::tls::TlsError),
    #[error("no backup written: {0}")]
    Backup(String),
}

/// Runs one command of the CLI.
pub async fn run(cli: Cli) -> Result<(), RunError> {
    let store = Store::connect(&cli.database_url).await?;
    store.migrate().await?;
    let key_file = cli.key_file();
    let outcome = match cli.command {
        Command::Serve(args) => match key_sealer(key_file) {
            Ok(sealer) => {
                serve_until_signalled(store.clone(), *args, sealer, secret_max_age(cli.secret_max_age)?).await
            }
            Err(err) => Err(err),
        },
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::Client { command } => {
            let max_age = secret_max_age(cli.secret_max_age)?;
            let registry = Registry::new(store.clone(), SecretHasher::new(), Clock::system())
                .with_secret_max_age(max_age);
            println!("{}", cli::clients::run(&registry, command).await?);
            Ok(())
        }
        Command::Issuer { command } => {
            let registry = Registry::new(store.clone(), SecretHasher::new(), Clock::system());
            println!("{}", cli::issuers::run(&registry, command).await?);
            Ok(())
        }
        Command::Events { command } => {
            let audit = AuditTrail::new(store.clone(), Clock::system(), AuditSettings::default());
            println!("{}", cli::events::run(&audit, command).await?);
            Ok(())
        }
        Command::Backup { to } => back_up(&store, &to, key_file).await,
        // Answered by the binary from the resolved settings, before any database is opened.
        Command::Config { .. } => Ok(()),
        Command::Keys { command } => {
            let sealer = || key_sealer(key_file).map_err(|err| AuthError::Misconfigured(err.to_string()));
            println!("{}", cli::keys::run(&store, command, sealer).await?);
            Ok(())
        }
    };
    store.close().await;
    outcome
}

/// `tokend backup`: the copy, in a new file readable by its owner only, and
/// where the key that opens its signing keys is.
async fn back_up(
    store: &Store,
    to: &std::path::Path,
    key_file: Result<PathBuf, String>,
) -> Result<(), RunError> {
    use std::os::unix::fs::OpenOptionsExt;
    if !store.is_sqlite() {
        return Err(RunError::Backup(
            "tokend backup copies a SQLite database; back up PostgreSQL with pg_dump (and keep the key file)"
                .into(),
        ));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|err| RunError::Backup(format!("cannot create {}: {err}", to.display())))?;
    if let Err(err) = store.back_up_into(to).await {
        let _ = std::fs::remove_file(to);
        tracing::error!(error = ?err, file = %to.display(), "the backup failed");
        return Err(RunError::Backup(format!("{err} while copying it to {}", to.display())));
    }
    let key = key_file.map_or_else(|err| err, |path| path.display().to_string());
    println!(
        "backed up to {}; keep it with the key file {key}: its signing keys open only with that key",
        to.display()
    );
    Ok(())
}

async fn serve_until_signalled(
    store: Store,
    args: ServeArgs,
    key_sealer: Arc<KeySealer>,
    secret_max_age: Option<SecretMaxAge>,
) -> Result<(), RunError> {
    // Handlers first: a signal that arrives once the address is printed must be caught.
    let shutdown = shutdown_signal()?;
    let main = TcpListener::bind(args.listen).await?;
    let address = main.local_addr()?;
    let http = match args.http_listen {
        Some(http_address) => Some(TcpListener::bind(http_address).await?),
        None => None,
    };
    let metrics = match args.metrics_listen {
        Some(metrics_address) => Some(TcpListener::bind(metrics_address).await?),
        None => None,
    };
    let http_address = match &http {
        Some(listener) => listener.local_addr()?,
        None => address,
    };
    let limits = args.connection_limits().within_descriptor_limit();
    let tls = args.tls_files().map_err(RunError::Config)?.map(Tls::load).transpose()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    if tls.is_none() {
        tracing::warn!(
            "serving without TLS: client secrets and tokens cross the network in the clear \
             unless a proxy or mesh in front encrypts them (--tls-cert and --tls-key turn TLS on)"
        );
    }
    let settings = Settings {
        issuer: args.issuer.unwrap_or_else(|| format!("{scheme}://{http_address}")),
        default_audience: Audience::parse(&args.default_audience).map_err(|e| RunError::Config(e.0))?,
        algorithm: args.signing_algorithm,
        key_sealer,
        secret_max_age,
        failure_limits: FailureLimits {
            per_client: args.failure_limit_per_client,
            per_address: args.failure_limit_per_address,
        },
        assertions: AssertionSettings {
            max_lifetime_seconds: args.max_assertion_lifetime,
            extra_roots: args.fetch_ca.as_deref().map(edge::tls::ca_bundle).transpose()?.unwrap_or_default(),
        },
        audit: AuditSettings {
            retention_seconds: args.audit_retention,
            issuance: args
                .audit_issuance
                .as_deref()
                .map(|path| IssuanceLog::open(path, args.audit_issuance_sync))
                .transpose()?
                .map(Arc::new),
        },
    };
    let issuance = settings.audit.issuance.clone();
    let authority = Arc::new(Authority::start(store, settings).await?);
    if let Some(log) = issuance {
        reopen_on_hangup(log)?;
    }
    println!("tokend listening on {address}");
    if http.is_some() {
        println!("tokend HTTP adapter listening on {http_address}");
    }
    if let Some(listener) = &metrics {
        println!("tokend metrics listening on {}", listener.local_addr()?);
    }
    edge::server::serve(edge::server::Listeners { main, http, tls, metrics }, authority, limits, shutdown)
        .await;
    tracing::info!("drained in-flight calls; bye");
    Ok(())
}

/// `--secret-max-age`, checked.
fn secret_max_age(seconds: Option<i64>) -> Result<Option<SecretMaxAge>, RunError> {
    let seconds = seconds.unwrap_or(0);
    SecretMaxAge::parse(seconds).map_err(|err| RunError::Config(format!("--secret-max-age: {err}")))
}

/// The key-encryption key for signing keys, from the file the command line names.
fn key_sealer(key_file: Result<PathBuf, String>) -> Result<Arc<KeySealer>, RunError> {
    let path = key_file.map_err(RunError::Config)?;
    Ok(Arc::new(KeySealer::load_or_create(&path)?))
}

/// Opens the issuance log anew on each SIGHUP, as log rotation asks.
fn reopen_on_hangup(log: Arc<IssuanceLog>) -> std::io::Result<()> {
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: opening the issuance log anew");
            log.reopen();
        }
    });
    Ok(())
}

/// Installs the SIGINT (Ctrl-C) and SIGTERM handlers now and returns a future
/// that completes on either.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received");
    })
}
