//! `verify`: the cases through the Rust verifier, as a service built on it
//! meets them: the `Authorization` and `DPoP` headers of a call, the
//! caller's certificate, the scopes the call needs.

use std::{path::Path, time::Duration};

use base64::{Engine, engine::general_purpose::STANDARD};
use http::{HeaderMap, HeaderValue, Method, Uri};
use tokend_client::{Call, PeerCertificate, Verifier, VerifyError};

use crate::{
    cases::{Case, CaseFile, Outcome},
    live::Failure,
};

pub async fn verify(cases: &Path, results: &Path) -> Result<(), Failure> {
    let file: CaseFile = serde_json::from_slice(&std::fs::read(cases)?)?;
    let settings = &file.settings;
    let verifier = Verifier::builder(&file.issuer, &file.audience)
        .leeway(Duration::from_secs(settings.leeway_seconds))
        .refetch_interval(Duration::from_secs(settings.refetch_interval_seconds))
        .dpop_proof_max_age(Duration::from_secs(settings.dpop_proof_max_age_seconds))
        .discover()
        .await?;
    let mut made = serde_json::Map::new();
    for case in &file.cases {
        let token = match &case.token_from {
            Some(url) => reqwest::Client::new().post(url).send().await?.error_for_status()?.text().await?,
            None => case.token.clone(),
        };
        let mut outcomes = Vec::new();
        for _ in &case.expect {
            outcomes.push(present(&verifier, case, &token).await?);
        }
        made.insert(case.name.clone(), serde_json::to_value(outcomes)?);
    }
    std::fs::write(results, serde_json::to_vec_pretty(&made)?)?;
    Ok(())
}

async fn present(verifier: &Verifier, case: &Case, token: &str) -> Result<Outcome, Failure> {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::AUTHORIZATION, HeaderValue::from_str(&format!("{} {token}", case.scheme))?);
    if let Some(proof) = &case.dpop_proof {
        headers.insert("dpop", HeaderValue::from_str(proof)?);
    }
    let certificate = match &case.certificate {
        Some(der) => Some(PeerCertificate(STANDARD.decode(der)?.into())),
        None => None,
    };
    let (method, uri): (Method, Uri) = (case.method.parse()?, case.url.parse()?);
    let call = Call { method: &method, uri: &uri };
    let answer = verifier.authorize_call(Some(call), &headers, certificate.as_ref(), &case.scopes).await;
    Ok(match answer {
        Ok(_) => Outcome { error: "ok".into(), description: String::new() },
        Err(refused) => Outcome { error: refused.oauth_error().into(), description: description(&refused) },
    })
}

fn description(refused: &VerifyError) -> String {
    match refused {
        VerifyError::MissingToken => "no bearer token".into(),
        VerifyError::InvalidToken(reason) | VerifyError::InvalidDpopProof(reason) => (*reason).into(),
        VerifyError::InsufficientScope { required } => format!("this call needs scope \"{required}\""),
        VerifyError::Unavailable(why) => why.clone(),
    }
}
