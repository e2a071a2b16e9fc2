//! Certificate-bound tokens end to end, over real TLS on every hop: a
//! workload with only a certificate gets a bound token through
//! `TokenSource::with_certificate`, and a resource server behind
//! `VerifyLayer` accepts it only from that certificate.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType,
};
use tokend::{
    authority::{Actor, AuthDraft, ClientDraft},
    edge::tls::{Tls, TlsFiles},
};
use tokend_client::{BearerLayer, TlsIdentity, TokenSource, Verifier, VerifyLayer};
use tonic::{
    Code,
    transport::{Certificate, Channel, ClientTlsConfig, Identity, ServerTlsConfig, server::TcpIncoming},
};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tower::Layer;

use crate::server::{claims, server_tls};

const WORKLOAD: &str = "spiffe://example.org/ns/orders/sa/worker";

/// A CA, and the certificates it signs, in a directory of their own.
struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { ca, dir: tempfile::tempdir().unwrap() }
    }

    /// A certificate for `localhost` and its key, in PEM.
    fn server(&self) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        (params.signed_by(&key, &self.ca).unwrap().pem(), key.serialize_pem())
    }

    /// tokend's TLS: a server certificate, and this CA as the client CA.
    fn tokend_tls(&self) -> Tls {
        let (cert, key) = self.server();
        let files = TlsFiles {
            cert: self.dir.path().join("tokend.crt"),
            key: self.dir.path().join("tokend.key"),
            client_ca: Some(self.dir.path().join("ca.pem")),
        };
        std::fs::write(&files.cert, cert).unwrap();
        std::fs::write(&files.key, key).unwrap();
        std::fs::write(files.client_ca.as_ref().unwrap(), self.ca.pem()).unwrap();
        Tls::load(files).unwrap()
    }

    /// A client certificate naming `uri`, signed by this CA.
    fn client(&self, uri: &str) -> TlsIdentity {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names.push(SanType::URI(uri.try_into().unwrap()));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let certificate = params.signed_by(&key, &self.ca).unwrap();
        TlsIdentity { ca_pem: self.ca.pem(), cert_pem: certificate.pem(), key_pem: key.serialize_pem() }
    }
}

/// A health service over TLS that asks for (but does not require) client
/// certificates from this CA, behind `VerifyLayer`; its address.
async fn guarded_api(pki: &Pki, verifier: Verifier) -> String {
    let (_, health) = tonic_health::server::health_reporter();
    let (cert, key) = pki.server();
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(cert, key))
        .client_ca_root(Certificate::from_pem(pki.ca.pem()))
        .client_auth_optional(true);
    let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = incoming.local_addr().unwrap();
    let service = tonic::transport::Server::builder()
        .tls_config(tls)
        .unwrap()
        .layer(VerifyLayer::new(verifier))
        .add_service(health);
    tokio::spawn(service.serve_with_incoming(incoming));
    format!("https://localhost:{}", address.port())
}

/// Calls the API with `source`'s token on a connection presenting `identity`.
async fn call(
    api: &str,
    pki: &Pki,
    identity: Option<&TlsIdentity>,
    source: &TokenSource,
) -> Result<(), tonic::Status> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pki.ca.pem()));
    if let Some(identity) = identity {
        tls = tls.identity(Identity::from_pem(&identity.cert_pem, &identity.key_pem));
    }
    let channel =
        Channel::from_shared(api.to_owned()).unwrap().tls_config(tls).unwrap().connect().await.unwrap();
    let bearer = BearerLayer::new(source.clone(), "orders.read", ["orders"]);
    HealthClient::new(bearer.layer(channel)).check(HealthCheckRequest::default()).await.map(drop)
}

#[tokio::test]
async fn a_bound_token_is_accepted_only_from_the_certificate_it_is_bound_to() {
    // Another test may have named it already.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let pki = Pki::new();
    let server = server_tls(pki.tokend_tls(), &pki.ca.pem()).await;
    let worker = ClientDraft {
        client_id: "mesh-worker".into(),
        allowed_scopes: vec!["orders.read".into()],
        audiences: vec!["orders".into()],
        auth: AuthDraft {
            methods: vec!["tls_client_auth".into()],
            tls_san_uri: WORKLOAD.into(),
            bound_tokens: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let (_, secret) = server.authority.registry().create(worker, &Actor::cli()).await.unwrap();
    assert!(secret.is_none(), "the workload has no secret anywhere");

    let workload = pki.client(WORKLOAD);
    let source = TokenSource::with_certificate(&server.issuer, &workload, "mesh-worker").unwrap();
    let token = source.token("orders.read", &["orders"]).await.expect("a token for the certificate");
    assert!(claims(&token.access_token)["cnf"]["x5t#S256"].is_string(), "the token is bound");

    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let verifier = Verifier::builder(&server.issuer, "orders").http_client(https).discover().await.unwrap();
    let api = guarded_api(&pki, verifier).await;

    call(&api, &pki, Some(&workload), &source).await.expect("the workload's own certificate");
    let impostor = pki.client("spiffe://example.org/ns/orders/sa/impostor");
    let refused = call(&api, &pki, Some(&impostor), &source).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let refused = call(&api, &pki, None, &source).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
}
