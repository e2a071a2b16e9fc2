//! Client certificates through a TLS-terminating proxy (RFC 9440, RFC 9700
//! §4.13): a real HAProxy terminates mTLS in front of the real tokend binary
//! and forwards the certificate in `Client-Cert`; tokend believes it from the
//! proxy's address only. Skipped, with a note, where HAProxy is not installed.

use std::{
    io::{BufRead, Write},
    net::TcpStream,
    path::Path,
    process::{Child, Command, Stdio},
    sync::Once,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;

use crate::support::{
    helpers::claims,
    pki::{ClientNames, TestPki},
};

/// The address HAProxy connects to tokend from: a trusted proxy's.
const PROXY_SOURCE: &str = "127.0.0.2";

/// A running child process, killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn haproxy_installed() -> bool {
    let found = Command::new("haproxy").arg("-v").output().is_ok_and(|out| out.status.success());
    if !found {
        static NOTE: Once = Once::new();
        NOTE.call_once(|| {
            let _ = writeln!(
                std::io::stderr(),
                "note: haproxy is missing (Debian's haproxy): the RFC 9440 tests are skipped"
            );
        });
    }
    found
}

/// tokend, trusting `PROXY_SOURCE` as a proxy and the test CA for client certificates; its address.
fn tokend(dir: &Path, pki: &TestPki) -> (Running, String) {
    let database = format!("sqlite://{}", dir.join("t.db").display());
    let created = Command::new(env!("CARGO_BIN_EXE_tokend"))
        .args([
            "client",
            "create",
            "--id",
            "mesh-worker",
            "--scopes",
            "orders.read",
            "--auth-method",
            "tls_client_auth",
        ])
        .args(["--tls-san-dns", "mesh-worker.example", "--bound-tokens"])
        .env("TOKEND_DATABASE_URL", &database)
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let client_ca = pki.files("unused").client_ca.unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokend"))
        .args(["serve", "--listen", "127.0.0.1:0", "--trusted-proxies", PROXY_SOURCE])
        .arg("--tls-client-ca")
        .arg(&client_ca)
        .env("TOKEND_DATABASE_URL", &database)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let line = std::io::BufReader::new(child.stdout.take().unwrap()).lines().next().unwrap().unwrap();
    let address = line.rsplit(' ').next().unwrap().to_owned();
    (Running(child), address)
}

/// HAProxy terminating mTLS (client certificates optional, checked against
/// the test CA) and forwarding each verified one in `Client-Cert`; its port.
fn haproxy(dir: &Path, pki: &TestPki, tokend: &str) -> (Running, u16) {
    pki.write_server_certificate("proxy");
    let files = pki.files("proxy");
    let pem = format!(
        "{}{}",
        std::fs::read_to_string(&files.cert).unwrap(),
        std::fs::read_to_string(&files.key).unwrap()
    );
    std::fs::write(dir.join("proxy.pem"), pem).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = format!(
        "defaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n\
         frontend mtls\n  bind 127.0.0.1:{port} ssl crt {pem} ca-file {ca} verify optional\n\
         \x20 http-request del-header Client-Cert\n  http-request del-header Client-Cert-Chain\n\
         \x20 http-request set-header Client-Cert :%[ssl_c_der,base64]: if {{ ssl_c_used }} {{ ssl_c_verify 0 }}\n\
         \x20 default_backend tokend\n\
         backend tokend\n  server tokend {tokend} source {PROXY_SOURCE}\n",
        pem = dir.join("proxy.pem").display(),
        ca = files.client_ca.unwrap().display(),
    );
    std::fs::write(dir.join("haproxy.cfg"), config).unwrap();
    let child = Command::new("haproxy").arg("-db").arg("-f").arg(dir.join("haproxy.cfg")).spawn().unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "HAProxy did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Running(child), port)
}

async fn token_request(client: &reqwest::Client, url: String, forged: Option<&str>) -> (u16, Value) {
    let mut request =
        client.post(url).form(&[("grant_type", "client_credentials"), ("client_id", "mesh-worker")]);
    if let Some(value) = forged {
        request = request.header("client-cert", value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_certificate_forwarded_by_a_trusted_proxy_authenticates_and_binds_and_nobody_else_can_forward_one()
{
    if !haproxy_installed() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new();
    let (_tokend, address) = tokend(dir.path(), &pki);
    let (_haproxy, port) = haproxy(dir.path(), &pki, &address);
    let worker = pki.client_certificate(ClientNames { dns: &["mesh-worker.example"], ..Default::default() });

    let through_proxy = reqwest::Client::builder()
        .use_preconfigured_tls(crate::support::pki::client_tls(&pki.ca_pem(), Some(&worker)))
        .build()
        .unwrap();
    let (status, answer) =
        token_request(&through_proxy, format!("https://127.0.0.1:{port}/oauth/v2/token"), None).await;
    assert_eq!(status, 200, "{answer}");
    let token = claims(answer["access_token"].as_str().unwrap());
    assert_eq!(
        token["cnf"]["x5t#S256"],
        tokend::domain::thumbprint(&worker.der),
        "bound to the forwarded certificate"
    );

    let without = reqwest::Client::builder()
        .use_preconfigured_tls(crate::support::pki::client_tls(&pki.ca_pem(), None))
        .build()
        .unwrap();
    let forged = format!(":{}:", STANDARD.encode(&worker.der));
    let (status, answer) =
        token_request(&without, format!("https://127.0.0.1:{port}/oauth/v2/token"), Some(&forged)).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("invalid_client")),
        "the proxy replaces what a client sends"
    );

    let direct = reqwest::Client::new();
    let (status, answer) =
        token_request(&direct, format!("http://{address}/oauth/v2/token"), Some(&forged)).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("invalid_client")),
        "not from a trusted proxy: ignored"
    );
}
