//! `--config FILE`: flags beat the environment, the environment beats the
//! file, the file beats defaults; `config show` says where each value came
//! from without a secret; a wrong key or value stops the start naming the
//! file, the line and the key.

use std::{io::BufRead, path::Path, process::Output};

/// The tokend binary with no setting from the test's own environment.
fn tokend(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tokend"));
    command.current_dir(dir).env("RUST_LOG", "warn").env_remove("TOKEND_DATABASE_URL");
    command
}

fn write(dir: &Path, text: &str) -> String {
    let path = dir.join("tokend.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The value and source `config show` prints for `setting`.
fn shown(output: &Output, setting: &str) -> (String, String) {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text
        .lines()
        .find(|line| line.split_whitespace().next() == Some(setting))
        .unwrap_or_else(|| panic!("no {setting} in {text}"));
    let rest: Vec<&str> = line.split_whitespace().skip(1).collect();
    let from =
        rest.iter().position(|word| ["flag", "environment", "file", "default", "unset"].contains(word));
    let from = from.unwrap_or_else(|| panic!("no source in {line}"));
    (rest[..from].join(" "), rest[from..].join(" "))
}

fn failure(output: &Output) -> String {
    assert!(!output.status.success(), "it should not start");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn flags_beat_the_environment_which_beats_the_file_which_beats_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "# tokend's settings\n\
         database-url = \"postgres://tokend:hunter2@db.internal/tokend\"\n\
         default_audience = \"from-file\"\n\
         audit-retention = \"30d\"\n\
         secret-max-age = \"30d\"\n\
         fetch-ca = \"/etc/tokend/ca.pem\"\n",
    );
    let output = tokend(dir.path())
        .args(["--config", &file, "config", "show", "--secret-max-age", "90d"])
        .env("TOKEND_DEFAULT_AUDIENCE", "from-env")
        .env("TOKEND_SECRET_MAX_AGE", "60d")
        .output()
        .unwrap();
    assert_eq!(shown(&output, "secret-max-age"), ("90d".into(), "flag".into()));
    assert_eq!(
        shown(&output, "default-audience"),
        ("from-env".into(), "environment TOKEND_DEFAULT_AUDIENCE".into())
    );
    assert_eq!(shown(&output, "audit-retention"), ("30d".into(), format!("file {file}:4")));
    assert_eq!(shown(&output, "fetch-ca"), ("/etc/tokend/ca.pem".into(), format!("file {file}:6")));
    assert_eq!(shown(&output, "idle-timeout"), ("120".into(), "default".into()));
    assert_eq!(shown(&output, "issuer"), ("".into(), "unset".into()));
    assert_eq!(
        shown(&output, "key-activation-delay"),
        ("300".into(), "default".into()),
        "a documented default, not unset"
    );
    let (url, from) = shown(&output, "database-url");
    assert_eq!(
        (url.as_str(), from),
        ("postgres://tokend:redacted@db.internal/tokend", format!("file {file}:2"))
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("hunter2"), "no password in the output");

    let issuer = tokend(dir.path())
        .args(["config", "show"])
        .env("TOKEND_ISSUER", "https://id.example")
        .output()
        .unwrap();
    let as_given = ("https://id.example".into(), "environment TOKEND_ISSUER".into());
    assert_eq!(shown(&issuer, "issuer"), as_given, "as tokens carry it, no slash added");
}

#[test]
fn serve_runs_with_the_file_and_other_commands_take_its_global_settings() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("from-file.db");
    let file = write(
        dir.path(),
        &format!(
            "database-url = \"sqlite://{}\"\nlisten = \"127.0.0.1:0\"\nmetrics-listen = \"127.0.0.1:0\"\n",
            database.display()
        ),
    );
    let created =
        tokend(dir.path()).args(["--config", &file, "client", "create", "--id", "svc"]).output().unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(database.exists(), "the client command used the file's database");

    let mut child = tokend(dir.path())
        .args(["--config", &file, "serve"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(first.starts_with("tokend listening on 127.0.0.1:"), "{first}");
    assert!(
        second.starts_with("tokend metrics listening on 127.0.0.1:"),
        "metrics-listen came from the file: {second}"
    );
}

#[test]
fn every_mistake_in_the_file_names_the_file_the_line_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("listen = \"127.0.0.1:0\"\nlisen = \"127.0.0.1:1\"\n", ":2: unknown key `lisen`"),
        ("failure-limit-per-client = \"many\"\n", ":1: key `failure-limit-per-client`: invalid value 'many'"),
        ("\n\nlisten = 5\n", ":3: key `listen`: invalid value '5'"),
        ("audit-retention = \"5 weeks\"\n", ":1: key `audit-retention`: invalid value '5 weeks'"),
        ("signing-algorithm = \"HS256\"\n", ":1: key `signing-algorithm`: invalid value 'HS256'"),
        (
            "default-audience = [\"a\", \"b\"]\n",
            ":1: key `default-audience`: expected one value, found an array",
        ),
        ("tls-cert = { path = \"x\" }\n", ":1: key `tls-cert`: expected a string or a number, found table"),
        ("config = \"other.toml\"\n", ":1: unknown key `config`"),
    ];
    for (text, expected) in cases {
        let file = write(dir.path(), text);
        let stderr = failure(&tokend(dir.path()).args(["--config", &file, "serve"]).output().unwrap());
        assert!(stderr.contains(&format!("{file}{expected}")), "{text:?}: {stderr}");
    }
    let file = write(dir.path(), "listen = \n");
    let stderr = failure(&tokend(dir.path()).args(["--config", &file, "serve"]).output().unwrap());
    assert!(stderr.contains(&file) && stderr.contains("line 1"), "a TOML syntax error: {stderr}");
    let missing = dir.path().join("missing.toml").display().to_string();
    let stderr =
        failure(&tokend(dir.path()).args(["serve"]).env("TOKEND_CONFIG", &missing).output().unwrap());
    assert!(stderr.contains(&format!("cannot read the configuration file {missing}")), "{stderr}");
}
