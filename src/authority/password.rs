//! Argon2id hashing of client secrets, run on the blocking pool with a bound on
//! how many run at once, so a burst of cold or wrong-secret requests queues
//! here instead of starving the async runtime.

use std::sync::Arc;

use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

use super::AuthError;
use crate::domain::ClientSecret;

/// Hashes and verifies secrets with argon2id at the crate's defaults
/// (19 MiB, 2 passes, 1 lane: OWASP's recommendation).
#[derive(Clone)]
pub struct SecretHasher {
    permits: Arc<Semaphore>,
    /// A hash of a random secret nobody knows, verified against when there is no
    /// real hash to check, so an unknown client id costs the same time as a known one.
    dummy_hash: Arc<str>,
}

impl SecretHasher {
    pub fn new() -> Self {
        let lanes = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (_, unknown) = ClientSecret::generate();
        let dummy_hash = hash_blocking(&unknown).expect("hashing a random secret cannot fail");
        Self { permits: Arc::new(Semaphore::new(lanes)), dummy_hash: dummy_hash.into() }
    }

    /// The argon2id PHC string for `secret`, with a fresh random salt.
    pub async fn hash(&self, secret: &ClientSecret) -> Result<String, AuthError> {
        let secret = secret.clone();
        self.run(move || hash_blocking(&secret)).await?
    }

    /// Whether `secret` matches `phc`. With no hash to check, verifies against
    /// the dummy hash and answers false, taking the same time either way.
    pub async fn verify(&self, secret: &ClientSecret, phc: Option<&str>) -> Result<bool, AuthError> {
        let matches_real = phc.is_some();
        let phc: Arc<str> = phc.map_or_else(|| self.dummy_hash.clone(), Arc::from);
        let secret = secret.clone();
        let matched = self.run(move || verify_blocking(&secret, &phc)).await?;
        Ok(matched && matches_real)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let _permit = self.permits.acquire().await.map_err(AuthError::internal)?;
        tokio::task::spawn_blocking(work).await.map_err(AuthError::internal)
    }
}

impl Default for SecretHasher {
    fn default() -> Self {
        Self::new()
    }
}

fn hash_blocking(secret: &ClientSecret) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| AuthError::internal(err.to_string()))
}

/// A stored hash that does not parse counts as a mismatch.
fn verify_blocking(secret: &ClientSecret, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|hash| Argon2::default().verify_password(secret.expose().as_bytes(), &hash).is_ok())
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
        assert!(hasher.verify(&secret, Some(&hash)).await.unwrap());
        let (_, other) = ClientSecret::generate();
        assert!(!hasher.verify(&other, Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn without_a_hash_nothing_verifies() {
        let hasher = SecretHasher::new();
        let (_, secret) = ClientSecret::generate();
        assert!(!hasher.verify(&secret, None).await.unwrap());
    }

    #[tokio::test]
    async fn the_hash_never_contains_the_secret() {
        let hasher = SecretHasher::new();
        let (_, secret) = ClientSecret::generate();
        assert!(!hasher.hash(&secret).await.unwrap().contains(secret.expose()));
    }
}
