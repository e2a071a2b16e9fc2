//! Files of private keys, readable by their owner only and never overwritten:
//! the key-encryption key file, read or created once, atomically and durably
//! (losing it after keys were sealed with it would leave them unopenable, so
//! its creation survives a crash, and two processes starting at once agree
//! on one key); and the key files `client add-key` hands out.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
    path::Path,
};

/// The file's contents; when it does not exist, `fresh()` is written to it
/// unless another process creates it first, in which case that one is read.
pub fn read_or_create(path: &Path, fresh: impl FnOnce() -> String) -> io::Result<String> {
    match fs::read_to_string(path) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        read => return read,
    }
    let name = path.file_name().ok_or_else(|| io::Error::other("the path names no file"))?;
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(io::Error::other)?;
    let draft =
        path.with_file_name(format!("{}.{:x}.tmp", name.to_string_lossy(), u64::from_ne_bytes(nonce)));
    write_private(&draft, &fresh())?;
    // A link appears complete or not at all, and fails if the name is taken.
    let linked = fs::hard_link(&draft, path);
    fs::remove_file(&draft)?;
    match linked {
        Ok(()) => sync_directory_of(path)?,
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
        Err(err) => return Err(err),
    }
    fs::read_to_string(path)
}

/// Creates `path` with `contents`, readable by its owner only, durably;
/// fails if the file exists.
pub fn create_private(path: &Path, contents: &str) -> io::Result<()> {
    write_private(path, contents)?;
    sync_directory_of(path)
}

/// Writes `contents` to a new file only its owner may read, flushed to disk;
/// fails if the file exists.
fn write_private(path: &Path, contents: &str) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Makes the new directory entry itself durable.
fn sync_directory_of(path: &Path) -> io::Result<()> {
    let directory = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    File::open(directory)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_starting_at_once_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokend.kek");
        let contents: Vec<String> = std::thread::scope(|scope| {
            let readers: Vec<_> = (0..8)
                .map(|i| {
                    let path = &path;
                    scope.spawn(move || read_or_create(path, || format!("key-{i}")).unwrap())
                })
                .collect();
            readers.into_iter().map(|reader| reader.join().unwrap()).collect()
        });
        assert!(contents.iter().all(|content| content == &contents[0]), "{contents:?}");
        let files: Vec<_> =
            fs::read_dir(dir.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(files, ["tokend.kek"], "no drafts are left behind");
    }

    #[test]
    fn a_created_file_is_its_owners_alone_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.json");
        create_private(&path, "first").unwrap();
        let err = create_private(&path, "second").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&path).unwrap(), "first\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn an_existing_file_is_read_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokend.kek");
        fs::write(&path, "kept\n").unwrap();
        assert_eq!(read_or_create(&path, || "fresh".into()).unwrap(), "kept\n");
    }
}
