//! The server under test: a tokend process this benchmark starts on a fresh
//! SQLite database (and stops when dropped), or one already running elsewhere.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

use tokend_client::pb::{
    self, client_admin_client::ClientAdminClient, token_service_client::TokenServiceClient,
};
use tokend_common::wire::{ADMIN_SCOPE, INTROSPECT_SCOPE};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::Semaphore,
};
use tonic::{
    Request,
    metadata::{Ascii, MetadataValue},
    transport::{Certificate, Channel, ClientTlsConfig},
};

pub struct Server {
    pub address: String,
    pub client_id: String,
    pub client_secret: String,
    /// The CA that signed the server's certificate, when it speaks TLS.
    ca_pem: Option<String>,
    process: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    pub fn target(address: &str, client_id: String, client_secret: String) -> Self {
        Self {
            address: address.to_owned(),
            client_id,
            client_secret,
            ca_pem: None,
            process: None,
            _dir: None,
        }
    }

    /// Bootstraps a client with the CLI, starts `tokend serve` on port 0 (with
    /// `tls`, over TLS with a certificate made here) and registers
    /// `clients - 1` more clients through ClientAdmin.
    pub async fn start(
        binary: Option<PathBuf>,
        clients: usize,
        tls: bool,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let binary = match binary {
            Some(path) => path,
            None => std::env::current_exe()?.with_file_name("tokend"),
        };
        let dir = tempfile::tempdir()?;
        let database_url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let scopes = format!("{ADMIN_SCOPE} {INTROSPECT_SCOPE}");
        let created = Command::new(&binary)
            .env("TOKEND_DATABASE_URL", &database_url)
            .env("RUST_LOG", "warn")
            .args(["client", "create", "--id", "bench", "--json"])
            .args(["--scopes", &scopes, "--default-scopes", &scopes])
            .output()
            .await?;
        if !created.status.success() {
            return Err(
                format!("tokend client create failed: {}", String::from_utf8_lossy(&created.stderr)).into()
            );
        }
        let created: serde_json::Value = serde_json::from_slice(&created.stdout)?;
        let mut serve = Command::new(&binary);
        serve.env("TOKEND_DATABASE_URL", &database_url).env("RUST_LOG", "warn");
        serve.args(["serve", "--listen", "127.0.0.1:0"]);
        let ca_pem = if tls { Some(write_certificates(dir.path(), &mut serve)?) } else { None };
        let mut process = serve.stdout(Stdio::piped()).kill_on_drop(true).spawn()?;
        let mut line = String::new();
        BufReader::new(process.stdout.take().ok_or("no stdout")?).read_line(&mut line).await?;
        let address = line.trim().rsplit(' ').next().ok_or("no address line")?.to_owned();
        let server = Self {
            address,
            client_id: "bench".into(),
            client_secret: created["client_secret"].as_str().ok_or("no secret")?.to_owned(),
            ca_pem,
            process: Some(process),
            _dir: Some(dir),
        };
        server.register_clients(clients.saturating_sub(1)).await?;
        Ok(server)
    }

    /// The base URL: https when the server speaks TLS.
    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.address)
    }

    pub async fn channel(&self) -> Result<Channel, tonic::transport::Error> {
        let mut endpoint = Channel::from_shared(self.base_url()).expect("a valid URI");
        if let Some(ca) = &self.ca_pem {
            let trust =
                ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)).domain_name("localhost");
            endpoint = endpoint.tls_config(trust)?;
        }
        endpoint.connect().await
    }

    /// An HTTP client that trusts the server, pooling up to `connections`.
    pub fn http_client(&self, connections: usize) -> Result<reqwest::Client, reqwest::Error> {
        let mut builder = reqwest::Client::builder().pool_max_idle_per_host(connections);
        if let Some(ca) = &self.ca_pem {
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes())?);
        }
        builder.build()
    }

    pub fn issue_request(&self, secret: &str) -> pb::IssueTokenRequest {
        pb::IssueTokenRequest {
            grant_type: "client_credentials".into(),
            client_id: self.client_id.clone(),
            client_secret: secret.to_owned(),
            scope: String::new(),
            audience: Vec::new(),
        }
    }

    /// The server's peak resident set (VmHWM) in KiB, when it is our child.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let pid = self.process.as_ref()?.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// `Bearer <token>` for the benchmark's own client, which holds `tokend.admin`.
    pub async fn admin_bearer(
        &self,
        channel: &Channel,
    ) -> Result<MetadataValue<Ascii>, Box<dyn std::error::Error>> {
        let token = TokenServiceClient::new(channel.clone())
            .issue_token(self.issue_request(&self.client_secret))
            .await?
            .into_inner()
            .access_token;
        Ok(format!("Bearer {token}").parse()?)
    }

    async fn register_clients(&self, count: usize) -> Result<(), Box<dyn std::error::Error>> {
        if count == 0 {
            return Ok(());
        }
        let channel = self.channel().await?;
        let bearer = self.admin_bearer(&channel).await?;
        let in_flight = Arc::new(Semaphore::new(16));
        let mut tasks = Vec::with_capacity(count);
        for i in 0..count {
            let permit = in_flight.clone().acquire_owned().await?;
            let (channel, bearer) = (channel.clone(), bearer.clone());
            tasks.push(tokio::spawn(async move {
                let outcome = create_client(channel, bearer, format!("fleet-{i:05}")).await.map(drop);
                drop(permit);
                outcome
            }));
        }
        for task in tasks {
            task.await??;
        }
        Ok(())
    }
}

/// A throwaway CA and a certificate it signs for 127.0.0.1, written beside the
/// database and named on the `serve` command line; the CA's PEM.
fn write_certificates(dir: &Path, serve: &mut Command) -> Result<String, Box<dyn std::error::Error>> {
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let certificate =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?.signed_by(&key, &ca)?;
    let (cert_file, key_file) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert_file, certificate.pem())?;
    std::fs::write(&key_file, key.serialize_pem())?;
    serve.arg("--tls-cert").arg(cert_file).arg("--tls-key").arg(key_file);
    Ok(ca.pem())
}

/// Registers a client like a service of a fleet through ClientAdmin; its secret.
pub async fn create_client(
    channel: Channel,
    bearer: MetadataValue<Ascii>,
    client_id: String,
) -> Result<String, tonic::Status> {
    let mut request = Request::new(pb::CreateClientRequest {
        client_id,
        allowed_scopes: vec!["orders.read".into(), "orders.write".into()],
        default_scopes: vec!["orders.read".into()],
        audiences: vec!["orders-api".into()],
        ..Default::default()
    });
    request.metadata_mut().insert("authorization", bearer);
    Ok(ClientAdminClient::new(channel).create_client(request).await?.into_inner().client_secret)
}
