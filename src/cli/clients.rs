//! The `client` commands: create, list, rotate secrets, disable, enable, delete.

use serde_json::json;

use crate::{
    authority::{AuthDraft, AuthError, ClientChanges, ClientDraft, Registry},
    config::{AuthArgs, ClientCommand, CreateArgs},
    domain::{ClientDetails, ClientSecret},
};

/// Runs one client command and returns what to print.
pub async fn run(registry: &Registry, command: ClientCommand) -> Result<String, AuthError> {
    match command {
        ClientCommand::Create(args) => create(registry, *args).await,
        ClientCommand::List { json } => list(registry, json).await,
        ClientCommand::RotateSecret { id, grace, json } => {
            let (details, secret) = registry.rotate_secret(&id, grace).await?;
            Ok(show_secret(&details, Some(&secret), json))
        }
        ClientCommand::Disable { id } => set_active(registry, &id, false).await,
        ClientCommand::Enable { id } => set_active(registry, &id, true).await,
        ClientCommand::Delete { id } => {
            registry.delete(&id).await?;
            Ok(format!("deleted client {id}"))
        }
    }
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
    };
    let (details, secret) = registry.create(draft).await?;
    Ok(show_secret(&details, secret.as_ref(), args.json))
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
        bound_tokens: args.bound_tokens,
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

async fn list(registry: &Registry, as_json: bool) -> Result<String, AuthError> {
    let mut clients = Vec::new();
    let mut token = String::new();
    loop {
        let page = registry.list(0, &token).await?;
        clients.extend(page.clients);
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
                    "secrets": d.secrets.len(),
                })
            })
            .collect();
        return Ok(serde_json::Value::from(rows).to_string());
    }
    let mut out = format!("{:<32} {:<8} {}", "CLIENT_ID", "ACTIVE", "ALLOWED_SCOPES");
    for d in &clients {
        out.push_str(&format!(
            "\n{:<32} {:<8} {}",
            d.client.id.as_str(),
            d.client.is_active(),
            d.client.allowed_scopes
        ));
    }
    Ok(out)
}

async fn set_active(registry: &Registry, id: &str, active: bool) -> Result<String, AuthError> {
    registry.update(id, ClientChanges { active: Some(active), ..Default::default() }).await?;
    Ok(format!("client {id} is now {}", if active { "enabled" } else { "disabled" }))
}
