//! The server under test: a tokend process this benchmark starts on a fresh
//! SQLite database (and stops when dropped), or one already running elsewhere.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType,
};

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
    transport::{Certificate, Channel, ClientTlsConfig, Identity},
};

/// The client that authenticates by certificate in the mTLS scenario, and its SPIFFE ID.
pub const CERTIFICATE_CLIENT: &str = "bench-mtls";
const CERTIFICATE_CLIENT_URI: &str = "spiffe://bench.example/worker";

/// The certificates of a TLS run: the CA (which also signs client
/// certificates) and a client certificate and key for [`CERTIFICATE_CLIENT`].
struct RunCertificates {
    ca_pem: String,
    client_identity: (String, String),
}

/// How the driven client is registered, beyond its id and scopes.
#[derive(Debug, Default)]
pub struct BenchClient {
    /// Requests a second (and as many at once) it may make.
    pub rate_limit: Option<u32>,
    /// A JSON file of claims added to its tokens.
    pub claims_file: Option<std::path::PathBuf>,
}

pub struct Server {
    pub address: String,
    pub client_id: String,
    pub client_secret: String,
    /// The CA that signed the server's certificate, when it speaks TLS.
    ca_pem: Option<String>,
    /// The certificate and key of [`CERTIFICATE_CLIENT`], when the server speaks TLS.
    client_identity: Option<(String, String)>,
    /// How to start the server again, when this benchmark started it.
    serve: Option<Serve>,
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
            client_identity: None,
            serve: None,
            process: None,
            _dir: None,
        }
    }

    /// Bootstraps a client with the CLI (with `rate_limit`, if given), starts
    /// `tokend serve` on port 0 (with `tls`, over TLS with a certificate made
    /// here) and registers `clients - 1` more clients through ClientAdmin.
    pub async fn start(
        binary: Option<PathBuf>,
        clients: usize,
        tls: bool,
        client: BenchClient,
    ) -> Result<Self, Box<dyn std::error::Error>> {
        let binary = match binary {
            Some(path) => path,
            None => std::env::current_exe()?.with_file_name("tokend"),
        };
        let dir = tempfile::tempdir()?;
        let database_url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let scopes = format!("{ADMIN_SCOPE} {INTROSPECT_SCOPE}");
        let mut create = Command::new(&binary);
        create
            .env("TOKEND_DATABASE_URL", &database_url)
            .env("RUST_LOG", "warn")
            .args(["client", "create", "--id", "bench", "--json"])
            .args(["--scopes", &scopes, "--default-scopes", &scopes]);
        if let Some(limit) = client.rate_limit {
            create.args(["--rate-limit", &limit.to_string(), "--burst", &limit.to_string()]);
        }
        if let Some(file) = &client.claims_file {
            create.arg("--claims-file").arg(file);
        }
        let created = create.output().await?;
        if !created.status.success() {
            return Err(
                format!("tokend client create failed: {}", String::from_utf8_lossy(&created.stderr)).into()
            );
        }
        let created: serde_json::Value = serde_json::from_slice(&created.stdout)?;
        let mut serve = Serve {
            binary,
            database_url,
            args: vec!["serve".into(), "--listen".into(), "127.0.0.1:0".into()],
        };
        let certificates = if tls { Some(write_certificates(dir.path(), &mut serve.args)?) } else { None };
        let (process, address) = serve.spawn().await?;
        let server = Self {
            address,
            client_id: "bench".into(),
            client_secret: created["client_secret"].as_str().ok_or("no secret")?.to_owned(),
            ca_pem: certificates.as_ref().map(|c| c.ca_pem.clone()),
            client_identity: certificates.map(|c| c.client_identity),
            serve: Some(serve),
            process: Some(process),
            _dir: Some(dir),
        };
        server.register_clients(clients.saturating_sub(1)).await?;
        if server.client_identity.is_some() {
            server.register_certificate_client().await?;
        }
        Ok(server)
    }

    /// Kills the server (SIGKILL, as a crash or an evicted pod) and starts it
    /// again on the same database; its address changes.
    pub async fn restart(&mut self) -> Result<(), Box<dyn std::error::Error>> {
        let serve = self.serve.as_ref().ok_or("only a server this benchmark started can be restarted")?;
        if let Some(mut process) = self.process.take() {
            process.kill().await?;
        }
        let (process, address) = serve.spawn().await?;
        self.process = Some(process);
        self.address = address;
        Ok(())
    }

    /// The base URL: https when the server speaks TLS.
    pub fn base_url(&self) -> String {
        let scheme = if self.ca_pem.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.address)
    }

    pub async fn channel(&self) -> Result<Channel, tonic::transport::Error> {
        self.connect(false).await
    }

    /// A channel that presents [`CERTIFICATE_CLIENT`]'s certificate; `None`
    /// when the server does not speak TLS.
    pub async fn certificate_channel(&self) -> Result<Option<Channel>, tonic::transport::Error> {
        if self.client_identity.is_none() {
            return Ok(None);
        }
        self.connect(true).await.map(Some)
    }

    async fn connect(&self, with_identity: bool) -> Result<Channel, tonic::transport::Error> {
        let mut endpoint = Channel::from_shared(self.base_url()).expect("a valid URI");
        if let Some(ca) = &self.ca_pem {
            let mut tls =
                ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)).domain_name("localhost");
            if let (true, Some((cert, key))) = (with_identity, &self.client_identity) {
                tls = tls.identity(Identity::from_pem(cert, key));
            }
            endpoint = endpoint.tls_config(tls)?;
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
            ..Default::default()
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

    /// Registers [`CERTIFICATE_CLIENT`]: `tls_client_auth` by its SPIFFE ID, bound tokens.
    async fn register_certificate_client(&self) -> Result<(), Box<dyn std::error::Error>> {
        let channel = self.channel().await?;
        let mut request = Request::new(pb::CreateClientRequest {
            client_id: CERTIFICATE_CLIENT.into(),
            allowed_scopes: vec!["orders.read".into()],
            default_scopes: vec!["orders.read".into()],
            token_endpoint_auth_methods: vec!["tls_client_auth".into()],
            tls_client_auth_san_uri: CERTIFICATE_CLIENT_URI.into(),
            tls_client_certificate_bound_access_tokens: true,
            ..Default::default()
        });
        request.metadata_mut().insert("authorization", self.admin_bearer(&channel).await?);
        ClientAdminClient::new(channel).create_client(request).await?;
        Ok(())
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

/// How the benchmark runs `tokend serve`.
struct Serve {
    binary: PathBuf,
    database_url: String,
    args: Vec<OsString>,
}

impl Serve {
    /// Starts the server and reads the address it prints.
    async fn spawn(&self) -> Result<(Child, String), Box<dyn std::error::Error>> {
        let mut process = Command::new(&self.binary)
            .env("TOKEND_DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .args(&self.args)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let mut line = String::new();
        BufReader::new(process.stdout.take().ok_or("no stdout")?).read_line(&mut line).await?;
        let address = line.trim().rsplit(' ').next().ok_or("no address line")?.to_owned();
        Ok((process, address))
    }
}

/// A throwaway CA, a certificate it signs for 127.0.0.1 (named on the `serve`
/// command line with the CA as the client CA, the files beside the database)
/// and a client certificate it signs for [`CERTIFICATE_CLIENT`].
fn write_certificates(
    dir: &Path,
    serve: &mut Vec<OsString>,
) -> Result<RunCertificates, Box<dyn std::error::Error>> {
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;
    let key = KeyPair::generate()?;
    let certificate =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?.signed_by(&key, &ca)?;
    let (cert_file, key_file, ca_file) = (dir.join("server.pem"), dir.join("server.key"), dir.join("ca.pem"));
    std::fs::write(&cert_file, certificate.pem())?;
    std::fs::write(&key_file, key.serialize_pem())?;
    std::fs::write(&ca_file, ca.pem())?;
    for (flag, file) in [("--tls-cert", cert_file), ("--tls-key", key_file), ("--tls-client-ca", ca_file)] {
        serve.extend([OsString::from(flag), file.into_os_string()]);
    }

    let client_key = KeyPair::generate()?;
    let mut client = CertificateParams::new(Vec::<String>::new())?;
    client.subject_alt_names.push(SanType::URI(CERTIFICATE_CLIENT_URI.try_into()?));
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = client.signed_by(&client_key, &ca)?;
    Ok(RunCertificates { ca_pem: ca.pem(), client_identity: (client.pem(), client_key.serialize_pem()) })
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
