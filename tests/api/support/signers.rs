//! Stand-ins for those who sign assertions: signing keys made in the test
//! (a client's own, a platform's), and a real HTTP server on loopback that
//! publishes their JWK Sets and discovery documents and can be told to
//! hang or to answer with far too much.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header, jwk::Jwk};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// The Unix time now.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A private key made in the test, and its public half as a JWK.
pub struct SigningKey {
    pub kid: String,
    pub algorithm: Algorithm,
    encoding: EncodingKey,
    /// The raw public key, which an Ed25519 JWK carries as is.
    public_raw: Vec<u8>,
}

impl SigningKey {
    /// A fresh key for `algorithm` (ES256, ES384, EdDSA, RS256 or PS256).
    pub fn generate(algorithm: Algorithm, kid: &str) -> Self {
        let rcgen_algorithm = match algorithm {
            Algorithm::ES256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Algorithm::ES384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            Algorithm::EdDSA => &rcgen::PKCS_ED25519,
            _ => &rcgen::PKCS_RSA_SHA256,
        };
        let pair = rcgen::KeyPair::generate_for(rcgen_algorithm).unwrap();
        let pem = pair.serialize_pem();
        let encoding = match algorithm {
            Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .unwrap();
        Self { kid: kid.into(), algorithm, encoding, public_raw: pair.public_key_raw().to_vec() }
    }

    /// The public key as a JWK with this key's `kid`.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = if self.algorithm == Algorithm::EdDSA {
            // jsonwebtoken reads only the shortest PKCS#8 form of an Ed25519 key.
            json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(&self.public_raw)})
        } else {
            serde_json::to_value(Jwk::from_encoding_key(&self.encoding, self.algorithm).unwrap()).unwrap()
        };
        let jwk = jwk.as_object_mut().unwrap();
        jwk.remove("alg");
        jwk.insert("kid".into(), json!(self.kid));
        jwk.insert("use".into(), json!("sig"));
        Value::Object(jwk.clone())
    }

    /// The signature of `message` with this key, base64url as JWS writes it.
    pub fn signature(&self, message: &[u8]) -> String {
        jsonwebtoken::crypto::sign(message, &self.encoding, self.algorithm).unwrap()
    }

    /// `claims` signed with this key, its `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with(Header::new(self.algorithm), claims)
    }

    /// `claims` signed with this key under `header`, given this key's `kid`.
    pub fn sign_with(&self, mut header: Header, claims: &Value) -> String {
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }
}

/// A JWK Set of the public halves of `keys`.
pub fn jwks(keys: &[&SigningKey]) -> String {
    json!({ "keys": keys.iter().map(|key| key.public_jwk()).collect::<Vec<_>>() }).to_string()
}

/// How the key server answers one path.
#[derive(Clone)]
enum Reply {
    Json {
        body: String,
        max_age: u32,
    },
    /// Accepts the request and never answers.
    Hang,
    /// A 200 with a 10 MiB body.
    Huge,
    /// A redirect to another URL.
    Redirect(String),
}

/// An HTTP/1.1 server on loopback that serves what a test sets, counting requests.
#[derive(Clone)]
pub struct KeyServer {
    base: String,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl KeyServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = KeyServer {
            base: format!("http://{}", listener.local_addr().unwrap()),
            routes: Arc::default(),
            hits: Arc::default(),
        };
        let serving = server.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serving.clone().answer(stream));
            }
        });
        server
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The base URL, as an issuer identifier.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Serves `body` as JSON at `path`, cacheable for `max_age` seconds.
    pub fn serve(&self, path: &str, body: &str, max_age: u32) {
        self.set(path, Reply::Json { body: body.into(), max_age });
    }

    /// Serves a discovery document for this server as an issuer, naming `jwks_path`.
    pub fn serve_discovery(&self, jwks_path: &str) {
        let document = json!({ "issuer": self.base, "jwks_uri": self.url(jwks_path) });
        self.serve("/.well-known/openid-configuration", &document.to_string(), 300);
    }

    pub fn hang(&self, path: &str) {
        self.set(path, Reply::Hang);
    }

    pub fn huge(&self, path: &str) {
        self.set(path, Reply::Huge);
    }

    pub fn redirect(&self, path: &str, to: &str) {
        self.set(path, Reply::Redirect(to.into()));
    }

    /// How many requests for `path` arrived.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.into(), reply);
    }

    async fn answer(self, mut stream: TcpStream) {
        let mut request = Vec::new();
        let mut buffer = [0u8; 1024];
        while !request.windows(4).any(|window| window == b"\r\n\r\n") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buffer[..n]),
            }
        }
        let request = String::from_utf8_lossy(&request);
        let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
        *self.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
        let reply = self.routes.lock().unwrap().get(&path).cloned();
        let response = match reply {
            None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
            Some(Reply::Json { body, max_age }) => format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: max-age={max_age}\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
            Some(Reply::Redirect(to)) => {
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            }
            Some(Reply::Hang) => {
                std::future::pending::<()>().await;
                unreachable!()
            }
            Some(Reply::Huge) => {
                let size = 10 * 1024 * 1024;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let chunk = vec![b' '; 64 * 1024];
                for _ in 0..size / chunk.len() {
                    if stream.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
                return;
            }
        };
        let _ = stream.write_all(response.as_bytes()).await;
    }
}
