//! SQLite's outage: the disk under the database fills up. (A SQLite file
//! cannot be made unreadable under a running server: it reads through
//! descriptors it already holds, and root ignores permissions anyway.) The
//! test mounts a small tmpfs for the database, which needs the right to
//! mount (root here, as in CI); without it the test says so and skips.

use std::{path::PathBuf, process::Command};

use tonic::Code;

use crate::support::helpers::*;

/// A 4 MiB tmpfs, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|output| output.status.success());
        mounted.then_some(SmallDisk { dir })
    }

    fn filler(&self) -> PathBuf {
        self.dir.path().join("filler")
    }

    /// Fills what space is left.
    fn fill(&self) {
        let output = Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", self.filler().display()))
            .args(["bs=64k"])
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&output.stderr).contains("No space left"), "the disk is full");
    }

    fn free(&self) {
        std::fs::remove_file(self.filler()).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Writes on a full disk are UNAVAILABLE with `temporarily_unavailable`
/// (retry later, as PostgreSQL's disk-full errors are), never INTERNAL;
/// clients already verified keep getting tokens and their tokens introspect;
/// once space is freed, writes succeed again without a restart.
#[tokio::test]
async fn a_full_disk_under_sqlite_refuses_writes_as_unavailable_and_heals() {
    let Some(disk) = SmallDisk::mount() else {
        eprintln!("skipped: no right to mount a tmpfs for the database");
        return;
    };
    let app = TestApp::spawn_on_sqlite(&format!("sqlite://{}/tokend.db", disk.dir.path().display())).await;
    let admin = app.admin_token().await;
    let warm = app.create_client("warm", "read", "read", &[]).await;
    let token = app.token("warm", &warm, "").await.access_token;
    let create = |id: String| {
        let request = tokend::contract::pb::CreateClientRequest { client_id: id, ..Default::default() };
        let mut admin_api = app.admin.clone();
        let request = with_bearer(request, &admin);
        async move { admin_api.create_client(request).await }
    };

    disk.fill();
    let mut refused = None;
    // The WAL may have room for a few pages still; each write takes more.
    for attempt in 0..50 {
        match create(format!("new-{attempt}")).await {
            Ok(_) => continue,
            Err(status) => {
                refused = Some(status);
                break;
            }
        }
    }
    let status = refused.expect("a write on a full disk fails");
    assert_error(&status, Code::Unavailable, "temporarily_unavailable");
    assert_eq!(
        app.token("warm", &warm, "").await.token_type,
        "Bearer",
        "a verified client still gets tokens"
    );
    let ask =
        with_basic(tokend::contract::pb::IntrospectRequest { token, ..Default::default() }, "warm", &warm);
    assert!(app.tokens.clone().introspect(ask).await.unwrap().into_inner().active);

    disk.free();
    create("after-the-outage".into()).await.expect("writes work again once there is room");
}
