//! Client metadata documents (RFC 7591 §2): read into a draft of a tokend
//! client, and written back from a registered one. The standard names map
//! onto tokend's fields (`client_name`, `scope`, `grant_types`,
//! `token_endpoint_auth_method`, `jwks`, `jwks_uri`, RFC 8705's and RFC
//! 9449's); tokend's own fields keep their contract names. Metadata tokend
//! does not know is ignored, as RFC 7591 §2 says.

use serde_json::{Map, Value, json};

use crate::{
    authority::{AuthDraft, AuthError, ClientDraft},
    domain::{CertificateSubject, Client, GrantType, ScopeSet},
};

/// What RFC 7591 §2 makes of a client that names no method.
const DEFAULT_AUTH_METHOD: &str = "client_secret_basic";
/// Scopes of tokend's own (`tokend.admin`, `tokend.register`…): never registered by software.
const RESERVED_SCOPE_PREFIX: &str = "tokend.";

/// What registered clients may be given: scopes, audiences and claim names.
/// Software is trusted less than an administrator, so audiences and claims
/// (which resource servers read as authority: `roles`, `groups`…) are
/// refused unless the operator lists them.
#[derive(Debug, Clone, Default)]
pub struct MetadataPolicy {
    /// `None`: any scope but tokend's own (`--registration-allowed-scopes`).
    pub scopes: Option<ScopeSet>,
    /// The audiences a registered client may name (`--registration-allowed-audiences`); none by default.
    pub audiences: Vec<String>,
    /// The claim names a registered client may set (`--registration-allowed-claims`); none by default.
    pub claim_names: Vec<String>,
}

impl MetadataPolicy {
    /// The policy from its three flags' values, each space-separated.
    pub fn parse(scopes: &str, audiences: &str, claim_names: &str) -> Result<Self, String> {
        let scopes = match scopes.trim() {
            "" => None,
            scopes => Some(
                ScopeSet::parse_delimited(scopes)
                    .map_err(|err| format!("--registration-allowed-scopes: {}", err.0))?,
            ),
        };
        let words = |text: &str| text.split_whitespace().map(str::to_owned).collect();
        Ok(Self { scopes, audiences: words(audiences), claim_names: words(claim_names) })
    }

    fn check_scopes(&self, scopes: &[String]) -> Result<(), AuthError> {
        let refused = scopes.iter().find(|scope| {
            scope.starts_with(RESERVED_SCOPE_PREFIX)
                || self.scopes.as_ref().is_some_and(|allowed| !allowed.contains(scope))
        });
        match refused {
            Some(scope) => Err(invalid("scope", format!("scope {scope:?} may not be registered"))),
            None => Ok(()),
        }
    }

    fn check_audiences(&self, audiences: &[String]) -> Result<(), AuthError> {
        match audiences.iter().find(|audience| !self.audiences.contains(audience)) {
            Some(audience) => Err(invalid(
                "audiences",
                format!(
                    "audience {audience:?} may not be registered (the operator allows: {:?})",
                    self.audiences
                ),
            )),
            None => Ok(()),
        }
    }

    fn check_claims(&self, claims: &Map<String, Value>) -> Result<(), AuthError> {
        match claims.keys().find(|name| !self.claim_names.contains(name)) {
            Some(name) => Err(invalid(
                "claims",
                format!("claim {name:?} may not be registered (the operator allows: {:?})", self.claim_names),
            )),
            None => Ok(()),
        }
    }
}

/// A refusal of the metadata field `field` (RFC 7591 §3.2.2).
fn invalid(field: &'static str, message: String) -> AuthError {
    AuthError::InvalidClientMetadata { field, message }
}

/// Reads a client metadata document into a draft of client `client_id`,
/// with the scopes, audiences and claims `policy` allows.
pub fn draft(client_id: &str, document: &Value, policy: &MetadataPolicy) -> Result<ClientDraft, AuthError> {
    let Some(fields) = document.as_object() else {
        return Err(invalid("", "the client metadata must be a JSON object".into()));
    };
    let read = Fields(fields);
    let scopes: Vec<String> = read.string("scope")?.split_whitespace().map(str::to_owned).collect();
    policy.check_scopes(&scopes)?;
    let audiences = read.strings("audiences")?;
    policy.check_audiences(&audiences)?;
    let claims = match fields.get("claims") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(claims)) => claims.clone(),
        Some(_) => return Err(invalid("claims", "claims must be a JSON object".into())),
    };
    policy.check_claims(&claims)?;
    let default_scopes = match fields.contains_key("default_scopes") {
        true => read.strings("default_scopes")?,
        false => scopes.clone(),
    };
    let method = read.string("token_endpoint_auth_method")?;
    let grant_types = match fields.contains_key("grant_types") {
        true => read.strings("grant_types")?,
        false => vec![GrantType::ClientCredentials.as_str().to_owned()],
    };
    if grant_types.is_empty() {
        return Err(invalid("grant_types", "grant_types names no grant".into()));
    }
    let jwks = match fields.get("jwks") {
        None | Some(Value::Null) => String::new(),
        Some(set @ Value::Object(_)) => set.to_string(),
        Some(_) => return Err(invalid("jwks", "jwks must be a JWK Set as a JSON object".into())),
    };
    Ok(ClientDraft {
        client_id: client_id.to_owned(),
        display_name: read.string("client_name")?,
        allowed_scopes: scopes,
        default_scopes,
        audiences,
        token_ttl_seconds: read.integer("token_ttl_seconds")?,
        auth: AuthDraft {
            methods: vec![if method.is_empty() { DEFAULT_AUTH_METHOD.to_owned() } else { method }],
            tls_subject_dn: read.string("tls_client_auth_subject_dn")?,
            tls_san_dns: read.string("tls_client_auth_san_dns")?,
            tls_san_uri: read.string("tls_client_auth_san_uri")?,
            jwks,
            jwks_uri: read.string("jwks_uri")?,
            bound_tokens: read.flag("tls_client_certificate_bound_access_tokens")?,
            dpop_bound: read.flag("dpop_bound_access_tokens")?,
            federated: Vec::new(),
        },
        rate_limit_per_second: read.count("rate_limit_per_second")?,
        rate_limit_burst: read.count("rate_limit_burst")?,
        claims,
        grant_types,
        ..ClientDraft::default()
    })
}

/// The claims a JWT carries about itself, which a software statement's
/// metadata never includes.
const JWT_CLAIMS: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// `document` with the metadata of its verified software statement in
/// place of its own, as RFC 7591 §2.3 says: the statement's values win.
pub fn with_statement(document: &Value, statement: Map<String, Value>) -> Value {
    let mut merged = document.as_object().cloned().unwrap_or_default();
    merged.remove("software_statement");
    for (name, value) in statement {
        if !JWT_CLAIMS.contains(&name.as_str()) {
            merged.insert(name, value);
        }
    }
    Value::Object(merged)
}

/// A refusal of the registry, named by the metadata field it is about.
pub fn as_metadata_error(err: AuthError) -> AuthError {
    match err {
        AuthError::InvalidField { field, message } => {
            let field = match field {
                "display_name" => "client_name",
                "allowed_scopes" => "scope",
                "token_endpoint_auth_methods" => "token_endpoint_auth_method",
                other => other,
            };
            invalid(field, message)
        }
        other => other,
    }
}

/// The client's registered metadata, as RFC 7591 §3.2.1 answers it (without
/// the credentials, which the caller adds when it has them).
pub fn document(client: &Client) -> Map<String, Value> {
    let auth = &client.auth;
    let mut document = json!({
        "client_id": client.id.as_str(),
        "client_id_issued_at": client.created_at,
        "client_name": client.display_name,
        "scope": client.allowed_scopes.to_strings().join(" "),
        "default_scopes": client.default_scopes.to_strings(),
        "grant_types": client.grant_types.to_strings(),
        "token_endpoint_auth_method": auth.methods.to_strings().first().cloned().unwrap_or_default(),
        "audiences": client.audiences.to_strings(),
        "token_ttl_seconds": client.token_ttl.seconds(),
        "tls_client_certificate_bound_access_tokens": auth.bound_tokens,
        "dpop_bound_access_tokens": auth.dpop_bound,
    });
    let fields = document.as_object_mut().expect("an object");
    if let Some(jwks) = &auth.jwks {
        fields.insert("jwks".into(), serde_json::from_str(jwks.as_str()).unwrap_or(Value::Null));
    }
    if let Some(uri) = &auth.jwks_uri {
        fields.insert("jwks_uri".into(), uri.as_str().into());
    }
    let names = ["tls_client_auth_subject_dn", "tls_client_auth_san_dns", "tls_client_auth_san_uri"];
    for (name, value) in names.into_iter().zip(CertificateSubject::fields(auth.tls_subject.as_ref())) {
        if !value.is_empty() {
            fields.insert(name.into(), value.into());
        }
    }
    if let Some(limit) = client.rate_limit {
        fields.insert("rate_limit_per_second".into(), limit.per_second.into());
        fields.insert("rate_limit_burst".into(), limit.burst.into());
    }
    if let Some(claims) = client.claims.members() {
        fields.insert("claims".into(), Value::Object(claims.clone()));
    }
    std::mem::take(fields)
}

/// The members of a metadata document, read by type; an absent or `null`
/// member is the type's empty value.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|value| !value.is_null())
    }

    fn string(&self, name: &'static str) -> Result<String, AuthError> {
        match self.get(name) {
            None => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(_) => Err(invalid(name, format!("{name} must be a string"))),
        }
    }

    fn strings(&self, name: &'static str) -> Result<Vec<String>, AuthError> {
        let wrong = || invalid(name, format!("{name} must be an array of strings"));
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                items.iter().map(|item| item.as_str().map(str::to_owned).ok_or_else(wrong)).collect()
            }
            Some(_) => Err(wrong()),
        }
    }

    fn flag(&self, name: &'static str) -> Result<bool, AuthError> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(_) => Err(invalid(name, format!("{name} must be true or false"))),
        }
    }

    fn integer(&self, name: &'static str) -> Result<i64, AuthError> {
        match self.get(name) {
            None => Ok(0),
            Some(value) => value.as_i64().ok_or_else(|| invalid(name, format!("{name} must be an integer"))),
        }
    }

    fn count(&self, name: &'static str) -> Result<u32, AuthError> {
        let wrong = || invalid(name, format!("{name} must be a whole number"));
        u32::try_from(self.integer(name)?).map_err(|_| wrong())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_names_land_on_tokend_fields_and_defaults_are_rfc_7591s() {
        let document = json!({
            "client_name": "Billing", "scope": "invoices.read invoices.write",
            "redirect_uris": ["https://ignored.example/cb"], "software_version": "1.2",
        });
        let draft = draft("billing", &document, &MetadataPolicy::default()).unwrap();
        assert_eq!(draft.display_name, "Billing");
        assert_eq!(draft.allowed_scopes, ["invoices.read", "invoices.write"]);
        assert_eq!(draft.default_scopes, draft.allowed_scopes, "what it registered, unless it says");
        assert_eq!(draft.auth.methods, ["client_secret_basic"]);
        assert_eq!(draft.grant_types, ["client_credentials"]);
    }

    #[test]
    fn each_wrong_member_is_named() {
        let policy = MetadataPolicy::default();
        let cases = [
            (json!({"client_name": 7}), "client_name"),
            (json!({"grant_types": "client_credentials"}), "grant_types"),
            (json!({"grant_types": []}), "grant_types"),
            (json!({"jwks": "{}"}), "jwks"),
            (json!({"dpop_bound_access_tokens": "yes"}), "dpop_bound_access_tokens"),
            (json!({"rate_limit_per_second": -1}), "rate_limit_per_second"),
            (json!({"scope": "tokend.admin"}), "scope"),
            (json!({"audiences": ["orders-api"]}), "audiences"),
            (json!({"claims": {"roles": ["admin"]}}), "claims"),
            (json!([]), ""),
        ];
        for (document, named) in cases {
            match draft("c", &document, &policy) {
                Err(AuthError::InvalidClientMetadata { field, .. }) => assert_eq!(field, named, "{document}"),
                other => panic!("{document}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_configured_set_bounds_the_scopes() {
        let policy = MetadataPolicy::parse("orders.read", "", "").unwrap();
        assert!(draft("c", &json!({"scope": "orders.read"}), &policy).is_ok());
        assert!(draft("c", &json!({"scope": "orders.read orders.write"}), &policy).is_err());
    }

    #[test]
    fn audiences_and_claim_names_are_registered_only_as_the_operator_lists_them() {
        let policy = MetadataPolicy::parse("", "orders-api", "tenant").unwrap();
        let allowed = json!({"audiences": ["orders-api"], "claims": {"tenant": "acme"}});
        assert!(draft("c", &allowed, &policy).is_ok());
        for refused in
            [json!({"audiences": ["billing-api"]}), json!({"claims": {"tenant": "a", "groups": ["x"]}})]
        {
            assert!(draft("c", &refused, &policy).is_err(), "{refused}");
        }
    }
}
