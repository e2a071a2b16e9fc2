//! Out of file descriptors, the accept loop rests instead of spinning, and
//! serves again once descriptors are free. A binary of its own: it lowers the
//! process's open-file limit, which would starve tests running beside it.

use std::{sync::Arc, time::Duration};

use tokend::{
    authority::{Authority, KeySealer, Settings, SigningAlgorithm},
    domain::Audience,
    edge::connections::ConnectionLimits,
    edge::server,
    store::Store,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

fn open_file_limit() -> libc::rlimit {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) }, 0);
    limit
}

fn set_open_file_limit(limit: libc::rlimit) {
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd").unwrap().count() as u64
}

/// CPU time this process has used, user and system.
fn cpu_time() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) }, 0);
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_server_rests_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
    store.migrate().await.unwrap();
    let settings = Settings::new(
        "http://tokend.test".into(),
        Audience::parse("tokend").unwrap(),
        SigningAlgorithm::Es256,
        Arc::new(KeySealer::load_or_create(&dir.path().join("t.kek")).unwrap()),
    );
    let authority = Arc::new(Authority::start(store, settings).await.unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // A cap far above what the descriptors allow, so the accept loop meets EMFILE.
    let limits = ConnectionLimits {
        max_connections: 10_000,
        max_per_address: 0,
        header_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
    };
    tokio::spawn(server::serve(
        server::Listeners { main: listener, http: None, tls: None, metrics: None, proxies: None },
        authority,
        limits,
        std::future::pending(),
    ));

    let original = open_file_limit();
    set_open_file_limit(libc::rlimit { rlim_cur: open_descriptors() + 24, ..original });
    // Client and server ends share the limit: some connects may fail too.
    let mut silent = Vec::new();
    for _ in 0..20 {
        if let Ok(stream) = TcpStream::connect(address).await {
            silent.push(stream);
        }
    }
    assert!(silent.len() >= 12, "only {} connections were made", silent.len());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cpu_time();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let spent = cpu_time() - before;
    assert!(spent < Duration::from_millis(500), "the server spun for {spent:?} of CPU in 2 s");

    drop(silent);
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /oauth/v2/keys HTTP/1.1\r\nHost: tokend\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .expect("the server answers once descriptors are free")
        .unwrap();
    set_open_file_limit(original);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
