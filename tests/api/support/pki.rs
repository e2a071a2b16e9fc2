//! Certificates made in the test: a CA, server certificates it signs for
//! `localhost` and 127.0.0.1 (written as PEM files the server reads), and
//! client certificates of every shape RFC 8705 cares about.

use std::{path::PathBuf, sync::Arc};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    IsCa, KeyPair, SanType, date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokend::edge::tls::TlsFiles;

/// A rustls client configuration that trusts `ca_pem` and, given an
/// `identity`, presents it as its client certificate.
pub fn client_tls(ca_pem: &str, identity: Option<&ClientCertificate>) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap()).unwrap();
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
    match identity {
        None => config.with_no_client_auth(),
        Some(identity) => {
            let chain = vec![CertificateDer::from(identity.der.clone())];
            let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).unwrap();
            config.with_client_auth_cert(chain, key).unwrap()
        }
    }
}

/// A client certificate and its key, in PEM, and the certificate's DER.
pub struct ClientCertificate {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

/// What a client certificate names, and whether it is long expired.
#[derive(Default)]
pub struct ClientNames<'a> {
    /// Subject attributes, most general first as DER lists them: `[("O", "Example"), ("CN", "orders")]`.
    pub subject: &'a [(&'a str, &'a str)],
    pub dns: &'a [&'a str],
    pub uris: &'a [&'a str],
    pub expired: bool,
}

impl ClientNames<'_> {
    fn params(&self) -> CertificateParams {
        let mut params =
            CertificateParams::new(self.dns.iter().map(|d| d.to_string()).collect::<Vec<_>>()).unwrap();
        let mut subject = DistinguishedName::new();
        for (kind, value) in self.subject {
            let kind = match *kind {
                "CN" => DnType::CommonName,
                "O" => DnType::OrganizationName,
                "OU" => DnType::OrganizationalUnitName,
                "C" => DnType::CountryName,
                other => panic!("no DnType for {other}"),
            };
            subject.push(kind, *value);
        }
        params.distinguished_name = subject;
        for uri in self.uris {
            params.subject_alt_names.push(SanType::URI((*uri).try_into().unwrap()));
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        if self.expired {
            params.not_before = date_time_ymd(2020, 1, 1);
            params.not_after = date_time_ymd(2021, 1, 1);
        }
        params
    }

    /// A certificate for these names that signs itself.
    pub fn self_signed(&self) -> ClientCertificate {
        let key = KeyPair::generate().unwrap();
        let certificate = self.params().self_signed(&key).unwrap();
        ClientCertificate {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            der: certificate.der().to_vec(),
        }
    }
}

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
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("client-ca.pem"), ca.pem()).unwrap();
        Self { ca, dir }
    }

    /// The CA certificate in PEM, for clients to trust.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A fresh server certificate and key in `name.crt` and `name.key`,
    /// overwriting earlier ones; the certificate's DER.
    pub fn write_server_certificate(&self, name: &str) -> Vec<u8> {
        self.write_server_certificate_valid(name, None)
    }

    /// The same, valid only from the first of January of one year to that
    /// of another when `years` are given (else from now on).
    pub fn write_server_certificate_valid(&self, name: &str, years: Option<(i32, i32)>) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, format!("tokend {name}"));
        if let Some((from, until)) = years {
            (params.not_before, params.not_after) = (date_time_ymd(from, 1, 1), date_time_ymd(until, 1, 1));
        }
        let certificate = params.signed_by(&key, &self.ca).unwrap();
        let files = self.files(name);
        std::fs::write(&files.cert, certificate.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        certificate.der().to_vec()
    }

    /// A client certificate for `names`, signed by this CA.
    pub fn client_certificate(&self, names: ClientNames<'_>) -> ClientCertificate {
        let key = KeyPair::generate().unwrap();
        let certificate = names.params().signed_by(&key, &self.ca).unwrap();
        ClientCertificate {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            der: certificate.der().to_vec(),
        }
    }

    /// Where `name`'s certificate and key are written; the test CA is the client CA too.
    pub fn files(&self, name: &str) -> TlsFiles {
        let path = |extension: &str| -> PathBuf { self.dir.path().join(format!("{name}.{extension}")) };
        TlsFiles {
            cert: path("crt"),
            key: path("key"),
            client_ca: Some(self.dir.path().join("client-ca.pem")),
        }
    }
}
