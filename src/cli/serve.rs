//! `tokend serve`: the listeners bound, the settings read from the flags,
//! the authority started and served until SIGINT or SIGTERM; the issuance
//! log reopened on SIGHUP.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use tokio::net::TcpListener;

use super::{config::ServeArgs, run::RunError};
use crate::{
    authority::{
        AssertionSettings, AuditSettings, Authority, DpopSettings, FailureLimits, Hsm, HsmSettings,
        IssuanceLog, KeyCustody, KeyPolicy, KeySealer, MetadataPolicy, OutboundPolicy, REGISTRATION_PATH,
        RegistrationMode, RegistrationSettings, RsaKeySize, Settings, StatusListSettings, TxnSettings,
    },
    domain::{Audience, Network, SecretMaxAge},
    edge::{self, forwarded::TrustedProxies, server::Listeners, tls::Tls},
    store::Store,
};

/// The proxies `--trusted-proxies` names, checking forwarded certificates
/// against `--tls-client-ca`; `None` when it names none.
fn trusted_proxies(args: &ServeArgs) -> Result<Option<Arc<TrustedProxies>>, RunError> {
    if args.trusted_proxies.is_empty() {
        return Ok(None);
    }
    let networks = args
        .trusted_proxies
        .iter()
        .map(|text| {
            Network::parse(text).map_err(|err| RunError::Config(format!("--trusted-proxies: {}", err.0)))
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(Arc::new(TrustedProxies::new(networks, args.tls_client_ca.as_deref())?)))
}

/// A listener on `address`, which the setting `flag` names; a refusal names both.
async fn bind(flag: &'static str, address: SocketAddr) -> Result<TcpListener, RunError> {
    TcpListener::bind(address).await.map_err(|source| RunError::Bind { flag, address, source })
}

pub async fn serve_until_signalled(
    store: Store,
    args: ServeArgs,
    key_custody: KeyCustody,
    secret_max_age: Option<SecretMaxAge>,
) -> Result<(), RunError> {
    // Handlers first: a signal that arrives once the address is printed must be caught.
    let shutdown = shutdown_signal()?;
    let main = bind("--listen", args.listen).await?;
    let address = main.local_addr()?;
    let http = match args.http_listen {
        Some(http_address) => Some(bind("--http-listen", http_address).await?),
        None => None,
    };
    let metrics = match args.metrics_listen {
        Some(metrics_address) => Some(bind("--metrics-listen", metrics_address).await?),
        None => None,
    };
    let limits = args.connection_limits().within_descriptor_limit();
    let tls = args.tls_files().map_err(RunError::Config)?.map(Tls::load).transpose()?;
    let proxies = trusted_proxies(&args)?;
    let listeners = Listeners { main, http, tls, metrics, proxies };
    let base_url = listeners.base_url()?;
    if listeners.tls.is_none() {
        tracing::warn!(
            "serving without TLS: client secrets and tokens cross the network in the clear \
             unless a proxy or mesh in front encrypts them (--tls-cert and --tls-key turn TLS on)"
        );
    }
    let issuer = args.issuer.unwrap_or(base_url);
    let policy = MetadataPolicy::parse(
        &args.registration_allowed_scopes,
        &args.registration_allowed_audiences,
        &args.registration_allowed_claims,
    )
    .map_err(RunError::Config)?;
    let registration = RegistrationSettings {
        fleet_per_minute: args.registration_fleet_rate_limit,
        unused_ttl_seconds: args.registration_unused_ttl,
        ..RegistrationSettings::new(args.registration, policy, args.registration_rate_limit)
    };
    if registration.mode == RegistrationMode::Open {
        tracing::warn!(
            "--registration open: anyone who reaches {REGISTRATION_PATH} can register a client; \
             use it on closed networks only (--registration token asks for an initial access token)"
        );
    }
    let settings = Settings {
        registration,
        txn: TxnSettings {
            audience: args.txn_token_audience.unwrap_or_else(|| issuer.clone()),
            lifetime_seconds: args.txn_token_lifetime,
        },
        issuer,
        default_audience: Audience::parse(&args.default_audience).map_err(|e| RunError::Config(e.0))?,
        algorithm: args.signing_algorithm,
        key_policy: KeyPolicy::new(
            args.key_rotation_period,
            args.key_activation_delay,
            args.key_retire_after,
        )
        .map_err(RunError::Config)?,
        key_custody,
        dpop: DpopSettings { proof_max_age: args.dpop_proof_max_age, nonces: args.dpop_nonce },
        status_lists: StatusListSettings { enabled: args.status_list, ttl_seconds: args.status_list_ttl },
        secret_max_age,
        failure_limits: FailureLimits {
            per_client: args.failure_limit_per_client,
            per_address: args.failure_limit_per_address,
        },
        assertions: AssertionSettings {
            max_lifetime_seconds: args.max_assertion_lifetime,
            max_grant_lifetime_seconds: args.max_grant_assertion_lifetime,
            require_explicit_typ: args.require_explicit_assertion_typ,
            extra_roots: args.fetch_ca.as_deref().map(edge::tls::ca_bundle).transpose()?.unwrap_or_default(),
            outbound: OutboundPolicy::parse(&args.outbound_allow, args.outbound_deny_private)
                .map_err(RunError::Config)?,
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
    if let Some(listener) = &listeners.http {
        println!("tokend HTTP adapter listening on {}", listener.local_addr()?);
    }
    if let Some(listener) = &listeners.metrics {
        println!("tokend metrics listening on {}", listener.local_addr()?);
    }
    edge::server::serve(listeners, authority.clone(), limits, shutdown).await;
    authority.leave_fleet().await;
    tracing::info!("drained in-flight calls; bye");
    Ok(())
}

/// `--secret-max-age`, checked.
pub fn secret_max_age(seconds: Option<i64>) -> Result<Option<SecretMaxAge>, RunError> {
    let seconds = seconds.unwrap_or(0);
    SecretMaxAge::parse(seconds).map_err(|err| RunError::Config(format!("--secret-max-age: {err}")))
}

/// Where signing keys are kept: the key-encryption key from the file the
/// command line names, and the HSM when it names one (opened and logged in now,
/// so a wrong setting is refused at start); RSA keys of `rsa` bits.
pub fn key_custody(
    key_file: Result<PathBuf, String>,
    sealed_keys: bool,
    hsm: Result<Option<HsmSettings>, String>,
    rsa: RsaKeySize,
) -> Result<KeyCustody, RunError> {
    let path = key_file.map_err(RunError::Config)?;
    // A new key file would open none of the keys: refused, and nothing made.
    if sealed_keys && !path.exists() {
        return Err(RunError::Config(format!(
            "the database holds signing keys sealed under the key-encryption key they name, and {} does not exist; \
             give --key-encryption-key-file the file they were sealed under (no new one is made)",
            path.display()
        )));
    }
    let sealer = Arc::new(KeySealer::load_or_create(&path)?);
    let hsm = hsm.map_err(RunError::Config)?.map(|settings| Hsm::open(&settings)).transpose()?;
    Ok(KeyCustody { sealer, hsm, rsa })
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
