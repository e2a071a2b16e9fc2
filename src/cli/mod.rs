//! The command line: its flags (`config`), the `--config` file folded under
//! them (`config_file`), running a command (`run`: `serve`, `backup` and the
//! rest), and the operator commands that work directly on the
//! database, before or beside a running server: clients (so the first admin
//! exists before any server runs), trusted issuers, signing keys, and reading
//! the audit trail.

mod backup;
pub mod clients;
pub mod config;
pub mod config_file;
pub mod events;
pub mod issuers;
pub mod keys;
pub mod run;
mod serve;

/// Unix seconds as RFC 3339 UTC, `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(unix: i64) -> String {
    format!("{}Z", utc(unix).replace(' ', "T"))
}

/// Unix seconds as UTC `YYYY-MM-DD HH:MM:SS`.
fn utc(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let seconds = unix.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (hour, minute, second) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
}
