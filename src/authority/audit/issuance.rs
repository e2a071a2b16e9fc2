//! `--audit-issuance`: each issued token as one JSON line (client id, jti,
//! scope, audience, expiry, origin), never the token itself. By default the
//! request path only hands the line to a writer thread through a bounded
//! queue; the thread wakes every 100 ms, writes what came through a 64 KiB
//! buffer and flushes, so a line reaches the file within about 100 ms, and a
//! kill -9 loses at most the lines of that last round. With
//! `--audit-issuance-sync` the line is written (to the kernel: it survives a
//! kill -9) before the token is returned, and a failed write fails the
//! request. The file is created readable by its owner only, and opened
//! anew on SIGHUP, so it can be rotated by renaming it.

use std::{
    fs::OpenOptions,
    io::{BufWriter, Write},
    net::IpAddr,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel},
    },
    time::Duration,
};

use serde::Serialize;

use crate::authority::{AccessClaims, AuthError, TxnClaims};

/// How often queued lines are written and flushed.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Lines waiting to be written at most: half a second of the fastest
/// issuance measured, five times what a 100 ms round holds. Past it, lines
/// are dropped (and counted) rather than slow issuance down.
const QUEUE: usize = 16_384;

/// One issued token, as the log records it.
#[derive(Debug, Serialize)]
pub struct IssuedLine {
    /// Unix seconds.
    pub issued_at: i64,
    pub client_id: String,
    /// `access_token`, or `txn_token` for a Transaction Token.
    pub token_type: &'static str,
    /// An access token's id; empty (and left out) for a Transaction Token.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub jti: String,
    /// A Transaction Token's transaction id, to follow the transaction through the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txn: Option<String>,
    pub scope: String,
    pub audience: Vec<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// The caller's address, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<IpAddr>,
}

impl IssuedLine {
    /// The line of a token with these claims, issued to a caller at `origin`.
    pub fn of(claims: &AccessClaims, origin: Option<IpAddr>) -> Self {
        Self {
            issued_at: claims.iat,
            client_id: claims.client_id.clone(),
            token_type: "access_token",
            jti: claims.jti.clone(),
            txn: None,
            scope: claims.scope.clone(),
            audience: claims.aud.clone(),
            expires_at: claims.exp,
            origin,
        }
    }

    /// The line of a Transaction Token with these claims, issued to a workload at `origin`.
    pub fn of_txn(claims: &TxnClaims, origin: Option<IpAddr>) -> Self {
        Self {
            issued_at: claims.iat,
            client_id: claims.req_wl.clone(),
            token_type: "txn_token",
            jti: String::new(),
            txn: Some(claims.txn.clone()),
            scope: claims.scope.clone(),
            audience: vec![claims.aud.clone()],
            expires_at: claims.exp,
            origin,
        }
    }
}

/// The issuance log: where lines go, and how many were dropped.
#[derive(Debug)]
pub struct IssuanceLog {
    sink: Sink,
    dropped: AtomicU64,
}

enum Sink {
    /// Lines queued for the writer thread, which opens the file anew when asked.
    Queued { lines: SyncSender<IssuedLine>, reopen: Arc<AtomicBool> },
    /// Lines written on the request path, before the token is returned.
    Direct { path: PathBuf, out: Mutex<Out> },
}

type Out = Box<dyn Write + Send>;

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sink::Queued { .. } => f.write_str("Queued"),
            Sink::Direct { path, .. } => f.debug_struct("Direct").field("path", path).finish_non_exhaustive(),
        }
    }
}

/// Opens `path` for appending (created owner-only), or stdout for `-`.
fn open_out(path: &Path) -> std::io::Result<Out> {
    Ok(match path.to_str() {
        Some("-") => Box::new(std::io::stdout()),
        _ => Box::new(OpenOptions::new().create(true).append(true).mode(0o600).open(path)?),
    })
}

impl IssuanceLog {
    /// Appends to `path`, or writes to stdout for `-`: through the writer
    /// thread, or with `synchronous` on the request path.
    pub fn open(path: &Path, synchronous: bool) -> std::io::Result<Self> {
        let out = open_out(path)?;
        let sink = match synchronous {
            true => Sink::Direct { path: path.to_owned(), out: Mutex::new(out) },
            false => {
                let (lines, received) = sync_channel(QUEUE);
                let reopen = Arc::new(AtomicBool::new(false));
                let (path, asked) = (path.to_owned(), reopen.clone());
                let writer = move || write(received, out, &path, &asked);
                std::thread::Builder::new().name("tokend-issuance-log".into()).spawn(writer)?;
                Sink::Queued { lines, reopen }
            }
        };
        Ok(Self { sink, dropped: AtomicU64::new(0) })
    }

    /// Records a line: queued without waiting, or written before returning.
    /// Only a synchronous log fails, when the line could not be written.
    pub fn record(&self, line: IssuedLine) -> Result<(), AuthError> {
        match &self.sink {
            Sink::Queued { lines, .. } => {
                if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = lines.try_send(line)
                    && self.dropped.fetch_add(1, Ordering::Relaxed) == 0
                {
                    tracing::warn!("the issuance log cannot keep up; lines are being dropped");
                }
                Ok(())
            }
            Sink::Direct { out, .. } => {
                let mut text = serde_json::to_vec(&line).map_err(AuthError::internal)?;
                text.push(b'\n');
                let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
                out.write_all(&text).and_then(|()| out.flush()).map_err(|err| {
                    tracing::error!(error = %err, "cannot write the issuance log; the token is not returned");
                    AuthError::internal(err)
                })
            }
        }
    }

    /// Opens the file anew (after it was renamed by log rotation): at once
    /// when lines are written synchronously, at the next round otherwise.
    pub fn reopen(&self) {
        match &self.sink {
            Sink::Queued { reopen, .. } => reopen.store(true, Ordering::Relaxed),
            Sink::Direct { path, out } => match open_out(path) {
                Ok(opened) => *out.lock().unwrap_or_else(PoisonError::into_inner) = opened,
                Err(err) => {
                    tracing::error!(error = %err, "cannot open the issuance log anew; writing on to the old file")
                }
            },
        }
    }

    /// Lines dropped because the writer could not keep up, since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Every [`FLUSH_EVERY`], writes the lines that came meanwhile and flushes,
/// until every sender is gone. It sleeps rather than waits on the queue, so
/// queuing a line never has to wake it: the request path makes no system call.
/// When `reopen` is raised, the file at `path` is opened anew first.
fn write(lines: Receiver<IssuedLine>, out: Out, path: &Path, reopen: &AtomicBool) {
    let mut out = BufWriter::with_capacity(64 * 1024, out);
    let mut failed = false;
    loop {
        std::thread::sleep(FLUSH_EVERY);
        if reopen.swap(false, Ordering::Relaxed) {
            match out.flush().and_then(|()| open_out(path)) {
                Ok(opened) => out = BufWriter::with_capacity(64 * 1024, opened),
                Err(err) => {
                    tracing::error!(error = %err, "cannot open the issuance log anew; writing on to the old file")
                }
            }
        }
        let mut result = Ok(());
        let mut wrote = false;
        let gone = loop {
            match lines.try_recv() {
                Ok(line) => {
                    wrote = true;
                    result = result.and_then(|()| write_line(&mut out, &line));
                }
                Err(TryRecvError::Empty) => break false,
                Err(TryRecvError::Disconnected) => break true,
            }
        };
        if wrote {
            result = result.and_then(|()| out.flush());
        }
        match (result, failed) {
            (Err(err), false) => {
                tracing::error!(error = %err, "cannot write the issuance log");
                failed = true;
            }
            (Ok(()), true) => {
                tracing::info!("writing the issuance log again");
                failed = false;
            }
            _ => {}
        }
        if gone {
            return;
        }
    }
}

fn write_line(out: &mut impl Write, line: &IssuedLine) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")
}
