//! Argon2id hashing of client secrets on a small pool of dedicated threads.
//!
//! A fixed pool, rather than the runtime's blocking pool, bounds both CPU and
//! memory: each argon2 run needs 7 MiB of working memory, which each worker
//! allocates once and reuses. (Allocating it per run let the allocator scatter
//! freed copies over its per-thread arenas: hundreds of MiB after a burst.)
//! The queue in front of the pool is bounded too: past it, a credential check
//! is refused as temporarily unavailable instead of waiting without end, so a
//! flood of wrong secrets cannot build an unbounded backlog.

use std::{
    cell::RefCell,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    thread,
};

use argon2::{
    ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, SaltString},
};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use super::AuthError;
use crate::domain::ClientSecret;

/// Checks that may wait for a free thread before new ones are refused.
const QUEUE_DEPTH: usize = 64;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies secrets with argon2id (7 MiB, 5 passes, 1 lane).
/// Clones share the pool.
#[derive(Clone)]
pub struct SecretHasher {
    jobs: mpsc::SyncSender<Job>,
    /// How many verifications ran, shared by clones.
    verifications: Arc<AtomicU64>,
    /// Jobs queued or running now, shared by clones.
    in_queue: Arc<AtomicU64>,
}

impl SecretHasher {
    /// Starts one worker thread per core.
    pub fn new() -> Self {
        let (jobs, queue) = mpsc::sync_channel::<Job>(QUEUE_DEPTH);
        let queue = Arc::new(Mutex::new(queue));
        let workers = thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..workers {
            let queue = queue.clone();
            thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // every SecretHasher is gone
                        }
                    }
                })
                .expect("the argon2 worker thread starts");
        }
        Self { jobs, verifications: Arc::default(), in_queue: Arc::default() }
    }

    /// The argon2id PHC string for `secret`, with a fresh random salt.
    pub async fn hash(&self, secret: &ClientSecret) -> Result<String, AuthError> {
        let secret = secret.clone();
        self.run(move || hash_blocking(&secret)).await?
    }

    /// Whether `secret` matches `phc`.
    pub async fn verify(&self, secret: &ClientSecret, phc: &str) -> Result<bool, AuthError> {
        let (secret, phc) = (secret.clone(), phc.to_owned());
        self.verifications.fetch_add(1, Ordering::Relaxed);
        self.run(move || verify_blocking(&secret, &phc)).await
    }

    /// How many secrets were verified since start.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// How many hash jobs are queued or running now.
    pub fn queue_depth(&self) -> u64 {
        self.in_queue.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let (done, result) = oneshot::channel();
        let in_queue = self.in_queue.clone();
        in_queue.fetch_add(1, Ordering::Relaxed);
        let finished = in_queue.clone();
        let job: Job = Box::new(move || {
            let _ = done.send(work());
            finished.fetch_sub(1, Ordering::Relaxed);
        });
        self.jobs.try_send(job).map_err(|err| {
            // Never queued: it will not finish, so it is not counted.
            in_queue.fetch_sub(1, Ordering::Relaxed);
            match err {
                mpsc::TrySendError::Full(_) => {
                    AuthError::Busy("too many credential checks are waiting; retry shortly".into())
                }
                mpsc::TrySendError::Disconnected(_) => AuthError::internal("the argon2 workers stopped"),
            }
        })?;
        result.await.map_err(AuthError::internal)
    }
}

impl Default for SecretHasher {
    fn default() -> Self {
        Self::new()
    }
}

/// Bytes of argon2 output and of salt, as the argon2 crate's defaults use.
const OUTPUT_BYTES: usize = 32;
const SALT_BYTES: usize = 16;
/// KiB of working memory and passes for new hashes: one of the settings
/// OWASP's password storage guide lists as equal in defence (19 MiB with 2
/// passes is another, and the argon2 crate's default), chosen because each
/// worker keeps its working memory for life. Hashes made with other
/// settings keep working: they carry their own in the PHC string.
const MEMORY_KIB: u32 = 7 * 1024;
const PASSES: u32 = 5;

/// The settings new hashes are made with.
fn new_hash_params() -> Params {
    Params::new(MEMORY_KIB, PASSES, 1, Some(OUTPUT_BYTES)).expect("the argon2 settings are valid")
}

thread_local! {
    /// This worker's argon2 working memory, allocated on first use and reused.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs argon2id with `params` into `out`, in this thread's reusable memory.
fn argon2id(params: Params, secret: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), argon2::Error> {
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() < params.block_count() {
            blocks.resize(params.block_count(), Block::default());
        }
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        argon2.hash_password_into_with_memory(secret, salt, out, &mut blocks[..params.block_count()])
    })
}

fn hash_blocking(secret: &ClientSecret) -> Result<String, AuthError> {
    let failed = |err: &dyn std::fmt::Display| AuthError::internal(err.to_string());
    let mut salt = [0u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(|e| failed(&e))?;
    let mut out = [0u8; OUTPUT_BYTES];
    let params = new_hash_params();
    argon2id(params.clone(), secret.expose().as_bytes(), &salt, &mut out).map_err(|e| failed(&e))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: (&params).try_into().map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

/// Recomputes the hash with the stored parameters and salt and compares in
/// constant time. A stored hash that does not parse counts as a mismatch.
fn verify_blocking(secret: &ClientSecret, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected), Ok(params)) = (hash.salt, hash.hash, Params::try_from(&hash)) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    argon2id(params, secret.expose().as_bytes(), salt, &mut out).is_ok()
        && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_right_secret_verifies_and_a_wrong_one_does_not() {
        let hasher = SecretHasher::new();
        let (_, secret) = ClientSecret::generate();
        let hash = hasher.hash(&secret).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify(&secret, &hash).await.unwrap());
        let (_, other) = ClientSecret::generate();
        assert!(!hasher.verify(&other, &hash).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_are_standard_argon2id_phc_strings() {
        use argon2::PasswordVerifier as _;
        let hasher = SecretHasher::new();
        let (_, secret) = ClientSecret::generate();
        let phc = hasher.hash(&secret).await.unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default().verify_password(secret.expose().as_bytes(), &parsed).is_ok());
        assert!(phc.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{phc}");
    }

    #[tokio::test]
    async fn hashes_made_with_other_settings_still_verify() {
        use argon2::PasswordHasher as _;
        let (_, secret) = ClientSecret::generate();
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let older = Argon2::default().hash_password(secret.expose().as_bytes(), &salt).unwrap().to_string();
        assert!(older.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{older}");
        let hasher = SecretHasher::new();
        assert!(hasher.verify(&secret, &older).await.unwrap());
        let (_, other) = ClientSecret::generate();
        assert!(!hasher.verify(&other, &older).await.unwrap());
    }

    #[tokio::test]
    async fn the_hash_never_contains_the_secret() {
        let hasher = SecretHasher::new();
        let (_, secret) = ClientSecret::generate();
        assert!(!hasher.hash(&secret).await.unwrap().contains(secret.expose()));
    }

    #[tokio::test]
    async fn a_burst_beyond_the_queue_is_refused_not_queued() {
        let hasher = SecretHasher::new();
        let (_, secret) = ClientSecret::generate();
        let hash = hasher.hash(&secret).await.unwrap();
        let checks: Vec<_> = (0..QUEUE_DEPTH * 2)
            .map(|_| {
                let (hasher, secret, hash) = (hasher.clone(), secret.clone(), hash.clone());
                tokio::spawn(async move { hasher.verify(&secret, &hash).await })
            })
            .collect();
        let mut busy = 0;
        for check in checks {
            if let Err(AuthError::Busy(_)) = check.await.unwrap() {
                busy += 1;
            }
        }
        assert!(busy > 0, "some checks past the queue depth were refused");
    }
}
