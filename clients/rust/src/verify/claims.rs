//! What a verified token says about its bearer.

use serde::{Deserialize, Deserializer};

use super::{Confirmation, TokenStatus, VerifyError};

/// The claims of a verified access token (RFC 9068). A [`VerifyLayer`](super::VerifyLayer)
/// puts them in the request's extensions for handlers to read.
#[derive(Clone, Debug, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub client_id: String,
    /// One or many audiences; a JWT may carry either form.
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// Space-delimited granted scopes.
    #[serde(default)]
    pub scope: String,
    pub exp: i64,
    #[serde(default)]
    pub nbf: i64,
    #[serde(default)]
    pub iat: i64,
    #[serde(default)]
    pub jti: String,
    /// What the token is bound to, if it is (RFC 8705 §3); see [`Claims::confirm`].
    #[serde(default)]
    pub cnf: Option<Confirmation>,
    /// Where the token's status sits in a Token Status List, which the
    /// local verifier reads for every use of the token.
    #[serde(default)]
    pub status: Option<TokenStatus>,
    /// Every other claim: those the client's registration fixes (a tenant, an
    /// environment, a role) and any the issuer adds; see [`Claims::claim`].
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Claims {
    /// A claim beyond the standard ones, such as one the client's registration fixes.
    pub fn claim(&self, name: &str) -> Option<&serde_json::Value> {
        self.other.get(name)
    }

    /// The granted scopes, one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|scope| !scope.is_empty())
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes().any(|granted| granted == scope)
    }

    /// `InsufficientScope` naming every scope in `required` unless all were granted.
    pub fn require_scopes<S: AsRef<str>>(&self, required: &[S]) -> Result<(), VerifyError> {
        require_scopes(&self.scope, required)
    }
}

/// `InsufficientScope` naming every scope in `required` unless the
/// space-delimited `granted` holds them all.
pub(crate) fn require_scopes<S: AsRef<str>>(granted: &str, required: &[S]) -> Result<(), VerifyError> {
    let has = |scope: &str| granted.split(' ').any(|one| one == scope);
    if required.iter().all(|scope| has(scope.as_ref())) {
        return Ok(());
    }
    let required = required.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" ");
    Err(VerifyError::InsufficientScope { required })
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(audience) => vec![audience],
        OneOrMany::Many(audiences) => audiences,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Claims {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn an_audience_may_be_one_string_or_a_list() {
        let one = claims(r#"{"iss":"i","sub":"s","aud":"orders","exp":1}"#);
        let many = claims(r#"{"iss":"i","sub":"s","aud":["orders","billing"],"exp":1}"#);
        assert_eq!(one.aud, ["orders"]);
        assert_eq!(many.aud, ["orders", "billing"]);
    }

    #[test]
    fn every_required_scope_must_be_granted() {
        let granted = claims(r#"{"iss":"i","sub":"s","aud":"a","exp":1,"scope":"orders.read orders.write"}"#);
        assert!(granted.require_scopes(&["orders.read", "orders.write"]).is_ok());
        assert!(granted.require_scopes::<&str>(&[]).is_ok());
        let missing = granted.require_scopes(&["orders.read", "orders.admin"]).unwrap_err();
        assert!(
            matches!(missing, VerifyError::InsufficientScope { ref required } if required == "orders.read orders.admin")
        );
        assert!(!granted.has_scope("orders"), "scopes match whole words only");
    }
}
