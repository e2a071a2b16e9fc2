//! The `client` commands: create, list, rotate secrets, change how a client
//! authenticates, make and remove its keys, disable, enable, delete, and
//! federate (workloads that act as a client).

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::{
    authority::{
        Actor, AuthDraft, AuthError, ClientChanges, ClientDraft, ClientKeyAlgorithm, ClientKeyPair,
        IdentityDraft, KeyFileFormat, Registry, create_private,
    },
    cli::config::{AuthArgs, ClaimsArgs, ClientCommand, CreateArgs},
    domain::{ClientDetails, ClientSecret, SecretInfo},
};

/// Runs one client command and returns what to print.
pub async fn run(registry: &Registry, command: ClientCommand) -> Result<String, AuthError> {
    match command {
        ClientCommand::Create(args) => create(registry, *args).await,
        ClientCommand::List { expiring, unused, json } => {
            list(registry, ListFilter { expiring, unused }, json).await
        }
        ClientCommand::RotateSecret { id, grace, json } => {
            let (details, secret) = registry.rotate_secret(&id, grace, &Actor::cli()).await?;
            Ok(show_secret(&details, Some(&secret), json))
        }
        ClientCommand::SetAuth { id, auth } => set_auth(registry, &id, auth_draft(auth)?).await,
        ClientCommand::SetClaims { id, claims } => {
            let claims = claims_of(claims)?;
            let count = claims.len();
            registry
                .update(
                    &id,
                    ClientChanges { claims: Some(claims), ..ClientChanges::default() },
                    &Actor::cli(),
                )
                .await?;
            Ok(format!("client {id} has {count} claim{}", if count == 1 { "" } else { "s" }))
        }
        ClientCommand::Disable { id } => set_active(registry, &id, false).await,
        ClientCommand::Enable { id } => set_active(registry, &id, true).await,
        ClientCommand::Delete { id } => {
            registry.delete(&id, &Actor::cli()).await?;
            Ok(format!("deleted client {id}"))
        }
        ClientCommand::AddKey { id, algorithm, format, out } => {
            add_key(registry, &id, algorithm, format, out).await
        }
        ClientCommand::RemoveKey { id, kid } => {
            registry.remove_client_key(&id, &kid, &Actor::cli()).await?;
            Ok(format!("removed key {kid} from client {id}: assertions signed with it are refused"))
        }
        ClientCommand::Federate { id, issuer, subject, claims, remove } => {
            let identity = IdentityDraft { issuer, subject, claims: claims.into_iter().collect() };
            federate(registry, &id, identity, remove).await
        }
    }
}

/// Replaces how a client authenticates, all of it but its federated
/// identities, and says how it does now.
async fn set_auth(registry: &Registry, id: &str, auth: AuthDraft) -> Result<String, AuthError> {
    let changes = ClientChanges::replacing_auth(auth);
    let details = registry.update(id, changes, &Actor::cli()).await?;
    let methods = &details.client.auth.methods;
    let mut said = format!("client {id} authenticates by {methods}");
    match (methods.use_secret(), details.secrets.len()) {
        (true, 0) => {
            said += &format!("\nit has no secret yet: run `tokend client rotate-secret --id {id}` for one")
        }
        (false, kept @ 1..) => {
            said += &format!("\nits {kept} secret(s) are kept, and refused while no secret method is allowed")
        }
        _ => {}
    }
    Ok(said)
}

/// Makes a key pair for a client and writes its private half to a new file,
/// or takes the key away again if the file cannot be written.
async fn add_key(
    registry: &Registry,
    id: &str,
    algorithm: ClientKeyAlgorithm,
    format: KeyFileFormat,
    out: Option<PathBuf>,
) -> Result<String, AuthError> {
    let pair = ClientKeyPair::generate(algorithm)?;
    let extension = if format == KeyFileFormat::Pem { "pem" } else { "json" };
    let path = out.unwrap_or_else(|| PathBuf::from(format!("{}.{extension}", pair.kid())));
    if path.exists() {
        return Err(AuthError::FailedPrecondition(format!(
            "{} exists: a key file is never overwritten",
            path.display()
        )));
    }
    registry.add_client_key(id, &pair, &Actor::cli()).await?;
    let written = create_private(&path, pair.private_key(format, id)?.expose());
    if let Err(err) = written {
        registry.remove_client_key(id, pair.kid(), &Actor::cli()).await?;
        return Err(AuthError::FailedPrecondition(format!(
            "cannot write {} ({err}); the key was taken back",
            path.display()
        )));
    }
    Ok(format!(
        "client {id} has key {} ({}) and may use the JWT bearer grant\n\
         private key written to {} (readable by you only; tokend keeps no copy)",
        pair.kid(),
        algorithm.as_str(),
        path.display()
    ))
}

/// Adds a federated identity to a client, or removes the one with the same
/// issuer and subject.
async fn federate(
    registry: &Registry,
    id: &str,
    identity: IdentityDraft,
    remove: bool,
) -> Result<String, AuthError> {
    let details = registry.details(id).await?;
    let mut identities = AuthDraft::from(&details.client.auth).federated;
    let same = |other: &IdentityDraft| other.issuer == identity.issuer && other.subject == identity.subject;
    let known = identities.iter().any(same);
    match (remove, known) {
        (true, false) => {
            return Err(AuthError::NotFound(format!(
                "client {id} has no federated identity {} {}",
                identity.issuer, identity.subject
            )));
        }
        (true, true) => identities.retain(|other| !same(other)),
        (false, _) => {
            identities.retain(|other| !same(other));
            identities.push(identity);
        }
    }
    let count = identities.len();
    let changes = ClientChanges { federated: Some(identities), ..ClientChanges::default() };
    registry.update(id, changes, &Actor::cli()).await?;
    Ok(format!("client {id} has {count} federated identit{}", if count == 1 { "y" } else { "ies" }))
}

async fn create(registry: &Registry, args: CreateArgs) -> Result<String, AuthError> {
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let draft = ClientDraft {
        client_id: args.id,
        display_name: args.display_name,
        allowed_scopes: words(&args.scopes),
        default_scopes: words(&args.default_scopes),
        audiences: args.audiences,
        token_ttl_seconds: args.ttl,
        auth: auth_draft(args.auth)?,
        rate_limit_per_second: args.rate_limit.unwrap_or(0),
        rate_limit_burst: args.burst.unwrap_or(0),
        secret_max_age_seconds: args.secret_max_age.unwrap_or(0),
        claims: claims_of(args.claims)?,
        token_exchange_audiences: args.token_exchange_audiences,
        txn_token_requester: args.txn_token_requester,
        grant_types: args.grant_types,
    };
    let (details, secret) = registry.create(draft, &Actor::cli()).await?;
    Ok(show_secret(&details, secret.as_ref(), args.json))
}

/// The claims the arguments give: the file's, then each `--claim`.
fn claims_of(args: ClaimsArgs) -> Result<Map<String, Value>, AuthError> {
    let mut claims = match args.claims_file {
        None => Map::new(),
        Some(path) => {
            let unreadable = |err: String| {
                AuthError::InvalidArgument(format!("cannot read claims from {}: {err}", path.display()))
            };
            let text = std::fs::read_to_string(&path).map_err(|err| unreadable(err.to_string()))?;
            serde_json::from_str(&text).map_err(|err| unreadable(format!("not a JSON object: {err}")))?
        }
    };
    for (name, value) in args.claims {
        let value = serde_json::from_str(&value).unwrap_or(Value::String(value));
        claims.insert(name, value);
    }
    Ok(claims)
}

fn auth_draft(args: AuthArgs) -> Result<AuthDraft, AuthError> {
    let jwks = match args.jwks_file {
        None => String::new(),
        Some(path) => std::fs::read_to_string(&path).map_err(|err| {
            AuthError::InvalidArgument(format!("cannot read the JWK Set {}: {err}", path.display()))
        })?,
    };
    Ok(AuthDraft {
        methods: args.methods,
        tls_subject_dn: args.tls_subject_dn,
        tls_san_dns: args.tls_san_dns,
        tls_san_uri: args.tls_san_uri,
        jwks,
        jwks_uri: args.jwks_uri,
        bound_tokens: args.bound_tokens,
        dpop_bound: args.dpop_bound,
        federated: Vec::new(),
    })
}

/// The new client and its secret, or a word that it has none.
fn show_secret(details: &ClientDetails, secret: Option<&ClientSecret>, as_json: bool) -> String {
    let id = details.client.id.as_str();
    let methods = details.client.auth.methods.to_string();
    match (secret, as_json) {
        (Some(secret), true) => json!({ "client_id": id, "client_secret": secret.expose() }).to_string(),
        (None, true) => json!({ "client_id": id, "token_endpoint_auth_methods": methods }).to_string(),
        (Some(secret), false) => format!(
            "client_id:     {id}\nclient_secret: {}\n(the secret is shown only this once: store it now)",
            secret.expose()
        ),
        (None, false) => format!("client_id:     {id}\nno secret: the client authenticates by {methods}"),
    }
}

/// Which clients `client list` shows: all, or those whose secrets run out
/// soon or were not used for a while (windows in seconds).
struct ListFilter {
    expiring: Option<i64>,
    unused: Option<i64>,
}

impl ListFilter {
    fn keeps(&self, secrets: &[SecretInfo], now: i64) -> bool {
        let expiring = self.expiring.is_none_or(|window| {
            last_expiry(secrets).is_some_and(|at| at.is_some_and(|at| at <= now + window))
        });
        let unused = self.unused.is_none_or(|window| last_use(secrets).is_some_and(|at| at < now - window));
        expiring && unused
    }
}

/// When the client's last secret stops working: `None` without secrets,
/// `Some(None)` when one never expires.
fn last_expiry(secrets: &[SecretInfo]) -> Option<Option<i64>> {
    let expiries = secrets.iter().map(|secret| secret.expires_at);
    expiries.reduce(|a, b| a.zip(b).map(|(a, b)| a.max(b)))
}

/// When any of the client's secrets was last used (or, never used, made);
/// `None` without secrets.
fn last_use(secrets: &[SecretInfo]) -> Option<i64> {
    secrets.iter().map(|secret| secret.last_used_at.unwrap_or(secret.created_at)).max()
}

async fn list(registry: &Registry, filter: ListFilter, as_json: bool) -> Result<String, AuthError> {
    let mut clients = Vec::new();
    let mut token = String::new();
    let now = registry.now();
    loop {
        let page = registry.list(0, &token, "").await?;
        clients.extend(page.clients.into_iter().filter(|details| filter.keeps(&details.secrets, now)));
        match page.next_page_token {
            Some(next) => token = next,
            None => break,
        }
    }
    if as_json {
        let rows: Vec<_> = clients
            .iter()
            .map(|d| {
                json!({
                    "client_id": d.client.id.as_str(),
                    "active": d.client.is_active(),
                    "allowed_scopes": d.client.allowed_scopes.to_strings(),
                    "default_scopes": d.client.default_scopes.to_strings(),
                    "audiences": d.client.audiences.to_strings(),
                    "token_ttl_seconds": d.client.token_ttl.seconds(),
                    "token_endpoint_auth_methods": d.client.auth.methods.to_strings(),
                    "tls_client_certificate_bound_access_tokens": d.client.auth.bound_tokens,
                    "dpop_bound_access_tokens": d.client.auth.dpop_bound,
                    "txn_token_requester": d.client.txn_token_requester,
                    "grant_types": d.client.grant_types.to_strings(),
                    "jwks": d.client.auth.jwks.as_ref().map(|jwks| jwks.as_str()),
                    "jwks_uri": d.client.auth.jwks_uri.as_ref().map(|uri| uri.as_str()),
                    "federated_identities": d.client.auth.federated.iter().map(|identity| json!({
                        "issuer": identity.issuer,
                        "subject": identity.subject.as_str(),
                        "claims": identity.claims,
                    })).collect::<Vec<_>>(),
                    "rate_limit_per_second": d.client.rate_limit.map(|limit| limit.per_second),
                    "secrets": d.secrets.iter().map(|secret| json!({
                        "secret_id": secret.id.as_str(),
                        "created_at": secret.created_at,
                        "expires_at": secret.expires_at,
                        "last_used_at": secret.last_used_at,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        return Ok(serde_json::Value::from(rows).to_string());
    }
    let mut out = format!(
        "{:<32} {:<8} {:<20} {:<20} {}",
        "CLIENT_ID", "ACTIVE", "SECRET_EXPIRES", "LAST_USED", "ALLOWED_SCOPES"
    );
    for d in &clients {
        let expires = match last_expiry(&d.secrets) {
            None => "-".to_owned(),
            Some(None) => "never".to_owned(),
            Some(Some(at)) => timestamp(at),
        };
        let used =
            d.secrets.iter().filter_map(|secret| secret.last_used_at).max().map_or("never".into(), timestamp);
        out.push_str(&format!(
            "\n{:<32} {:<8} {:<20} {:<20} {}",
            d.client.id.as_str(),
            d.client.is_active(),
            expires,
            used,
            d.client.allowed_scopes
        ));
    }
    Ok(out)
}

/// Unix seconds as UTC `YYYY-MM-DD HH:MM`.
fn timestamp(unix: i64) -> String {
    let mut time = super::utc(unix);
    time.truncate("YYYY-MM-DD HH:MM".len());
    time
}

async fn set_active(registry: &Registry, id: &str, active: bool) -> Result<String, AuthError> {
    registry.update(id, ClientChanges { active: Some(active), ..Default::default() }, &Actor::cli()).await?;
    Ok(format!("client {id} is now {}", if active { "enabled" } else { "disabled" }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SecretId;

    /// Secrets as (created, expires, last used).
    fn secrets(rows: &[(i64, Option<i64>, Option<i64>)]) -> Vec<SecretInfo> {
        rows.iter()
            .map(|&(created_at, expires_at, last_used_at)| SecretInfo {
                id: SecretId::from_stored("s".into()),
                created_at,
                expires_at,
                last_used_at,
            })
            .collect()
    }

    #[test]
    fn expiring_means_the_last_secret_runs_out_within_the_window() {
        let filter = ListFilter { expiring: Some(100), unused: None };
        assert!(filter.keeps(&secrets(&[(0, Some(1050), None)]), 1000));
        assert!(
            !filter.keeps(&secrets(&[(0, Some(1050), None), (0, Some(5000), None)]), 1000),
            "a rotation in grace"
        );
        assert!(
            !filter.keeps(&secrets(&[(0, Some(1050), None), (0, None, None)]), 1000),
            "one never expires"
        );
        assert!(!filter.keeps(&[], 1000), "no secrets, nothing to expire");
    }

    #[test]
    fn unused_means_no_secret_was_used_or_made_within_the_window() {
        let filter = ListFilter { expiring: None, unused: Some(100) };
        assert!(filter.keeps(&secrets(&[(0, None, Some(850))]), 1000));
        assert!(!filter.keeps(&secrets(&[(0, None, Some(850)), (0, None, Some(950))]), 1000));
        assert!(!filter.keeps(&secrets(&[(950, None, None)]), 1000), "made recently");
        assert!(!filter.keeps(&[], 1000));
    }

    #[test]
    fn timestamps_read_as_utc_dates() {
        assert_eq!(timestamp(0), "1970-01-01 00:00");
        assert_eq!(timestamp(1_795_819_206), "2026-11-27 22:40");
        assert_eq!(timestamp(951_782_400), "2000-02-29 00:00");
    }
}
