//! Connections: accepted under a cap and a per-address share, served as
//! HTTP/1.1 or HTTP/2, and closed when they stay silent or idle (or, at the
//! cap, when idle the longest), so sockets held open by a careless or hostile
//! peer can neither use up the process's file descriptors nor keep others out.

mod activity;
mod roster;

use std::{
    io,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::{Router, http::Request};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto::Builder,
    service::TowerToHyperService,
};
use tokend_common::wire::DPOP_HEADER;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
};
use tower::ServiceExt;

use self::roster::{Roster, Seat};
use crate::{
    domain::{Peer, PeerCertificate, ReachedUrl},
    edge::forwarded::{Forwarded, TrustedProxies},
    edge::tls::Tls,
    limits::DRAIN_TIMEOUT,
};

/// How long the accept loop rests when the process is out of file descriptors.
const DESCRIPTOR_BACKOFF: Duration = Duration::from_millis(250);
/// HTTP/2 peers are pinged this often when quiet, and dropped when a ping goes
/// unanswered for [`PING_TIMEOUT`]: a dead peer does not hold a connection.
const PING_INTERVAL: Duration = Duration::from_secs(30);
const PING_TIMEOUT: Duration = Duration::from_secs(10);
/// Descriptors kept free below the process limit for the database, files and logs.
const DESCRIPTOR_RESERVE: u64 = 64;
/// How often a connection waiting for a slot asks again for the longest idle
/// one to make room, while every connection has a call in flight.
const ROOM_RETRY: Duration = Duration::from_secs(1);

/// What a peer may hold open, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Open connections at most; past it, the one idle the longest is closed
    /// to make room, and while every one has a call in flight new ones wait
    /// in the listen backlog.
    pub max_connections: usize,
    /// Open connections one source address may hold (0 for no limit); more
    /// from it are closed as soon as they are accepted.
    pub max_per_address: usize,
    /// How long a new connection may take to send its first request, and an
    /// HTTP/1.1 connection its next request's headers.
    pub header_timeout: Duration,
    /// How long an HTTP/2 connection may stay open with no call in flight.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            max_per_address: 256,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

impl ConnectionLimits {
    /// These limits with `max_connections` lowered, if need be, to what the
    /// process's file-descriptor limit allows, and `max_per_address` to half
    /// of that, so one address never holds every slot.
    pub fn within_descriptor_limit(self) -> Self {
        let allowed = descriptor_limit().map_or(u64::MAX, |limit| limit.saturating_sub(DESCRIPTOR_RESERVE));
        let max = (self.max_connections as u64).min(allowed.max(1)) as usize;
        if max < self.max_connections {
            tracing::warn!(
                requested = self.max_connections,
                allowed = max,
                "--max-connections lowered to fit the open-file limit (raise it with `ulimit -n`)"
            );
        }
        let half = (max / 2).max(1);
        let per_address = match self.max_per_address {
            0 => 0,
            requested if requested > half => {
                tracing::info!(
                    requested,
                    allowed = half,
                    "--max-connections-per-address lowered to half the cap"
                );
                half
            }
            requested => requested,
        };
        Self { max_connections: max, max_per_address: per_address, ..self }
    }
}

fn descriptor_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes only into the struct it is given.
    let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    (read && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

/// Accepts connections on `listener` (over TLS with `tls`, believing client
/// certificates forwarded by `proxies`) and serves `service` on each until
/// `stop` turns true; then closes the listener, asks every connection to
/// finish, and waits at most [`DRAIN_TIMEOUT`] for them.
pub async fn serve(
    listener: TcpListener,
    service: Router,
    limits: ConnectionLimits,
    tls: Option<Tls>,
    proxies: Option<Arc<TrustedProxies>>,
    stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let roster = Roster::new(limits.max_per_address);
    let http = Arc::new(protocols(&limits));
    let mut warned = Warned::default();
    loop {
        let Some(accepted) = until_stopped(&stop, listener.accept()).await else { break };
        match accepted {
            Ok((stream, remote_addr)) => {
                warned.out_of_descriptors = false;
                let address = remote_addr.ip();
                let Some(seat) = roster.seat(address) else {
                    tracing::debug!(%address, "closing a connection past the address's share");
                    continue;
                };
                let slot = match slots.clone().try_acquire_owned() {
                    Ok(slot) => slot,
                    Err(_) => {
                        if !std::mem::replace(&mut warned.at_capacity, true) {
                            tracing::warn!(
                                max = limits.max_connections,
                                "connection limit reached; the longest idle make room, or new ones wait"
                            );
                        }
                        let Some(slot) = until_stopped(&stop, make_room(&roster, &slots)).await else {
                            break;
                        };
                        slot
                    }
                };
                if slots.available_permits() > 0 {
                    warned.at_capacity = false;
                }
                let _ = stream.set_nodelay(true);
                let connection = Connection {
                    http: http.clone(),
                    service: service.clone(),
                    limits,
                    address,
                    seat,
                    slot,
                    proxies: proxies.clone(),
                };
                tokio::spawn(connection.serve(stream, tls.clone(), stop.clone()));
            }
            Err(err) if is_out_of_descriptors(&err) => {
                if !std::mem::replace(&mut warned.out_of_descriptors, true) {
                    tracing::error!(error = %err, "out of file descriptors; accepting again when some are free");
                }
                tokio::time::sleep(DESCRIPTOR_BACKOFF).await;
            }
            // The peer went before it was accepted, and the like: nothing to do.
            Err(err) => tracing::debug!(error = %err, "accept failed"),
        }
    }
    drop(listener);
    let all = limits.max_connections as u32;
    if tokio::time::timeout(DRAIN_TIMEOUT, slots.acquire_many(all)).await.is_err() {
        tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; stopping anyway");
    }
}

/// A slot, once the connection idle the longest has closed to free one; while
/// every connection has a call in flight, asks again each [`ROOM_RETRY`].
async fn make_room(roster: &Roster, slots: &Arc<Semaphore>) -> OwnedSemaphorePermit {
    loop {
        roster.evict_longest_idle();
        match tokio::time::timeout(ROOM_RETRY, slots.clone().acquire_owned()).await {
            Ok(slot) => return slot.expect("the semaphore is never closed"),
            Err(_) => continue,
        }
    }
}

/// Which warnings were given already, so a condition that lasts is logged once.
#[derive(Default)]
struct Warned {
    out_of_descriptors: bool,
    at_capacity: bool,
}

fn is_out_of_descriptors(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// `work`, unless `stop` turns true first.
async fn until_stopped<T>(stop: &watch::Receiver<bool>, work: impl Future<Output = T>) -> Option<T> {
    let mut stop = stop.clone();
    tokio::select! {
        done = work => Some(done),
        _ = stop.wait_for(|stopping| *stopping) => None,
    }
}

fn protocols(limits: &ConnectionLimits) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(PING_INTERVAL)
        .keep_alive_timeout(PING_TIMEOUT)
        // Room for any header a caller may send, so an oversized one (a
        // DPoP proof of tens of KiB) is refused by the authority in the
        // protocol's own terms, not by hyper as an HTTP 431 gRPC cannot read.
        .max_header_list_size(MAX_HEADER_LIST_BYTES);
    builder
}

/// The peer a request comes from: the connection's, unless a trusted proxy
/// forwarded a certificate for it (and ambiguous when the connection has one too).
fn forwarded_peer(connection: &Arc<Peer>, forwarded: Forwarded) -> Arc<Peer> {
    let address = connection.address;
    let ambiguous = connection.certificate.is_some();
    match forwarded {
        Forwarded::None => connection.clone(),
        Forwarded::Certificate(_) | Forwarded::Unusable if ambiguous => {
            Arc::new(Peer { address, certificate: None, ambiguous })
        }
        Forwarded::Certificate(certificate) => {
            Arc::new(Peer { address, certificate: Some(certificate), ambiguous })
        }
        Forwarded::Unusable => Arc::new(Peer { address, certificate: None, ambiguous }),
    }
}

/// The largest HTTP/2 header block accepted.
const MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;

/// One accepted connection, where it came from, and the slot it holds until it closes.
struct Connection {
    http: Arc<Builder<TokioExecutor>>,
    service: Router,
    limits: ConnectionLimits,
    address: IpAddr,
    seat: Seat,
    slot: OwnedSemaphorePermit,
    proxies: Option<Arc<TrustedProxies>>,
}

impl Connection {
    /// Serves the connection, after the TLS handshake if this listener has TLS.
    /// The handshake counts towards the header timeout, so a peer that never
    /// finishes it is dropped like one that never sends a request.
    async fn serve(self, stream: TcpStream, tls: Option<Tls>, stop: watch::Receiver<bool>) {
        let Ok(local) = stream.local_addr() else {
            return;
        };
        match tls {
            None => self.serve_io(stream, local, None, false, stop).await,
            Some(tls) => {
                match tokio::time::timeout(self.limits.header_timeout, tls.acceptor().accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let certificate =
                            stream.get_ref().1.peer_certificates().and_then(|chain| tls.examine(chain));
                        self.serve_io(stream, local, certificate, true, stop).await
                    }
                    Ok(Err(err)) => tracing::debug!(error = %err, "TLS handshake failed"),
                    Err(_) => tracing::debug!("TLS handshake not finished within the header timeout"),
                }
            }
        }
    }

    /// Serves HTTP on `io`; every request carries the connection's [`Peer`]
    /// (its address and client `certificate`, if it presented one) as an
    /// extension, and one with a DPoP proof the URL it reached: this
    /// listener's own address (`local`), `tls` or not, never a `Host` the
    /// caller chose.
    async fn serve_io<I>(
        self,
        io: I,
        local: SocketAddr,
        certificate: Option<Arc<PeerCertificate>>,
        tls: bool,
        mut stop: watch::Receiver<bool>,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = self.seat.activity.clone();
        let tracked = activity.clone();
        let peer = Arc::new(Peer { address: self.address, certificate, ambiguous: false });
        let proxies = self.proxies.clone();
        let service = ServiceExt::<Request<Incoming>>::map_request(
            self.service,
            move |mut request: Request<Incoming>| {
                let peer = match &proxies {
                    Some(proxies) => forwarded_peer(&peer, proxies.read(peer.address, request.headers())),
                    None => peer.clone(),
                };
                request.extensions_mut().insert(peer);
                if request.headers().contains_key(DPOP_HEADER)
                    && let Some(reached) = ReachedUrl::at(local, request.uri().path(), tls)
                {
                    request.extensions_mut().insert(reached);
                }
                request
            },
        );
        let service = ServiceExt::<Request<Incoming>>::map_future(service, move |call| {
            let in_flight = tracked.begin();
            async move {
                let answered = call.await;
                drop(in_flight);
                answered
            }
        });
        let connection = self.http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        tokio::pin!(connection);
        let idle = activity.idle(&self.limits);
        tokio::pin!(idle);
        let evict = self.seat.evict.clone();
        let closing = async {
            tokio::select! {
                _ = &mut idle => tracing::debug!("closing a silent or idle connection"),
                _ = evict.notified() => tracing::debug!("closing the connection idle longest to make room"),
                _ = stop.wait_for(|stopping| *stopping) => {}
            }
        };
        tokio::select! {
            served = &mut connection => return log_end(served),
            _ = closing => {}
        }
        connection.as_mut().graceful_shutdown();
        match tokio::time::timeout(DRAIN_TIMEOUT, connection).await {
            Ok(served) => log_end(served),
            Err(_) => tracing::debug!("dropped a connection that did not close in time"),
        }
        drop(self.seat);
        drop(self.slot);
    }
}

fn log_end(served: Result<(), Box<dyn std::error::Error + Send + Sync>>) {
    if let Err(err) = served {
        tracing::debug!(error = %err, "connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forwarded_certificate_stands_for_the_request_unless_the_connection_has_one_too() {
        let der = {
            let key = rcgen::KeyPair::generate().unwrap();
            let params = rcgen::CertificateParams::new(vec!["a.example".to_owned()]).unwrap();
            params.self_signed(&key).unwrap().der().to_vec()
        };
        let certificate = Arc::new(PeerCertificate::examine(&[&der], false).unwrap());
        let address = "10.0.0.1".parse().unwrap();
        let plain = Arc::new(Peer { address, certificate: None, ambiguous: false });
        let forwarded = forwarded_peer(&plain, Forwarded::Certificate(certificate.clone()));
        assert!(forwarded.certificate.is_some() && forwarded.client_certificate().is_ok());
        assert!(Arc::ptr_eq(&forwarded_peer(&plain, Forwarded::None), &plain));
        let over_mtls = Arc::new(Peer { address, certificate: Some(certificate.clone()), ambiguous: false });
        let both = forwarded_peer(&over_mtls, Forwarded::Certificate(certificate));
        assert!(both.client_certificate().is_err(), "two certificates: refused as ambiguous");
    }

    #[test]
    fn the_connection_cap_fits_the_descriptor_limit() {
        let limits = ConnectionLimits { max_connections: usize::MAX, ..ConnectionLimits::default() }
            .within_descriptor_limit();
        let allowed = descriptor_limit().map_or(u64::MAX, |limit| limit - DESCRIPTOR_RESERVE);
        assert!(limits.max_connections as u64 <= allowed);
    }

    #[test]
    fn one_address_never_holds_more_than_half_the_slots() {
        let limits =
            ConnectionLimits { max_connections: 10, max_per_address: 256, ..ConnectionLimits::default() };
        assert_eq!(limits.within_descriptor_limit().max_per_address, 5);
        let unlimited = ConnectionLimits { max_per_address: 0, ..limits };
        assert_eq!(unlimited.within_descriptor_limit().max_per_address, 0);
    }
}
