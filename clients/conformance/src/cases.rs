//! The cases as files: what the case server writes and every verifier reads,
//! and what each verifier answers.

use serde::{Deserialize, Serialize};

/// `cases.json`: where the tokens come from and what to do with each.
#[derive(Serialize, Deserialize)]
pub struct CaseFile {
    pub issuer: String,
    pub audience: String,
    pub settings: Settings,
    pub cases: Vec<Case>,
}

/// How every verifier is set up, so they differ in nothing but language.
#[derive(Serialize, Deserialize)]
pub struct Settings {
    pub leeway_seconds: u64,
    /// 0: a token naming an unknown key sends every verifier to the JWKS at once.
    pub refetch_interval_seconds: u64,
    /// Long enough for all three verifiers to run after the proofs were made.
    pub dpop_proof_max_age_seconds: u64,
}

#[derive(Serialize, Deserialize)]
pub struct Case {
    pub name: String,
    /// The outcome of each presentation in turn: `ok` or the OAuth error code.
    pub expect: Vec<String>,
    /// The token; or, with `token_from`, fetched by POSTing there when the case runs.
    #[serde(default)]
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_from: Option<String>,
    /// `Bearer` or `DPoP`: the `Authorization` scheme the token comes with.
    pub scheme: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_proof: Option<String>,
    /// base64 of the DER of the caller's client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    pub scopes: Vec<String>,
    pub method: String,
    pub url: String,
}

/// What one verifier made of one presentation.
#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Debug)]
pub struct Outcome {
    /// `ok` or the OAuth error code.
    pub error: String,
    pub description: String,
}
