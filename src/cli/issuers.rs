//! The `issuer` commands: trust a platform's tokens, list, stop trusting.

use serde_json::json;

use crate::{
    authority::{Actor, AuthError, Registry},
    cli::config::IssuerCommand,
    domain::{IssuerDraft, TrustedIssuer},
};

/// Runs one issuer command and returns what to print.
pub async fn run(registry: &Registry, command: IssuerCommand) -> Result<String, AuthError> {
    match command {
        IssuerCommand::Add {
            issuer,
            jwks_uri,
            jwks_file,
            discovery,
            audiences,
            max_assertion_lifetime,
            single_use,
        } => {
            let jwks = match jwks_file {
                None => String::new(),
                Some(path) => std::fs::read_to_string(&path).map_err(|err| {
                    AuthError::InvalidArgument(format!("cannot read the JWK Set {}: {err}", path.display()))
                })?,
            };
            let draft = IssuerDraft {
                issuer,
                jwks_uri,
                jwks,
                discovery,
                audiences,
                max_assertion_lifetime_seconds: max_assertion_lifetime,
                single_use,
            };
            let added = registry.add_trusted_issuer(draft, &Actor::cli()).await?;
            Ok(format!("trusted issuer {}", added.issuer))
        }
        IssuerCommand::List { json } => {
            let issuers = registry.list_trusted_issuers().await?;
            Ok(if json { as_json(&issuers) } else { as_table(&issuers) })
        }
        IssuerCommand::Remove { issuer } => {
            registry.remove_trusted_issuer(&issuer, &Actor::cli()).await?;
            Ok(format!("no longer trusting issuer {issuer}"))
        }
    }
}

/// Where an issuer's keys come from, in a few words.
fn keys(issuer: &TrustedIssuer) -> String {
    let draft = issuer.to_draft();
    match (draft.discovery, draft.jwks_uri.as_str()) {
        (true, _) => "discovery".into(),
        (false, "") => "inline jwks".into(),
        (false, uri) => uri.into(),
    }
}

fn as_json(issuers: &[TrustedIssuer]) -> String {
    let rows: Vec<_> = issuers
        .iter()
        .map(|issuer| {
            let draft = issuer.to_draft();
            json!({
                "issuer": draft.issuer,
                "jwks_uri": draft.jwks_uri,
                "discovery": draft.discovery,
                "audiences": draft.audiences,
                "max_assertion_lifetime_seconds": draft.max_assertion_lifetime_seconds,
                "single_use": draft.single_use,
            })
        })
        .collect();
    serde_json::Value::from(rows).to_string()
}

fn as_table(issuers: &[TrustedIssuer]) -> String {
    let mut out = format!("{:<50} {:<10} KEYS", "ISSUER", "MAX AGE");
    for issuer in issuers {
        out.push_str(&format!(
            "\n{:<50} {:<10} {}",
            issuer.issuer,
            issuer.max_assertion_lifetime,
            keys(issuer)
        ));
    }
    out
}
