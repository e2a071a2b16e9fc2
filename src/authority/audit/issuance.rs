//! `--audit-issuance`: each issued token as one JSON line (client id, jti,
//! scope, audience, expiry, origin), never the token itself. The request
//! path only hands the line to a writer thread through a bounded queue; the
//! thread wakes every 100 ms, writes what came through a 64 KiB buffer and
//! flushes, so a line reaches the file within about 100 ms.

use std::{
    fs::OpenOptions,
    io::{BufWriter, Write},
    net::IpAddr,
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel},
    },
    time::Duration,
};

use serde::Serialize;

use crate::authority::AccessClaims;

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
    pub jti: String,
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
            jti: claims.jti.clone(),
            scope: claims.scope.clone(),
            audience: claims.aud.clone(),
            expires_at: claims.exp,
            origin,
        }
    }
}

/// The sending end of the issuance log.
#[derive(Debug)]
pub struct IssuanceLog {
    lines: SyncSender<IssuedLine>,
    dropped: AtomicU64,
}

impl IssuanceLog {
    /// Appends to `path`, or writes to stdout for `-`.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let out: Box<dyn Write + Send> = match path.to_str() {
            Some("-") => Box::new(std::io::stdout()),
            _ => Box::new(OpenOptions::new().create(true).append(true).open(path)?),
        };
        let (lines, received) = sync_channel(QUEUE);
        std::thread::Builder::new().name("tokend-issuance-log".into()).spawn(move || write(received, out))?;
        Ok(Self { lines, dropped: AtomicU64::new(0) })
    }

    /// Queues a line; never waits.
    pub fn record(&self, line: IssuedLine) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.lines.try_send(line)
            && self.dropped.fetch_add(1, Ordering::Relaxed) == 0
        {
            tracing::warn!("the issuance log cannot keep up; lines are being dropped");
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
fn write(lines: Receiver<IssuedLine>, out: Box<dyn Write + Send>) {
    let mut out = BufWriter::with_capacity(64 * 1024, out);
    let mut failed = false;
    loop {
        std::thread::sleep(FLUSH_EVERY);
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
