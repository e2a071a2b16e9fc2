//! `serve`: starts tokend, makes every case against it, writes `cases.json`
//! and keeps serving (tokend, and the two URLs cases point at: one that
//! rotates tokend's key and hands out a token signed by the new one, and
//! a tampered copy of a status list) until it is stopped.

use std::{collections::BTreeMap, net::SocketAddr, path::Path, sync::Arc};

use aws_lc_rs::digest::{SHA256, digest};
use axum::{Router, extract::State, http::header, routing::get, routing::post};
use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokend_client::DpopKey;
use tokend_common::status_list::{LIST_CAPACITY, STATUS_LIST_MEDIA_TYPE, StatusBits};

use crate::{
    cases::{Case, CaseFile, Settings},
    live::{Failure, Tokend, header as es256, payload},
};

/// The API the cases' tokens are for, and the call DPoP proofs name.
const AUDIENCE: &str = "orders";
const API_URL: &str = "https://orders.example/orders/42";

struct Control {
    tokend: Tokend,
    /// The URI of a real status list, and where its tampered copy is served.
    list_uri: String,
    tampered_uri: String,
}

pub async fn serve(out: &Path, expected: &Path) -> Result<(), Failure> {
    let tokend = Tokend::start().await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let control_url = format!("http://{}", listener.local_addr()?);
    let valid = tokend.source().token("", &[AUDIENCE]).await?.access_token;
    let list_uri =
        payload(&valid)?["status"]["status_list"]["uri"].as_str().ok_or("tokens carry a status")?.to_owned();
    let control = Arc::new(Control { tokend, list_uri, tampered_uri: format!("{control_url}/tampered") });
    let mut cases = make_cases(&control, &control_url, valid).await?;
    expect(&mut cases, expected)?;
    let file = CaseFile {
        issuer: control.tokend.issuer.clone(),
        audience: AUDIENCE.into(),
        settings: Settings {
            leeway_seconds: 10,
            refetch_interval_seconds: 0,
            dpop_proof_max_age_seconds: 600,
        },
        cases,
    };
    let app = Router::new()
        .route("/rotate", post(rotate))
        .route("/tampered", get(tampered))
        .with_state(control.clone());
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
    });
    let written = out.with_extension("partial");
    std::fs::write(&written, serde_json::to_vec_pretty(&file)?)?;
    std::fs::rename(&written, out)?;
    println!("cases ready in {} for {}", out.display(), control.tokend.issuer);
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Attaches to each case its outcomes from `expected` (name → outcomes), which must name every case and no other.
fn expect(cases: &mut [Case], expected: &Path) -> Result<(), Failure> {
    let mut outcomes: BTreeMap<String, Vec<String>> = serde_json::from_slice(&std::fs::read(expected)?)?;
    for case in cases.iter_mut() {
        case.expect = outcomes
            .remove(&case.name)
            .ok_or_else(|| format!("{} names no case {:?}", expected.display(), case.name))?;
    }
    match outcomes.keys().next() {
        Some(name) => Err(format!("{} expects a case {name:?} that is not made", expected.display()).into()),
        None => Ok(()),
    }
}

fn bearer(name: &str, token: String) -> Case {
    Case {
        name: name.into(),
        expect: Vec::new(),
        token,
        token_from: None,
        scheme: "Bearer".into(),
        dpop_proof: None,
        certificate: None,
        scopes: vec!["orders.read".into()],
        method: "GET".into(),
        url: API_URL.into(),
    }
}

fn with(claims: &Value, changes: Value) -> Value {
    let mut changed = claims.clone();
    for (name, value) in changes.as_object().into_iter().flatten() {
        changed[name] = value.clone();
    }
    changed
}

async fn make_cases(control: &Control, control_url: &str, valid: String) -> Result<Vec<Case>, Failure> {
    let tokend = &control.tokend;
    let claims = payload(&valid)?;
    let now = claims["iat"].as_i64().ok_or("tokens carry iat")?;
    let (header, body, _) = split(&valid)?;
    let mut cases = vec![
        bearer("valid, then again from the cache", valid.clone()),
        bearer("typ in its media-type form", tokend.sign(es256("application/at+jwt"), &claims).await?),
        bearer("expired", tokend.sign(es256("at+jwt"), &with(&claims, json!({"exp": now - 3600}))).await?),
        bearer(
            "not yet valid",
            tokend.sign(es256("at+jwt"), &with(&claims, json!({"nbf": now + 3600}))).await?,
        ),
        bearer("for another audience", tokend.source().token("", &["billing"]).await?.access_token),
        bearer(
            "from another issuer",
            tokend.sign(es256("at+jwt"), &with(&claims, json!({"iss": "https://evil.example"}))).await?,
        ),
        bearer("wrong typ", tokend.sign(es256("JWT"), &claims).await?),
        bearer(
            "alg none",
            format!("{}.{body}.", b64(&json!({"alg": "none", "typ": "at+jwt", "kid": kid(&header)?}))?),
        ),
        bearer("HS256 keyed with the public key", hs256_with_public_key(tokend, &header, &claims).await?),
        bearer("a claim changed under the signature", changed_claim(&valid, &claims)?),
        bearer("the high-s twin of a valid signature", tokend_common::ecdsa::jws_twin(&valid)),
        bearer("a claim name appears twice", named_twice(tokend, &claims).await?),
        bearer(
            "unknown kid",
            tokend.sign(Header { kid: Some("no-such-key".into()), ..es256("at+jwt") }, &claims).await?,
        ),
        bearer("not a JWT", "not-a-jwt".into()),
        bearer("no token", String::new()),
        Case {
            scopes: vec!["orders.write".into()],
            ..bearer("missing a scope the call needs", valid.clone())
        },
    ];
    cases.extend(certificate_cases(tokend, &claims).await?);
    cases.extend(dpop_cases(tokend).await?);
    let revoked = tokend.source().token("", &[AUDIENCE]).await?.access_token;
    tokend.revoke(&revoked).await?;
    cases.push(bearer("revoked through its status list", revoked));
    let tampered = json!({"status_list": {"idx": 0, "uri": control.tampered_uri}});
    cases.push(bearer(
        "its status list tampered with",
        tokend.sign(es256("at+jwt"), &with(&claims, json!({"status": tampered}))).await?,
    ));
    // Last: once a verifier asks for it, tokend signs with a key none has seen.
    cases.push(Case {
        token_from: Some(format!("{control_url}/rotate")),
        ..bearer("signed by a key rotated in after start", String::new())
    });
    Ok(cases)
}

async fn certificate_cases(tokend: &Tokend, claims: &Value) -> Result<Vec<Case>, Failure> {
    let [mine, other] =
        [certificate("spiffe://example.org/worker")?, certificate("spiffe://example.org/other")?];
    let x5t = URL_SAFE_NO_PAD.encode(digest(&SHA256, &mine));
    let bound = tokend.sign(es256("at+jwt"), &with(claims, json!({"cnf": {"x5t#S256": x5t}}))).await?;
    let presented = |name: &str, der: Option<&Vec<u8>>| Case {
        certificate: der.map(|der| STANDARD.encode(der)),
        ..bearer(name, bound.clone())
    };
    Ok(vec![
        presented("bound to the caller's certificate", Some(&mine)),
        presented("bound to another certificate", Some(&other)),
        presented("bound to a certificate, none presented", None),
    ])
}

async fn dpop_cases(tokend: &Tokend) -> Result<Vec<Case>, Failure> {
    let source = tokend.source().with_dpop(DpopKey::generate()?, &tokend.issuer);
    let token = source.token("", &[AUDIENCE]).await?.access_token;
    let key = source.dpop_key().ok_or("the source keeps its key")?.clone();
    let (other_key, other_token) =
        (DpopKey::generate()?, tokend.source().token("", &[AUDIENCE]).await?.access_token);
    let proved = |name: &str, proof: Option<String>| Case {
        scheme: "DPoP".into(),
        dpop_proof: proof,
        ..bearer(name, token.clone())
    };
    let proof =
        |key: &DpopKey, method: &str, url: &str, token: &str| Some(key.proof(method, url, Some(token), None));
    Ok(vec![
        proved("DPoP-bound, with a proof of its key for this call", proof(&key, "GET", API_URL, &token)),
        proved("DPoP proof signed by another key", proof(&other_key, "GET", API_URL, &token)),
        proved("DPoP proof for another URL", proof(&key, "GET", "https://orders.example/orders/43", &token)),
        proved("DPoP proof for another method", proof(&key, "POST", API_URL, &token)),
        proved("DPoP proof for another token (ath)", proof(&key, "GET", API_URL, &other_token)),
        proved("DPoP proof presented twice", proof(&key, "GET", API_URL, &token)),
        proved("DPoP scheme without a proof", None),
        bearer("DPoP-bound, presented as a bearer token", token.clone()),
    ])
}

fn split(token: &str) -> Result<(String, String, String), Failure> {
    let mut parts = token.splitn(3, '.').map(str::to_owned);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(body), Some(signature)) => Ok((header, body, signature)),
        _ => Err("a JWT has three parts".into()),
    }
}

fn b64(value: &Value) -> Result<String, Failure> {
    Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(value)?))
}

fn kid(header: &str) -> Result<String, Failure> {
    let decoded: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header)?)?;
    Ok(decoded["kid"].as_str().ok_or("tokens name their key")?.to_owned())
}

async fn hs256_with_public_key(tokend: &Tokend, header: &str, claims: &Value) -> Result<String, Failure> {
    let forged =
        Header { kid: Some(kid(header)?), typ: Some("at+jwt".into()), ..Header::new(Algorithm::HS256) };
    let secret = tokend.public_key_pem().await?;
    Ok(jsonwebtoken::encode(&forged, claims, &EncodingKey::from_secret(secret.as_bytes()))?)
}

/// A token for another audience followed by a second `aud` naming this one:
/// a verifier that reads the last member (JSON.parse, json.loads) accepts it.
async fn named_twice(tokend: &Tokend, claims: &Value) -> Result<String, Failure> {
    let first = serde_json::to_string(&with(claims, json!({"aud": ["billing"]})))?;
    let payload = format!("{},\"aud\":{}}}", first.strip_suffix('}').ok_or("an object")?, claims["aud"]);
    tokend.sign_payload(es256("at+jwt"), &payload).await
}

fn changed_claim(valid: &str, claims: &Value) -> Result<String, Failure> {
    let (header, _, signature) = split(valid)?;
    let widened = with(claims, json!({"scope": "orders.read orders.write tokend.admin"}));
    Ok(format!("{header}.{}.{signature}", b64(&widened)?))
}

fn certificate(uri: &str) -> Result<Vec<u8>, Failure> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.subject_alt_names = vec![rcgen::SanType::URI(rcgen::string::Ia5String::try_from(uri)?)];
    let key = rcgen::KeyPair::generate()?;
    Ok(params.self_signed(&key)?.der().to_vec())
}

async fn rotate(State(control): State<Arc<Control>>) -> Result<String, (http::StatusCode, String)> {
    let failed = |error: Failure| (http::StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
    control.tokend.rotate_key().await.map_err(failed)?;
    let token = control.tokend.source().token("", &[AUDIENCE]).await.map_err(|error| failed(error.into()))?;
    Ok(token.access_token)
}

/// The real list with every bit cleared under its original signature, as
/// someone between the verifier and tokend would serve it to un-revoke a token.
async fn tampered(
    State(control): State<Arc<Control>>,
) -> Result<([(header::HeaderName, &'static str); 1], String), http::StatusCode> {
    let fetched = async {
        let list = reqwest::get(&control.list_uri).await?.error_for_status()?.text().await?;
        let (header, body, signature) = split(&list)?;
        let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body)?)?;
        claims["sub"] = json!(control.tampered_uri);
        claims["status_list"]["lst"] = json!(StatusBits::new(LIST_CAPACITY).encode());
        Ok::<_, Failure>(format!("{header}.{}.{signature}", b64(&claims)?))
    };
    let tampered = fetched.await.map_err(|_| http::StatusCode::BAD_GATEWAY)?;
    Ok(([(header::CONTENT_TYPE, STATUS_LIST_MEDIA_TYPE)], tampered))
}
