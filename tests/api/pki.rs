//! Certificates made in the test: a CA, and server certificates it signs for
//! `localhost` and 127.0.0.1, written as PEM files the server reads.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokend::tls::TlsFiles;

/// A test CA and a directory for the files it signs.
pub struct TestPki {
    ca: CertifiedIssuer<'static, KeyPair>,
    dir: tempfile::TempDir,
}

impl TestPki {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "tokend test CA");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { ca, dir: tempfile::tempdir().unwrap() }
    }

    /// The CA certificate in PEM, for clients to trust.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A fresh server certificate and key in `name.crt` and `name.key`,
    /// overwriting earlier ones; the certificate's DER.
    pub fn write_server_certificate(&self, name: &str) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, format!("tokend {name}"));
        let certificate = params.signed_by(&key, &self.ca).unwrap();
        let files = self.files(name);
        std::fs::write(&files.cert, certificate.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        certificate.der().to_vec()
    }

    /// Where `name`'s certificate and key are written.
    pub fn files(&self, name: &str) -> TlsFiles {
        let path = |extension: &str| -> PathBuf { self.dir.path().join(format!("{name}.{extension}")) };
        TlsFiles { cert: path("crt"), key: path("key") }
    }
}
