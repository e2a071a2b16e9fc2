//! TLS for the listeners (rustls, TLS 1.2 and 1.3, ALPN `h2` and `http/1.1`):
//! the certificate and key are read from PEM files and read again when the
//! files change, so a renewed certificate is served without a restart, and
//! client certificates are asked for but never required, so clients with
//! secrets and clients with certificates share one port. A client
//! certificate is examined once per connection, including whether it chains
//! to the client CA; what it proves is the authority's decision.

use std::{
    fmt, fs, io,
    path::{Path, PathBuf},
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, SystemTime},
};

use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
    client::danger::HandshakeSignatureValid,
    crypto::{CryptoProvider, WebPkiSupportedAlgorithms},
    pki_types::{CertificateDer, PrivateKeyDer, UnixTime, pem::PemObject},
    server::{
        ClientHello, ResolvesServerCert, WebPkiClientVerifier,
        danger::{ClientCertVerified, ClientCertVerifier},
    },
    sign::CertifiedKey,
};

use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use x509_parser::{certificate::X509Certificate, prelude::FromDer};

use crate::domain::PeerCertificate;

/// How often the certificate and key files are checked for a change.
const RELOAD_CHECK: Duration = Duration::from_secs(2);

/// Where the server's certificate (a PEM chain, leaf first) and key live,
/// and the CA bundle client certificates must chain to for `tls_client_auth`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} holds no usable {what}")]
    Empty { path: PathBuf, what: &'static str },
    #[error("the TLS key does not fit the certificate or is not supported: {0}")]
    Key(rustls::Error),
    #[error("cannot configure TLS: {0}")]
    Config(rustls::Error),
    #[error("the certificate in {path} is not valid now: {why}")]
    Validity { path: PathBuf, why: String },
    #[error("the CA bundle {path} is not usable: {why}")]
    CaBundle { path: PathBuf, why: String },
}

/// The listeners' TLS: an acceptor whose certificate follows its files, and
/// the check of client certificates against the client CA, if there is one.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    certificate: Arc<ReloadingCertificate>,
    client_ca: Option<Arc<dyn ClientCertVerifier>>,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").field("files", &self.certificate.files).finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads the certificate and key; fails if either is unusable.
    pub fn load(files: TlsFiles) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let client_ca = match &files.client_ca {
            Some(path) => Some(client_ca(path, provider.clone())?),
            None => None,
        };
        let certificate = Arc::new(ReloadingCertificate::load(files, provider.clone())?);
        let mut config = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(TlsError::Config)?
            .with_client_cert_verifier(Arc::new(AnyClientCertificate {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_cert_resolver(certificate.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self { acceptor: TlsAcceptor::from(Arc::new(config)), certificate, client_ca })
    }

    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }

    /// What a connection's client certificate chain (leaf first) is: the
    /// handshake proved the peer holds the leaf's key; here its names are
    /// read and its chain checked against the client CA (including validity
    /// and the client-auth key usage). `None` for no usable certificate.
    pub fn examine(&self, chain: &[CertificateDer<'_>]) -> Option<Arc<PeerCertificate>> {
        examine(self.client_ca.as_deref(), chain)
    }

    /// Reads the files again whenever they change, until `stop` turns true.
    pub async fn follow_files(self, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(RELOAD_CHECK) => self.certificate.reload_if_changed(),
                _ = stop.wait_for(|stopping| *stopping) => return,
            }
        }
    }
}

/// The certificate and key in service, replaced when their files change.
struct ReloadingCertificate {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Loaded>,
}

/// A certificate and key as read, and when their files were last changed.
struct Loaded {
    key: Arc<CertifiedKey>,
    modified: (Option<SystemTime>, Option<SystemTime>),
}

impl fmt::Debug for ReloadingCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingCertificate").field("files", &self.files).finish_non_exhaustive()
    }
}

impl ReloadingCertificate {
    fn load(files: TlsFiles, provider: Arc<CryptoProvider>) -> Result<Self, TlsError> {
        let loaded = read(&files, &provider)?;
        if let Err(err) = valid_at(&loaded.key, SystemTime::now(), &files.cert) {
            tracing::warn!(error = %err, "serving a TLS certificate that clients will refuse");
        }
        Ok(Self { files, provider, current: RwLock::new(loaded) })
    }

    /// Reads the files again if either changed since they were read. A pair
    /// that does not load keeps the one in service, and says why.
    fn reload_if_changed(&self) {
        let modified = modified_times(&self.files);
        if self.current.read().unwrap_or_else(PoisonError::into_inner).modified == modified {
            return;
        }
        let loaded = read(&self.files, &self.provider)
            .and_then(|loaded| valid_at(&loaded.key, SystemTime::now(), &self.files.cert).map(|()| loaded));
        match loaded {
            Ok(loaded) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = loaded;
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
            }
            Err(err) => {
                tracing::error!(error = %err, "the changed TLS certificate or key is not usable; still serving the previous one");
                // Not again until the files change once more.
                self.current.write().unwrap_or_else(PoisonError::into_inner).modified = modified;
            }
        }
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().unwrap_or_else(PoisonError::into_inner).key.clone())
    }
}

fn modified_times(files: &TlsFiles) -> (Option<SystemTime>, Option<SystemTime>) {
    let modified = |path: &Path| fs::metadata(path).and_then(|meta| meta.modified()).ok();
    (modified(&files.cert), modified(&files.key))
}

fn read(files: &TlsFiles, provider: &CryptoProvider) -> Result<Loaded, TlsError> {
    let modified = modified_times(files);
    let unreadable = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Read { path, source }
    };
    let pem = fs::read(&files.cert).map_err(unreadable(&files.cert))?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&pem).filter_map(Result::ok).collect();
    if chain.is_empty() {
        return Err(TlsError::Empty { path: files.cert.clone(), what: "PEM certificate" });
    }
    let pem = fs::read(&files.key).map_err(unreadable(&files.key))?;
    let key = PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|_| TlsError::Empty { path: files.key.clone(), what: "PEM private key" })?;
    let key = CertifiedKey::from_der(chain, key, provider).map_err(TlsError::Key)?;
    Ok(Loaded { key: Arc::new(key), modified })
}

/// Whether the leaf certificate of `key` is within its validity at `now`;
/// why not, naming the file at `path`.
fn valid_at(key: &CertifiedKey, now: SystemTime, path: &Path) -> Result<(), TlsError> {
    let invalid = |why: String| TlsError::Validity { path: path.to_owned(), why };
    let leaf = key.end_entity_cert().map_err(|_| invalid("it holds no certificate".into()))?;
    let (_, leaf) =
        X509Certificate::from_der(leaf).map_err(|_| invalid("its certificate does not parse".into()))?;
    let seconds = now.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |since| since.as_secs() as i64);
    let validity = leaf.validity();
    if seconds < validity.not_before.timestamp() {
        return Err(invalid(format!("it is not valid before {}", validity.not_before)));
    }
    if seconds > validity.not_after.timestamp() {
        return Err(invalid(format!("it expired at {}", validity.not_after)));
    }
    Ok(())
}

/// The certificates of the PEM CA bundle at `path`; at least one.
pub fn ca_bundle(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let unusable = |why: String| TlsError::CaBundle { path: path.to_owned(), why };
    let pem = fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| unusable(err.to_string()))?;
    if certificates.is_empty() {
        return Err(unusable("it holds no PEM certificate".into()));
    }
    Ok(certificates)
}

/// A verifier of client certificates against the CA bundle at `path`.
/// What a client certificate chain (leaf first) is, checked against
/// `client_ca` when there is one: the same for a certificate presented on a
/// listener and one a trusted proxy forwards.
pub(super) fn examine(
    client_ca: Option<&dyn ClientCertVerifier>,
    chain: &[CertificateDer<'_>],
) -> Option<Arc<PeerCertificate>> {
    let (leaf, intermediates) = chain.split_first()?;
    let chains_to_ca =
        client_ca.is_some_and(|ca| ca.verify_client_cert(leaf, intermediates, UnixTime::now()).is_ok());
    let chain: Vec<&[u8]> = chain.iter().map(|der| der.as_ref()).collect();
    PeerCertificate::examine(&chain, chains_to_ca).map(Arc::new)
}

/// The check of client certificates against the CA bundle at `path`.
pub(super) fn client_ca(
    path: &Path,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let unusable = |why: String| TlsError::CaBundle { path: path.to_owned(), why };
    let mut roots = RootCertStore::empty();
    for certificate in ca_bundle(path)? {
        roots.add(certificate).map_err(|err| unusable(err.to_string()))?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|err| unusable(err.to_string()))
}

/// Asks every client for a certificate and takes whatever it presents, or
/// none: whether a certificate proves anything is for the authority to
/// decide against the client's registration, not for the handshake. The
/// handshake still checks that the client holds the certificate's key.
#[derive(Debug)]
struct AnyClientCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, signature, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, signature, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
