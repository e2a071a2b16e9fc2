//! `tokend backup`: a consistent copy of a SQLite database while a server
//! may be using it, in a new file readable by its owner only.

use std::path::PathBuf;

use super::run::RunError;
use crate::store::Store;

/// `tokend backup`: the copy, in a new file readable by its owner only, and
/// where the key that opens its signing keys is.
pub async fn back_up(
    store: &Store,
    to: &std::path::Path,
    key_file: Result<PathBuf, String>,
) -> Result<(), RunError> {
    use std::os::unix::fs::OpenOptionsExt;
    if !store.is_sqlite() {
        return Err(RunError::Backup(
            "tokend backup copies a SQLite database; back up PostgreSQL with pg_dump (and keep the key file)"
                .into(),
        ));
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(|err| RunError::Backup(format!("cannot create {}: {err}", to.display())))?;
    if let Err(err) = store.back_up_into(to).await {
        let _ = std::fs::remove_file(to);
        tracing::error!(error = ?err, file = %to.display(), "the backup failed");
        return Err(RunError::Backup(format!("{err} while copying it to {}", to.display())));
    }
    let key = key_file.map_or_else(|err| err, |path| path.display().to_string());
    println!(
        "backed up to {}; keep it with the key file {key}: its signing keys open only with that key",
        to.display()
    );
    Ok(())
}
