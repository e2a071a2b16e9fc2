//! `TestApp`: one server per test on its own database, plus helpers to make
//! clients and read errors.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::{Arc, Once},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use tokend::{
    authority::{
        AssertionSettings, Authority, ClientDraft, DpopSettings, KeyPolicy, KeySealer, RegistrationSettings,
        Registry, Settings, SigningAlgorithm, StatusListSettings,
    },
    contract::pb::{self, client_admin_client::ClientAdminClient, token_service_client::TokenServiceClient},
    domain::Audience,
    edge::connections::ConnectionLimits,
    edge::server,
    edge::tls::Tls,
    store::Store,
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::{
    Code, Request, Status,
    metadata::MetadataValue,
    transport::{Certificate, Channel, ClientTlsConfig},
};
use tonic_types::StatusExt;

pub use crate::support::pki::{ClientCertificate, ClientNames, TestPki, client_tls};
pub use tokend::authority::Actor;

pub const DEFAULT_AUDIENCE: &str = "tokend";

/// How a test's server is started, beyond its database.
pub struct Launch {
    /// Where it listens; port 0 picks one.
    pub address: String,
    /// `None`: the server's own base URL.
    pub issuer: Option<String>,
    pub algorithm: SigningAlgorithm,
    pub key_policy: KeyPolicy,
    pub dpop: DpopSettings,
    pub status_lists: StatusListSettings,
    pub limits: ConnectionLimits,
    /// The server's TLS set-up and the CA certificate its clients trust.
    pub tls: Option<(Tls, String)>,
    pub registration: RegistrationSettings,
    pub assertions: AssertionSettings,
}

impl Default for Launch {
    fn default() -> Self {
        Self {
            address: "127.0.0.1:0".into(),
            issuer: None,
            algorithm: SigningAlgorithm::Es256,
            key_policy: KeyPolicy::default(),
            dpop: DpopSettings::default(),
            status_lists: StatusListSettings::default(),
            limits: ConnectionLimits::default(),
            tls: None,
            registration: RegistrationSettings::default(),
            assertions: AssertionSettings::default(),
        }
    }
}

/// Which database a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each test body once on SQLite and once on PostgreSQL. The PostgreSQL
/// half runs when `TOKEND_TEST_POSTGRES_URL` is set and is skipped, with a
/// note on the terminal, when it is not.
macro_rules! on_both_stores {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $app = $crate::support::helpers::TestApp::spawn($crate::support::helpers::Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let Some($app) = $crate::support::helpers::TestApp::spawn($crate::support::helpers::Backend::Postgres).await else {
                        return;
                    };
                    $body
                }
            )*
        }
    };
    // Tests that start their own server (over TLS, say) take the backend instead.
    ($(async fn $name:ident($backend:ident: Backend) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $backend = $crate::support::helpers::Backend::Sqlite;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let $backend = $crate::support::helpers::Backend::Postgres;
                    $body
                }
            )*
        }
    };
}

/// A test's database, and the key file that seals its signing keys; a
/// PostgreSQL one is dropped when the last holder goes.
struct Database {
    url: String,
    backend: Backend,
    key_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Database {
    /// A SQLite file or PostgreSQL database at `url` (`None`: a SQLite file),
    /// with a key file in a directory of its own.
    fn new(backend: Backend, url: Option<String>) -> Database {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("tokend.db").display()));
        Database { url, backend, key_file: dir.path().join("tokend.kek"), _dir: dir }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Backend::Postgres = self.backend {
            drop_postgres_database(self.url.clone());
        }
    }
}

/// A running server on a database of its own.
pub struct TestApp {
    base_url: String,
    pub tokens: TokenServiceClient<Channel>,
    pub admin: ClientAdminClient<Channel>,
    pub channel: Channel,
    pub authority: Arc<Authority>,
    pub registry: Registry,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    database: Arc<Database>,
}

impl TestApp {
    /// Starts a server on a fresh database; `None` when PostgreSQL is not configured.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, Launch::default()).await
    }

    /// Starts a server on a fresh database as `launch` says; `None` when
    /// PostgreSQL is not configured.
    pub async fn spawn_with(backend: Backend, launch: Launch) -> Option<TestApp> {
        if std::env::var_os("TEST_LOG").is_some() {
            tokend::observe::telemetry::init(
                "debug,sqlx=info,h2=info,tower=info,hyper=info",
                Default::default(),
            );
        }
        let database = match backend {
            Backend::Sqlite => Database::new(backend, None),
            Backend::Postgres => Database::new(backend, Some(fresh_postgres_database().await?)),
        };
        let url = database.url.clone();
        Some(Self::start_on(Arc::new(database), &url, launch).await)
    }

    /// A server on the SQLite file of `url` (which must not exist yet).
    pub async fn spawn_on_sqlite(url: &str) -> TestApp {
        let database = Database::new(Backend::Sqlite, Some(url.to_owned()));
        Self::start_on(Arc::new(database), url, Launch::default()).await
    }

    /// A server on a fresh SQLite file whose connections live within `limits`.
    pub async fn spawn_with_limits(limits: ConnectionLimits) -> TestApp {
        let database = Arc::new(Database::new(Backend::Sqlite, None));
        let url = database.url.clone();
        Self::start_on(database, &url, Launch { limits, ..Launch::default() }).await
    }

    /// A server speaking TLS only, with the certificate `pki` wrote as `name`;
    /// its clients trust `pki`'s CA. `None` when PostgreSQL is not configured.
    pub async fn spawn_tls(backend: Backend, pki: &TestPki, name: &str) -> Option<TestApp> {
        let tls = (Tls::load(pki.files(name)).expect("the test certificate loads"), pki.ca_pem());
        Self::spawn_with(backend, Launch { tls: Some(tls), ..Launch::default() }).await
    }

    /// A server on a fresh PostgreSQL database that it reaches only through
    /// `proxy`, so a test can cut the line; `None` when PostgreSQL is not configured.
    pub async fn spawn_behind_proxy() -> Option<(TestApp, Proxy)> {
        let url = fresh_postgres_database().await?;
        let mut parsed = url::Url::parse(&url).unwrap();
        let upstream = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap_or(5432));
        let proxy = Proxy::start(upstream).await;
        parsed.set_port(Some(proxy.port)).unwrap();
        let database = Database::new(Backend::Postgres, Some(url));
        let served = Self::start_on(Arc::new(database), parsed.as_str(), Launch::default()).await;
        Some((served, proxy))
    }

    /// Another server on the same database and issuer, as in a deployment of
    /// several instances behind one name.
    pub async fn second_instance(&self, algorithm: SigningAlgorithm) -> TestApp {
        self.another_instance(Launch { algorithm, ..Launch::default() }).await
    }

    /// Another server on the same database and issuer, started as `launch`
    /// says (its issuer is this one's).
    pub async fn another_instance(&self, launch: Launch) -> TestApp {
        let database = self.database.clone();
        let url = database.url.clone();
        Self::start_on(database, &url, Launch { issuer: Some(self.base_url.clone()), ..launch }).await
    }

    /// Serves as `launch` says; the issuer is the server's own base URL
    /// (unless given), so the URLs discovery publishes can be fetched.
    async fn start_on(database: Arc<Database>, url: &str, launch: Launch) -> TestApp {
        let Launch {
            address,
            issuer,
            algorithm,
            key_policy,
            dpop,
            status_lists,
            limits,
            tls,
            registration,
            assertions,
        } = launch;
        let store = Store::connect(url).await.expect("the test database connects");
        store.migrate().await.expect("migrations apply");
        let listeners = server::Listeners {
            main: TcpListener::bind(&address).await.unwrap(),
            http: None,
            tls: tls.as_ref().map(|(tls, _)| tls.clone()),
            metrics: None,
            proxies: None,
        };
        let base_url = listeners.base_url().unwrap();
        let settings = Settings {
            key_policy,
            dpop,
            status_lists,
            registration,
            assertions,
            ..Settings::new(
                issuer.unwrap_or_else(|| base_url.clone()),
                Audience::parse(DEFAULT_AUDIENCE).unwrap(),
                algorithm,
                Arc::new(KeySealer::load_or_create(&database.key_file).unwrap()),
            )
        };
        let authority = Arc::new(Authority::start(store, settings).await.expect("the authority starts"));
        let registry = authority.registry().clone();
        let (shutdown, stop) = oneshot::channel::<()>();
        let server = tokio::spawn(server::serve(listeners, authority.clone(), limits, async {
            let _ = stop.await;
        }));
        let mut endpoint = Channel::from_shared(base_url.clone()).unwrap();
        if let Some((_, ca)) = &tls {
            let trust =
                ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)).domain_name("localhost");
            endpoint = endpoint.tls_config(trust).unwrap();
        }
        let channel = endpoint.connect().await.unwrap();
        TestApp {
            base_url,
            tokens: TokenServiceClient::new(channel.clone()),
            admin: ClientAdminClient::new(channel.clone()),
            channel,
            registry,
            authority,
            shutdown: Some(shutdown),
            server: Some(server),
            database,
        }
    }

    /// The issuer: `http://127.0.0.1:PORT`, where both gRPC and HTTP answer.
    pub fn issuer(&self) -> &str {
        &self.base_url
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// `form` POSTed to the HTTP token endpoint as client `id`
    /// (`client_secret_basic`): the status and the JSON answer.
    pub async fn post_token_form(
        &self,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let response = reqwest::Client::new()
            .post(self.url("/oauth/v2/token"))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    /// The file holding the key that seals this database's signing keys.
    pub fn key_file(&self) -> &Path {
        &self.database.key_file
    }

    /// Stops the server gracefully and starts a new one on the same database
    /// and address, as after a crash or a deploy.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await;
        let database = self.database.clone();
        let address = self.base_url.trim_start_matches("http://").to_owned();
        drop(self);
        let url = database.url.clone();
        Self::start_on(database, &url, Launch { address, ..Launch::default() }).await
    }

    /// Signals shutdown and waits for the server to drain and return.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("the server task ends cleanly");
        }
    }

    /// Registers a client straight in the registry, as `tokend client create` does.
    pub async fn create_client(&self, id: &str, allowed: &str, default: &str, audiences: &[&str]) -> String {
        let draft = ClientDraft {
            client_id: id.into(),
            allowed_scopes: allowed.split_whitespace().map(str::to_owned).collect(),
            default_scopes: default.split_whitespace().map(str::to_owned).collect(),
            audiences: audiences.iter().map(|a| a.to_string()).collect(),
            ..ClientDraft::default()
        };
        let (_, secret) = self.registry.create(draft, &Actor::cli()).await.expect("the client is created");
        secret.expect("a secret client has a secret").expose().to_owned()
    }

    /// An access token for the client, with credentials in the request body.
    pub async fn token(&self, id: &str, secret: &str, scope: &str) -> pb::IssueTokenResponse {
        self.tokens
            .clone()
            .issue_token(token_request(id, secret, scope))
            .await
            .expect("a token is issued")
            .into_inner()
    }

    /// A client holding `tokend.admin` and a token for it.
    pub async fn admin_token(&self) -> String {
        let secret = self.create_client("root-admin", "tokend.admin", "tokend.admin", &[]).await;
        self.token("root-admin", &secret, "").await.access_token
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The tokend binary, on `app`'s database and key file, logging warnings only.
pub fn tokend_command(app: &TestApp) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tokend"));
    command
        .env("TOKEND_DATABASE_URL", app.database_url())
        .env("TOKEND_KEY_ENCRYPTION_KEY_FILE", app.key_file())
        .env("RUST_LOG", "warn");
    command
}

/// Output lines of a tokend in a child process.
pub type ChildLines = std::io::Lines<std::io::BufReader<std::process::ChildStdout>>;

/// `tokend serve` in a child process on `app`'s database, on a free port,
/// with `args` added: the child, its output lines after the first, and the
/// address the first says it listens on.
pub fn serve_in_child<S: AsRef<std::ffi::OsStr>>(
    app: &TestApp,
    args: impl IntoIterator<Item = S>,
) -> (std::process::Child, ChildLines, String) {
    serve_child(tokend_command(app), args)
}

/// [`serve_in_child`] with a command of the caller's (another database, say).
pub fn serve_child<S: AsRef<std::ffi::OsStr>>(
    mut command: std::process::Command,
    args: impl IntoIterator<Item = S>,
) -> (std::process::Child, ChildLines, String) {
    use std::io::BufRead;
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the tokend binary runs");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("tokend says where it listens").unwrap();
    let address = first.trim_start_matches("tokend listening on ").to_owned();
    (child, lines, address)
}

/// A TokenService client of the server at `address` (host:port, plaintext).
pub async fn token_service_at(address: &str) -> pb::token_service_client::TokenServiceClient<Channel> {
    let channel = Channel::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
    pb::token_service_client::TokenServiceClient::new(channel)
}

/// A wrong secret of the shape a guesser who knows `secret`'s id would send:
/// the one kind of guess that costs argon2.
pub fn guess_at(secret: &str) -> String {
    let id = tokend::domain::ClientSecret::presented(secret).claimed_id().expect("one of tokend's secrets");
    tokend::domain::ClientSecret::generate_with_id(&id).expose().to_owned()
}

pub fn token_request(id: &str, secret: &str, scope: &str) -> pb::IssueTokenRequest {
    pb::IssueTokenRequest {
        grant_type: "client_credentials".into(),
        client_id: id.into(),
        client_secret: secret.into(),
        scope: scope.into(),
        ..Default::default()
    }
}

/// A TCP relay in front of PostgreSQL that a test can cut, as a network
/// partition or a database crash would, and restore on the same port.
pub struct Proxy {
    pub port: u16,
    upstream: String,
    relay: std::sync::Mutex<Option<JoinHandle<()>>>,
    links: Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy { port, upstream, relay: Default::default(), links: Arc::default() };
        proxy.relay_from(listener);
        proxy
    }

    fn relay_from(&self, listener: TcpListener) {
        let (upstream, spawned) = (self.upstream.clone(), self.links.clone());
        let relay = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                spawned.lock().unwrap().push(link);
            }
        });
        *self.relay.lock().unwrap() = Some(relay);
    }

    /// Closes the listener and every relayed connection.
    pub fn cut(&self) {
        if let Some(relay) = self.relay.lock().unwrap().take() {
            relay.abort();
        }
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// Listens again on the same port, as a database back from a crash.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.expect("the port is free again");
        self.relay_from(listener);
    }
}

/// `message` with `authorization: Basic …` metadata, each half form-encoded.
pub fn with_basic<T>(message: T, id: &str, secret: &str) -> Request<T> {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let credentials = STANDARD.encode(format!("{}:{}", encode(id), encode(secret)));
    with_authorization(message, &format!("Basic {credentials}"))
}

/// A JSON object as the contract's Struct field, encoded by prost's own
/// `Struct`, as a client would send it.
pub fn wire_struct(value: serde_json::Value) -> tokend::grpc::EncodedStruct {
    use prost::Message as _;
    let serde_json::Value::Object(members) = value else { panic!("an object") };
    let encoded = tokend_common::structs::to_struct(&members).encode_to_vec();
    tokend::grpc::EncodedStruct::decode(encoded.as_slice()).expect("a Struct decodes")
}

/// A Struct field as prost's own `Struct` reads it off the wire, as a client would.
pub fn read_struct(field: &tokend::grpc::EncodedStruct) -> prost_types::Struct {
    use prost::Message as _;
    prost_types::Struct::decode(field.encode_to_vec().as_slice()).expect("a Struct field decodes")
}

pub fn with_bearer<T>(message: T, token: &str) -> Request<T> {
    with_authorization(message, &format!("Bearer {token}"))
}

pub fn with_authorization<T>(message: T, value: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", MetadataValue::try_from(value).unwrap());
    request
}

/// Asserts the status code and the OAuth error code carried in ErrorInfo.
pub fn assert_error(status: &Status, code: Code, reason: &str) {
    assert_eq!(status.code(), code, "{status:?}");
    let details = status.get_error_details();
    let info = details.error_info().unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.reason, reason, "{status:?}");
    assert_eq!(info.domain, "tokend");
}

/// The JSON claims of a JWT, read without checking anything.
pub fn claims(token: &str) -> serde_json::Value {
    part(token, 1)
}

pub fn header(token: &str) -> serde_json::Value {
    part(token, 0)
}

fn part(token: &str, index: usize) -> serde_json::Value {
    let segment = token.split('.').nth(index).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(segment).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn fresh_postgres_database() -> Option<String> {
    let Ok(base) = std::env::var("TOKEND_TEST_POSTGRES_URL") else {
        static NOTE: Once = Once::new();
        NOTE.call_once(|| {
            // Written past libtest's capture so it shows in a plain `cargo test`.
            let _ = writeln!(
                std::io::stderr(),
                "note: TOKEND_TEST_POSTGRES_URL is not set: the PostgreSQL half of the suite is skipped"
            );
        });
        return None;
    };
    use sqlx::migrate::MigrateDatabase;
    sqlx::any::install_default_drivers();
    let mut url = url::Url::parse(&base).expect("TOKEND_TEST_POSTGRES_URL is a URL");
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).unwrap();
    let name: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    url.set_path(&format!("tokend_test_{name}"));
    sqlx::Any::create_database(url.as_str())
        .await
        .expect("PostgreSQL is reachable at TOKEND_TEST_POSTGRES_URL");
    Some(url.to_string())
}

/// Drops a test database from a thread of its own: `Drop` cannot await.
fn drop_postgres_database(url: String) {
    let _ = std::thread::spawn(move || {
        use sqlx::migrate::MigrateDatabase;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let _ = runtime.block_on(sqlx::Any::force_drop_database(&url));
    })
    .join();
}

/// Runs futures at once and collects their outputs in order.
pub async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("the request task ends"));
    }
    outputs
}
