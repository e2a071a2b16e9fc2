//! Why a database could not be opened, said so an operator can fix it: the
//! URL tried (its password hidden), the driver's cause, and the likely fix.

use std::path::Path;

use super::StoreError;

/// The URL as it may be shown: any password replaced by `***`.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Refuses, before any driver runs, a URL no driver would take: without a
/// scheme, or naming a SQLite file in a folder that does not exist.
pub fn check_url(url: &str, sqlite_file: Option<&Path>) -> Result<(), StoreError> {
    let known = ["sqlite:", "postgres://", "postgresql://"].iter().any(|scheme| url.starts_with(scheme));
    if !known {
        return Err(cannot_open(
            url,
            "it is not a database URL".into(),
            "use sqlite://FILE (e.g. sqlite://tokend.db) or postgres://USER@HOST/DATABASE",
        ));
    }
    let folder = sqlite_file.and_then(Path::parent).filter(|folder| !folder.as_os_str().is_empty());
    if let Some(folder) = folder.filter(|folder| !folder.is_dir()) {
        return Err(cannot_open(
            url,
            format!("the folder {} does not exist", folder.display()),
            "create the folder first (mkdir -p), or name a file in one that exists",
        ));
    }
    Ok(())
}

/// What a failed first connection means, with the fix most likely to help.
pub fn diagnose(url: &str, err: &sqlx::Error) -> StoreError {
    let code = match err {
        sqlx::Error::Database(db) => db.code().map(|code| code.into_owned()),
        _ => None,
    };
    let hint = match (err, code.as_deref()) {
        (sqlx::Error::Io(_), _) | (sqlx::Error::PoolTimedOut, _) if url.starts_with("postgres") => {
            "is PostgreSQL running and listening at that host and port? (pg_ctlcluster … start, or check the URL)"
        }
        (_, Some("28P01" | "28000")) => "the server refused the user or password in the URL",
        (_, Some("3D000")) => "the database does not exist: create it (createdb NAME) or name one that does",
        (_, Some(code)) if code.len() < 5 => {
            "check that the SQLite file and its folder are writable by this user"
        }
        _ => "check the URL and that the database accepts connections",
    };
    cannot_open(url, err.to_string(), hint)
}

fn cannot_open(url: &str, cause: String, hint: &'static str) -> StoreError {
    StoreError::CannotOpen { url: redacted(url), cause, hint }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_never_shown() {
        let shown = redacted("postgres://tokend:hunter2@db.internal:5432/tokend");
        assert_eq!(shown, "postgres://tokend:***@db.internal:5432/tokend");
        assert_eq!(redacted("sqlite://tokend.db"), "sqlite://tokend.db");
    }

    #[test]
    fn a_url_without_scheme_or_folder_says_what_to_do() {
        let said = check_url("tokend.db", None).unwrap_err().to_string();
        assert!(said.contains("tokend.db") && said.contains("sqlite://FILE"), "{said}");
        let missing = Path::new("/no/such/folder/t.db");
        let said = check_url("sqlite:///no/such/folder/t.db", Some(missing)).unwrap_err().to_string();
        assert!(said.contains("/no/such/folder does not exist") && said.contains("mkdir"), "{said}");
        assert!(check_url("sqlite://t.db", Some(Path::new("t.db"))).is_ok());
    }
}
