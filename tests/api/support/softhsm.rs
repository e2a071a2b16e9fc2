//! A SoftHSM2 token of the test's own: a temporary directory named by
//! `SOFTHSM2_CONF`, a token initialised in it with `softhsm2-util`, and the
//! environment a `tokend` child process needs to use it. Nothing here touches
//! this process's environment or loads the module in it; `pkcs11-tool` (from
//! `opensc`) reads what the token holds.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Command,
    sync::Once,
};

/// Where Debian's `softhsm2` package puts the module.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const LABEL: &str = "tokend";
const PIN: &str = "4242";
const SO_PIN: &str = "5757";

pub struct SoftToken {
    dir: tempfile::TempDir,
}

impl SoftToken {
    /// A fresh token; `None` (with a note, once) when SoftHSM2 is not installed.
    pub fn new() -> Option<Self> {
        if !Path::new(MODULE).exists() {
            static NOTE: Once = Once::new();
            NOTE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: {MODULE} is missing (Debian's softhsm2 and opensc): the HSM tests are skipped"
                );
            });
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tokens")).unwrap();
        let conf = format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.path().join("tokens").display()
        );
        std::fs::write(dir.path().join("softhsm2.conf"), conf).unwrap();
        std::fs::write(dir.path().join("pin"), format!("{PIN}\n")).unwrap();
        let token = Self { dir };
        let made = token
            .command("softhsm2-util")
            .args(["--init-token", "--free", "--label", LABEL, "--pin", PIN, "--so-pin", SO_PIN])
            .output()
            .expect("softhsm2-util runs");
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        Some(token)
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    pub fn pin_file(&self) -> PathBuf {
        self.dir.path().join("pin")
    }

    /// `program` seeing this token.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command.env("SOFTHSM2_CONF", self.conf());
        command
    }

    /// Has `command` (a `tokend` one) use this token for its signing keys.
    pub fn configure<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env("SOFTHSM2_CONF", self.conf())
            .env("TOKEND_PKCS11_MODULE", MODULE)
            .env("TOKEND_PKCS11_TOKEN_LABEL", LABEL)
            .env("TOKEND_PKCS11_PIN_FILE", self.pin_file())
    }

    /// `pkcs11-tool`'s account of the token's objects of `kind` (`privkey`, `pubkey`).
    pub fn objects(&self, kind: &str) -> String {
        let listed = self
            .command("pkcs11-tool")
            .args(["--module", MODULE, "--token-label", LABEL, "--login", "--pin", PIN])
            .args(["--list-objects", "--type", kind])
            .output()
            .expect("pkcs11-tool (Debian's opensc) runs");
        assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
        String::from_utf8(listed.stdout).unwrap()
    }

    /// Deletes the private key labelled `label` from the token, as a careless operator might.
    pub fn delete_private_key(&self, label: &str) {
        let deleted = self
            .command("pkcs11-tool")
            .args(["--module", MODULE, "--token-label", LABEL, "--login", "--pin", PIN])
            .args(["--delete-object", "--type", "privkey", "--label", label])
            .output()
            .unwrap();
        assert!(deleted.status.success(), "{}", String::from_utf8_lossy(&deleted.stderr));
    }
}
