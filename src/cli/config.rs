//! The command line: every setting is a flag with an environment twin, and
//! may also come from the configuration file (see `config_file`).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand};

use tokend_common::wire::KEY_ACTIVATION_DELAY_SECONDS;

use crate::{
    authority::{
        ClientKeyAlgorithm, FailureLimits, HsmSettings, KeyFileFormat, RegistrationMode, RsaKeySize,
        SigningAlgorithm,
    },
    edge::connections::ConnectionLimits,
    edge::tls::TlsFiles,
    observe::telemetry::LogFormat,
};

#[derive(Debug, Parser)]
#[command(name = "tokend", version, about = "OAuth 2.0 client-credentials token service")]
pub struct Cli {
    /// A TOML file holding settings under the flags' names (e.g.
    /// `listen = "0.0.0.0:50051"`); flags and environment variables win over it.
    #[arg(long, env = "TOKEND_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    /// Where clients, secret hashes, keys and revocations live:
    /// sqlite://FILE (created on first start) or postgres://USER@HOST/DB.
    #[arg(long, env = "TOKEND_DATABASE_URL", default_value = "sqlite://tokend.db", global = true)]
    pub database_url: String,

    /// File holding the key that seals signing keys in the database (base64 of
    /// 32 bytes; created, readable by its owner only, if missing). Defaults to
    /// the SQLite file's path with `.kek` appended; required with PostgreSQL,
    /// and the same file for every instance on one database.
    #[arg(long, env = "TOKEND_KEY_ENCRYPTION_KEY_FILE", global = true)]
    pub key_encryption_key_file: Option<PathBuf>,

    /// A PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so): new signing
    /// keys are made in its token and never leave it; the database keeps
    /// only their public halves. Needs the token label and the PIN file too.
    #[arg(long, env = "TOKEND_PKCS11_MODULE", global = true)]
    pub pkcs11_module: Option<PathBuf>,

    /// The label of the PKCS#11 token that holds the signing keys.
    #[arg(long, env = "TOKEND_PKCS11_TOKEN_LABEL", global = true)]
    pub pkcs11_token_label: Option<String>,

    /// A file holding the token's user PIN (surrounding whitespace ignored).
    #[arg(long, env = "TOKEND_PKCS11_PIN_FILE", global = true)]
    pub pkcs11_pin_file: Option<PathBuf>,

    /// How long new RS256 and PS256 keys are: 2048 or 3072 bits, made here
    /// or in the HSM.
    #[arg(long, env = "TOKEND_RSA_KEY_BITS", global = true, default_value = "2048")]
    pub rsa_key_bits: RsaKeySize,

    /// How long new client secrets live (e.g. 90d, 2160h, or seconds) unless
    /// the client sets its own secret_max_age_seconds; unset: no expiry.
    /// Applies to secrets made by the server and by `client` commands alike.
    #[arg(long, env = "TOKEND_SECRET_MAX_AGE", global = true, value_parser = seconds)]
    pub secret_max_age: Option<i64>,

    /// How log lines on stderr are written: text for people, json (one
    /// object a line: timestamp, level, target, message, fields) for log pipelines.
    #[arg(long, env = "TOKEND_LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The HSM, when the three PKCS#11 settings are given; an error naming
    /// those missing when only some are.
    pub fn hsm_settings(&self) -> Result<Option<HsmSettings>, String> {
        match (&self.pkcs11_module, &self.pkcs11_token_label, &self.pkcs11_pin_file) {
            (None, None, None) => Ok(None),
            (Some(module), Some(token_label), Some(pin_file)) => Ok(Some(HsmSettings {
                module: module.clone(),
                token_label: token_label.clone(),
                pin_file: pin_file.clone(),
            })),
            (module, label, pin) => {
                let missing: Vec<&str> = [
                    module.is_none().then_some("--pkcs11-module"),
                    label.is_none().then_some("--pkcs11-token-label"),
                    pin.is_none().then_some("--pkcs11-pin-file"),
                ]
                .into_iter()
                .flatten()
                .collect();
                Err(format!("an HSM needs {} as well", missing.join(" and ")))
            }
        }
    }

    /// Where the key-encryption key lives: as given, or beside a SQLite database.
    pub fn key_file(&self) -> Result<PathBuf, String> {
        if let Some(path) = &self.key_encryption_key_file {
            return Ok(path.clone());
        }
        match crate::store::sqlite_file(&self.database_url) {
            Some(file) => Ok(PathBuf::from(format!("{}.kek", file.display()))),
            None => Err(
                "--key-encryption-key-file (TOKEND_KEY_ENCRYPTION_KEY_FILE) is required with this database"
                    .into(),
            ),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, then serve gRPC and HTTP until SIGINT or SIGTERM.
    Serve(Box<ServeArgs>),
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Manage clients directly on the database (works before any server runs).
    Client {
        #[command(subcommand)]
        command: ClientCommand,
    },
    /// Manage signing keys directly on the database.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage the issuers whose tokens may authenticate clients (workload
    /// identity federation), directly on the database.
    Issuer {
        #[command(subcommand)]
        command: IssuerCommand,
    },
    /// Read the audit trail, directly from the database.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Copy a SQLite database, consistently, while servers use it (for
    /// PostgreSQL, use pg_dump). Keep the key-encryption key file with it:
    /// the signing keys in the copy open only with that key.
    Backup {
        /// The file to write; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the settings `serve` would run with and where each came from
    /// (flag, environment, file and line, default); passwords are redacted.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List audit events, newest first.
    List {
        /// Only events whose target is this client id.
        #[arg(long)]
        client: Option<String>,
        /// Only events of this type (e.g. secret_rotated); repeat for several.
        #[arg(long = "type")]
        types: Vec<String>,
        /// How many events at most (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print one JSON object a line instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Trust a platform's tokens: give its keys with exactly one of
    /// --jwks-uri, --jwks-file or --discovery.
    Add {
        /// The iss of its tokens, exactly.
        #[arg(long)]
        issuer: String,
        /// Where its JWK Set is published (https; http only to loopback).
        #[arg(long, default_value = "")]
        jwks_uri: String,
        /// A file holding its JWK Set.
        #[arg(long)]
        jwks_file: Option<PathBuf>,
        /// Find its keys through its OIDC discovery document.
        #[arg(long)]
        discovery: bool,
        /// An aud accepted from it; repeat for several. Default: tokend's issuer URL.
        #[arg(long = "audience")]
        audiences: Vec<String>,
        /// How old (by iat) its tokens may be, e.g. 1h; default an hour.
        #[arg(long, default_value = "0", value_parser = seconds)]
        max_assertion_lifetime: i64,
        /// Accept each of its tokens once, by jti (not for tokens shown many
        /// times, such as Kubernetes projected tokens).
        #[arg(long)]
        single_use: bool,
    },
    /// List the trusted issuers.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting an issuer.
    Remove {
        #[arg(long)]
        issuer: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a signing key newer than every other: running servers sign with it
    /// within seconds; older keys keep verifying the tokens they signed.
    Rotate {
        /// Algorithm of the new key: ES256, EdDSA, RS256 or PS256 (servers sign with
        /// the newest key of their `--signing-algorithm`).
        #[arg(long, env = "TOKEND_SIGNING_ALGORITHM", default_value = "ES256")]
        algorithm: SigningAlgorithm,
        /// Seconds between publishing the key and signing with it: long enough
        /// for verifiers to refresh cached key sets (the JWKS's max-age).
        #[arg(long, default_value_t = KEY_ACTIVATION_DELAY_SECONDS as i64)]
        activate_after: i64,
        /// Print one JSON object with kid, algorithm and activate_after.
        #[arg(long)]
        json: bool,
    },
    /// Seal every signing key anew under another key-encryption key, in one
    /// transaction, while servers run; then restart them with the new file
    /// and remove the old one.
    Rekey {
        /// The new key-encryption key (base64 of 32 random bytes), created
        /// owner-only when it does not exist.
        #[arg(long)]
        new_key_encryption_key_file: PathBuf,
    },
    /// List the signing keys, newest first, marking those that sign.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a superseded key: it leaves the JWKS and tokens it signed stop
    /// verifying on every server within seconds.
    Retire {
        /// Key ids are base64url and may start with `-`.
        #[arg(long, allow_hyphen_values = true)]
        kid: String,
        /// Retire it even if tokens it signed may still be live (up to a day
        /// after it was superseded).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, env = "TOKEND_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Serve the HTTP adapter on this address of its own instead of beside
    /// gRPC on `--listen`.
    #[arg(long, env = "TOKEND_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,

    /// The `iss` of issued tokens and the base of the URLs discovery publishes;
    /// defaults to http://<address the HTTP adapter answers on>.
    #[arg(long, env = "TOKEND_ISSUER")]
    pub issuer: Option<String>,

    /// The `aud` of tokens for clients registered without audiences.
    #[arg(long, env = "TOKEND_DEFAULT_AUDIENCE", default_value = "tokend")]
    pub default_audience: String,

    /// Algorithm for new tokens: ES256, EdDSA, RS256 or PS256. A scheduled (or
    /// manual) rotation makes a key of this algorithm; keys of another keep
    /// verifying until they are retired.
    #[arg(long, env = "TOKEND_SIGNING_ALGORITHM", default_value = "ES256")]
    pub signing_algorithm: SigningAlgorithm,

    /// How old a DPoP proof may be (its iat), e.g. 60s or 2m; a proof is
    /// also remembered this long, so it works once.
    #[arg(long, env = "TOKEND_DPOP_PROOF_MAX_AGE", default_value = "60", value_parser = seconds)]
    pub dpop_proof_max_age: i64,

    /// Require DPoP proofs to carry a nonce this server hands out (RFC 9449
    /// §8): a proof without one is answered use_dpop_nonce with a DPoP-Nonce.
    #[arg(long, env = "TOKEND_DPOP_NONCE")]
    pub dpop_nonce: bool,

    /// Whether access tokens point into Token Status Lists (`on`, the
    /// default, or `off`): a revoked token's bit, and the bits of every
    /// token of a disabled or deleted client, are set in a list verifiers
    /// fetch from /oauth/v2/status/<id> once per --status-list-ttl.
    #[arg(long, env = "TOKEND_STATUS_LIST", default_value = "on", value_parser = on_or_off)]
    pub status_list: bool,

    /// How long verifiers may cache a Status List before fetching it again
    /// (its `ttl` and Cache-Control max-age), e.g. 60s or 5m; at most 1h.
    #[arg(long, env = "TOKEND_STATUS_LIST_TTL", default_value = "60", value_parser = status_list_ttl)]
    pub status_list_ttl: i64,

    /// The trust domain of Transaction Tokens: their `aud`, the one audience
    /// a Txn-Token Request may name, and what every service of the call
    /// chain checks. Default: the issuer.
    #[arg(long, env = "TOKEND_TXN_TOKEN_AUDIENCE")]
    pub txn_token_audience: Option<String>,

    /// How long a Transaction Token lives at most (e.g. 5m, 90s), never past
    /// the token it was made from; at most 1h.
    #[arg(long, env = "TOKEND_TXN_TOKEN_LIFETIME", default_value = "300", value_parser = txn_token_lifetime)]
    pub txn_token_lifetime: i64,

    /// Who may register clients at /oauth/v2/register (RFC 7591): off;
    /// token, the bearers of an initial access token (a token with the scope
    /// tokend.register); or open, anyone who reaches it (closed networks only).
    #[arg(long, env = "TOKEND_REGISTRATION", default_value = "token")]
    pub registration: RegistrationMode,

    /// The scopes registered clients may be allowed, space-separated; unset:
    /// any scope but tokend's own (tokend.admin, tokend.register…), which
    /// are never registered.
    #[arg(long, env = "TOKEND_REGISTRATION_ALLOWED_SCOPES", default_value = "")]
    pub registration_allowed_scopes: String,

    /// The audiences registered clients may name, space-separated; unset:
    /// none (a registrant could otherwise claim any API as its audience).
    #[arg(long, env = "TOKEND_REGISTRATION_ALLOWED_AUDIENCES", default_value = "")]
    pub registration_allowed_audiences: String,

    /// The claim names registered clients may set, space-separated; unset:
    /// none (resource servers read claims such as roles as authority).
    #[arg(long, env = "TOKEND_REGISTRATION_ALLOWED_CLAIMS", default_value = "")]
    pub registration_allowed_claims: String,

    /// Registration requests (registering, reading, changing, deleting) a
    /// minute from one address; 0 is unlimited.
    #[arg(long, env = "TOKEND_REGISTRATION_RATE_LIMIT", default_value_t = 30)]
    pub registration_rate_limit: u32,

    /// New registrations a minute across the whole fleet, whatever addresses
    /// they come from (each instance takes an equal share); 0 is unlimited.
    #[arg(long, env = "TOKEND_REGISTRATION_FLEET_RATE_LIMIT", default_value_t = 120)]
    pub registration_fleet_rate_limit: u32,

    /// How long a registered client that never used its secret is kept (e.g.
    /// 7d, 12h); then it is removed, with its audit event. 0 keeps it.
    #[arg(long, env = "TOKEND_REGISTRATION_UNUSED_TTL", default_value = "7d", value_parser = seconds)]
    pub registration_unused_ttl: i64,

    /// Make a new signing key when the newest is older than this (e.g. 30d,
    /// 12h, 90s); unset: keys rotate only with `tokend keys rotate`. One
    /// instance of a fleet rotates; superseded keys are retired on schedule.
    #[arg(long, env = "TOKEND_KEY_ROTATION_PERIOD", value_parser = seconds)]
    pub key_rotation_period: Option<i64>,

    /// How long a new key is published before it signs (e.g. 5m); the JWKS
    /// max-age never exceeds it. [default: 300]
    #[arg(long, env = "TOKEND_KEY_ACTIVATION_DELAY", value_parser = seconds)]
    pub key_activation_delay: Option<i64>,

    /// How long after it was superseded a key is retired on schedule; at
    /// least the longest token lifetime plus leeway. [default: 86700]
    #[arg(long, env = "TOKEND_KEY_RETIRE_AFTER", value_parser = seconds)]
    pub key_retire_after: Option<i64>,

    /// Open connections at most, per listener; past it, the one idle the
    /// longest is closed to make room (new ones wait while every one has a
    /// call in flight). Lowered at start to fit the open-file limit.
    #[arg(long, env = "TOKEND_MAX_CONNECTIONS", default_value_t = ConnectionLimits::default().max_connections)]
    pub max_connections: usize,

    /// Open connections one source address may hold, per listener (at most
    /// half of --max-connections); more from it are closed at once. 0 turns
    /// it off: do so behind a proxy that hides callers' addresses.
    #[arg(long, env = "TOKEND_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = ConnectionLimits::default().max_per_address)]
    pub max_connections_per_address: usize,

    /// Seconds a new connection may take to send its first request (and an
    /// HTTP/1.1 connection the headers of its next) before it is closed.
    #[arg(long, env = "TOKEND_HEADER_TIMEOUT", default_value_t = ConnectionLimits::default().header_timeout.as_secs())]
    pub header_timeout: u64,

    /// PEM certificate chain (leaf first) to serve TLS with, on every listener;
    /// re-read when the file changes. Needs --tls-key.
    #[arg(long, env = "TOKEND_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert; re-read when the file changes.
    #[arg(long, env = "TOKEND_TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// PEM CA bundle that client certificates must chain to for
    /// tls_client_auth (RFC 8705). Needs --tls-cert, or --trusted-proxies for
    /// certificates a proxy forwards.
    #[arg(long, env = "TOKEND_TLS_CLIENT_CA")]
    pub tls_client_ca: Option<PathBuf>,

    /// Networks (CIDR or address), comma-separated, of TLS-terminating
    /// proxies whose RFC 9440 Client-Cert and Client-Cert-Chain header fields
    /// stand for the client's certificate; from any other peer they are ignored.
    #[arg(long, env = "TOKEND_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// Serve `GET /metrics` on this address of its own instead of beside the
    /// HTTP adapter (to keep it off a public port).
    #[arg(long, env = "TOKEND_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// How far in the future a client assertion's exp may be, in seconds or
    /// with a unit (e.g. 5m): private_key_jwt assertions are meant to be
    /// short-lived.
    #[arg(long, env = "TOKEND_MAX_ASSERTION_LIFETIME", default_value = "300", value_parser = seconds)]
    pub max_assertion_lifetime: i64,

    /// The same for the assertion of a JWT bearer grant (RFC 7523 §2.1),
    /// which ZITADEL's SDKs sign for an hour; a `jti` is optional there, so
    /// one without can be replayed until it expires.
    #[arg(long, env = "TOKEND_MAX_GRANT_ASSERTION_LIFETIME", default_value = "3600", value_parser = seconds)]
    pub max_grant_assertion_lifetime: i64,

    /// Require private_key_jwt assertions to be typed `client-authentication+jwt`
    /// (draft-ietf-oauth-rfc7523bis); off: the type is accepted, not required.
    #[arg(long, env = "TOKEND_REQUIRE_EXPLICIT_ASSERTION_TYP")]
    pub require_explicit_assertion_typ: bool,

    /// Networks (CIDR or address) and host names tokend's fetches of keys
    /// and discovery documents may reach though they are internal (loopback,
    /// private): needed for a registrant's jwks_uri inside the platform,
    /// comma-separated. Link-local and metadata addresses are never reached.
    #[arg(long, env = "TOKEND_OUTBOUND_ALLOW", value_delimiter = ',')]
    pub outbound_allow: Vec<String>,

    /// Keep fetches an administrator configured (jwks_uri, trusted issuers,
    /// discovery) off loopback and private addresses too, but for those
    /// --outbound-allow lists.
    #[arg(long, env = "TOKEND_OUTBOUND_DENY_PRIVATE")]
    pub outbound_deny_private: bool,

    /// PEM CA bundle trusted, beside the public web's roots, when fetching
    /// keys from a jwks_uri or an issuer's discovery document (for issuers
    /// behind a private CA, such as a Kubernetes API server).
    #[arg(long, env = "TOKEND_FETCH_CA")]
    pub fetch_ca: Option<PathBuf>,

    /// Failed authentications of one client id, over all instances in five
    /// minutes, past which its cold credential checks are refused until the
    /// count drops (a client whose secret is cached is never refused).
    #[arg(long, env = "TOKEND_FAILURE_LIMIT_PER_CLIENT", default_value_t = FailureLimits::default().per_client)]
    pub failure_limit_per_client: i64,

    /// The same, per source address over all client ids. 0 turns either off;
    /// behind a proxy that hides callers' addresses, turn this one off.
    #[arg(long, env = "TOKEND_FAILURE_LIMIT_PER_ADDRESS", default_value_t = FailureLimits::default().per_address)]
    pub failure_limit_per_address: i64,

    /// How long audit events are kept (e.g. 90d, 2160h, or seconds); the
    /// upkeep deletes older ones.
    #[arg(long, env = "TOKEND_AUDIT_RETENTION", default_value = "90d", value_parser = seconds)]
    pub audit_retention: i64,

    /// Write each issued token (client id, jti, scope, audience, expiry,
    /// origin; never the token) as a JSON line to this file, or to stdout
    /// for `-`, through a buffer off the request path.
    #[arg(long, env = "TOKEND_AUDIT_ISSUANCE")]
    pub audit_issuance: Option<PathBuf>,

    /// Write each issuance log line before the token is returned (a kill -9
    /// then loses none; a failed write fails the request) instead of within
    /// 100 ms off the request path.
    #[arg(long, env = "TOKEND_AUDIT_ISSUANCE_SYNC", requires = "audit_issuance")]
    pub audit_issuance_sync: bool,

    /// Seconds an HTTP/2 connection may stay open with no call in flight.
    #[arg(long, env = "TOKEND_IDLE_TIMEOUT", default_value_t = ConnectionLimits::default().idle_timeout.as_secs())]
    pub idle_timeout: u64,
}

impl ServeArgs {
    /// The TLS certificate and key files (both or neither) and the client CA.
    pub fn tls_files(&self) -> Result<Option<TlsFiles>, String> {
        let client_ca = self.tls_client_ca.clone();
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert: cert.clone(), key: key.clone(), client_ca })),
            (None, None) if client_ca.is_some() && self.trusted_proxies.is_empty() => {
                Err("--tls-client-ca needs --tls-cert and --tls-key, or --trusted-proxies".into())
            }
            (None, None) => Ok(None),
            _ => Err("--tls-cert and --tls-key go together".into()),
        }
    }

    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: self.max_connections.max(1),
            max_per_address: self.max_connections_per_address,
            header_timeout: Duration::from_secs(self.header_timeout.max(1)),
            idle_timeout: Duration::from_secs(self.idle_timeout.max(1)),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client and print its secret (shown this once).
    Create(Box<CreateArgs>),
    /// List clients, with when their secrets expire and were last used.
    List {
        /// Only clients whose last secret expires within this time (e.g. 14d).
        #[arg(long, value_parser = seconds)]
        expiring: Option<i64>,
        /// Only clients with secrets, none of them used within this time (e.g. 30d).
        #[arg(long, value_parser = seconds)]
        unused: Option<i64>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Issue a new secret and print it (shown this once).
    RotateSecret {
        #[arg(long)]
        id: String,
        /// Seconds the older secrets keep working; 0 ends them at once.
        #[arg(long, default_value_t = 0)]
        grace: i64,
        #[arg(long)]
        json: bool,
    },
    /// Replace how a client authenticates (methods, certificate, keys, bound
    /// tokens); its secrets and federated identities stay. Switching to a
    /// secret method for the first time: follow with `rotate-secret`.
    SetAuth {
        #[arg(long)]
        id: String,
        #[command(flatten)]
        auth: AuthArgs,
    },
    /// Replace the claims added to a client's tokens (none given: remove them).
    SetClaims {
        #[arg(long)]
        id: String,
        #[command(flatten)]
        claims: ClaimsArgs,
    },
    /// Stop a client from getting tokens; its tokens introspect inactive.
    Disable {
        #[arg(long)]
        id: String,
    },
    /// Let a disabled client get tokens again.
    Enable {
        #[arg(long)]
        id: String,
    },
    /// Delete a client and its secrets.
    Delete {
        #[arg(long)]
        id: String,
    },
    /// Make a key pair for a client: its public key joins the client's jwks,
    /// the client may use the JWT bearer grant, and the private key is
    /// written once to a new file only its owner may read (as ZITADEL's
    /// service-account key file unless --format says otherwise). tokend
    /// keeps no copy of it.
    AddKey {
        #[arg(long)]
        id: String,
        /// RS256 (as ZITADEL's key files) or ES256.
        #[arg(long, default_value = "RS256")]
        algorithm: ClientKeyAlgorithm,
        /// zitadel ({"type":"serviceaccount","keyId","key","userId"}), pem (PKCS#8) or jwk.
        #[arg(long, default_value = "zitadel")]
        format: KeyFileFormat,
        /// The file to create; it must not exist. Default: KID.json (KID.pem for pem).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Take a key out of a client's jwks: assertions signed with it are refused.
    RemoveKey {
        #[arg(long)]
        id: String,
        #[arg(long)]
        kid: String,
    },
    /// Let tokens of a trusted issuer's workload authenticate a client, or
    /// with --remove stop them. A client made with --auth-method none has no
    /// credentials of its own.
    Federate {
        #[arg(long)]
        id: String,
        /// The workload's issuer (see `tokend issuer add`).
        #[arg(long)]
        issuer: String,
        /// Its sub, or a pattern: * within a ':' or '/' segment, ** across them.
        #[arg(long)]
        subject: String,
        /// A claim its tokens must carry, as name=value; repeat for several.
        #[arg(long = "claim", value_parser = claim)]
        claims: Vec<(String, String)>,
        /// Remove the identity with this issuer and subject instead.
        #[arg(long)]
        remove: bool,
    },
}

/// A `name=value` pair.
fn claim(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("{raw:?} is not name=value"))
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[arg(long)]
    pub id: String,
    /// Scopes the client may ask for, space-separated ("tokend.admin" for an admin).
    #[arg(long, default_value = "")]
    pub scopes: String,
    /// Scopes granted when a request names none; defaults to none.
    #[arg(long, default_value = "")]
    pub default_scopes: String,
    /// An audience the client may ask for; repeat for several.
    #[arg(long = "audience")]
    pub audiences: Vec<String>,
    /// Token lifetime in seconds (60 to 86400).
    #[arg(long, default_value_t = 3600)]
    pub ttl: i64,
    #[arg(long, default_value = "")]
    pub display_name: String,
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Token requests a second this client may make, across the instances on its database, as N or N/s; unlimited if unset.
    #[arg(long, value_parser = per_second)]
    pub rate_limit: Option<u32>,
    /// Requests that may come at once before the rate applies (default: one second's worth).
    #[arg(long, requires = "rate_limit")]
    pub burst: Option<u32>,
    /// How long this client's secrets live (e.g. 90d), instead of --secret-max-age.
    #[arg(long = "client-secret-max-age", value_parser = seconds)]
    pub secret_max_age: Option<i64>,
    #[command(flatten)]
    pub claims: ClaimsArgs,
    /// An audience this client may obtain delegated tokens for by exchanging
    /// other clients' tokens (RFC 8693); repeat for several.
    #[arg(long = "token-exchange-audience")]
    pub token_exchange_audiences: Vec<String>,
    /// The client may ask for Transaction Tokens for the call chains behind
    /// it (an edge gateway), and replace one it holds.
    #[arg(long)]
    pub txn_token_requester: bool,
    /// A grant the client may use: client_credentials (the default when none
    /// is named) or urn:ietf:params:oauth:grant-type:jwt-bearer; repeat for several.
    #[arg(long = "grant-type")]
    pub grant_types: Vec<String>,
    /// Print one JSON object with client_id and client_secret.
    #[arg(long)]
    pub json: bool,
}

/// Claims added to every token of a client.
#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// A claim as name=value; the value is read as JSON when it is JSON (3,
    /// true, ["a","b"], {"k":"v"}, "quoted") and as a string otherwise; repeat for several.
    #[arg(long = "claim", value_parser = claim)]
    pub claims: Vec<(String, String)>,
    /// A file holding a JSON object of claims (with --claim, those win).
    #[arg(long)]
    pub claims_file: Option<PathBuf>,
}

/// How a client authenticates (RFC 7591 / RFC 8705 registration metadata).
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// A method the client may use: client_secret_basic, client_secret_post,
    /// tls_client_auth, self_signed_tls_client_auth or private_key_jwt;
    /// repeat for several; or none, for a client only federated identities
    /// authenticate (see `client federate`).
    /// Default: the two secret methods. Without one, no secret is made.
    #[arg(long = "auth-method")]
    pub methods: Vec<String>,
    /// For tls_client_auth: the certificate's subject DN (RFC 4514).
    #[arg(long, default_value = "")]
    pub tls_subject_dn: String,
    /// For tls_client_auth: a DNS SAN of the certificate.
    #[arg(long, default_value = "")]
    pub tls_san_dns: String,
    /// For tls_client_auth: a URI SAN of the certificate (a SPIFFE ID).
    #[arg(long, default_value = "")]
    pub tls_san_uri: String,
    /// A JWK Set file with the client's public keys: for
    /// self_signed_tls_client_auth they carry its certificates in x5c, for
    /// private_key_jwt they verify its assertions.
    #[arg(long)]
    pub jwks_file: Option<PathBuf>,
    /// For private_key_jwt, instead of --jwks-file: where the client
    /// publishes its JWK Set (https; http only to loopback).
    #[arg(long, default_value = "")]
    pub jwks_uri: String,
    /// Bind the client's tokens to its TLS client certificate (RFC 8705 §3).
    #[arg(long)]
    pub bound_tokens: bool,
    /// Require a DPoP proof with every token request of the client and bind
    /// its tokens to the proof's key (RFC 9449, dpop_bound_access_tokens).
    #[arg(long)]
    pub dpop_bound: bool,
}

/// A duration as seconds: a number with an optional unit `s`, `m`, `h` or `d`.
fn seconds(raw: &str) -> Result<i64, String> {
    let (number, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => raw.split_at(at),
        None => (raw, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{raw:?} is not a duration like 90d, 12h, 30m or 3600")),
    };
    number
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{raw:?} is not a duration like 90d, 12h, 30m or 3600"))
}

/// `on` or `off`.
fn on_or_off(raw: &str) -> Result<bool, String> {
    match raw {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{raw:?} is neither on nor off")),
    }
}

/// A Status List `ttl`: between one second and an hour.
fn status_list_ttl(raw: &str) -> Result<i64, String> {
    let ttl = seconds(raw)?;
    match (1..=3600).contains(&ttl) {
        true => Ok(ttl),
        false => Err(format!("{raw:?} is not between 1s and 1h")),
    }
}

/// A Transaction Token's lifetime: between one second and an hour.
fn txn_token_lifetime(raw: &str) -> Result<i64, String> {
    let lifetime = seconds(raw)?;
    match (1..=3600).contains(&lifetime) {
        true => Ok(lifetime),
        false => Err(format!("{raw:?} is not between 1s and 1h")),
    }
}

/// A rate as `N` or `N/s`.
fn per_second(raw: &str) -> Result<u32, String> {
    raw.strip_suffix("/s").unwrap_or(raw).parse().map_err(|_| format!("{raw:?} is not a rate like 50/s"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn key_file(args: &[&str]) -> Result<PathBuf, String> {
        Cli::parse_from([&["tokend"], args, &["migrate"]].concat()).key_file()
    }

    #[test]
    fn durations_and_rates_read_as_operators_write_them() {
        assert_eq!(seconds("90d"), Ok(90 * 86_400));
        assert_eq!(seconds("12h"), Ok(12 * 3600));
        assert_eq!(seconds("3600"), Ok(3600));
        assert!(seconds("5w").is_err() && seconds("d").is_err());
        assert_eq!(per_second("50/s"), Ok(50));
        assert_eq!(per_second("7"), Ok(7));
        assert!(per_second("fast").is_err());
    }

    #[test]
    fn the_key_file_sits_beside_a_sqlite_database_unless_given() {
        assert_eq!(key_file(&["--database-url", "sqlite://data/t.db?mode=rwc"]), Ok("data/t.db.kek".into()));
        assert_eq!(
            key_file(&["--database-url", "sqlite://t.db", "--key-encryption-key-file", "/run/kek"]),
            Ok("/run/kek".into())
        );
    }

    #[test]
    fn a_kid_may_start_with_a_hyphen() {
        let cli = Cli::parse_from(["tokend", "keys", "retire", "--kid", "-R6x"]);
        assert!(
            matches!(cli.command, Command::Keys { command: KeysCommand::Retire { kid, .. } } if kid == "-R6x")
        );
    }

    #[test]
    fn postgres_needs_the_key_file_named() {
        assert!(key_file(&["--database-url", "postgres://u@h/db"]).is_err());
        assert!(key_file(&["--database-url", "sqlite://:memory:"]).is_err());
    }
}
