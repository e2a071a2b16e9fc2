//! `--config FILE` (env `TOKEND_CONFIG`): a TOML file holding any setting
//! the flags hold, under the flags' names (`listen = "0.0.0.0:50051"`,
//! `failure-limit-per-client = 20`; `_` may stand for `-`). Flags beat the
//! environment, the environment beats the file, the file beats defaults: a
//! file value is used only where clap found neither a flag nor a variable,
//! and it goes through the flag's own parser, so the two cannot disagree.
//! Server settings in the file apply to `serve` (and `config show`); the
//! global ones to every command.

use std::{collections::BTreeMap, ffi::OsString, path::Path};

use clap::{ArgAction, ArgMatches, CommandFactory, FromArgMatches, parser::ValueSource};

use crate::cli::config::{Cli, Command};

/// Settings that are no settings: they cannot come from the file.
const NOT_SETTINGS: [&str; 3] = ["help", "version", "config"];

/// Why the command line and the file give no configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The command line itself is wrong (or asks for help): clap says so.
    #[error(transparent)]
    Usage(#[from] clap::Error),
    #[error("{0}")]
    File(String),
}

/// Where a setting's value came from, for `config show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Environment(String),
    /// The file and the line.
    File(String, usize),
    Default,
    /// Not set, with the default its help documents (worked out at start).
    BuiltIn(String),
    Unset,
}

/// One setting as `config show` prints it.
#[derive(Debug, Clone)]
pub struct Setting {
    pub name: String,
    pub value: String,
    pub source: Source,
}

/// The parsed command line, and every setting it resolved with its source.
pub struct Resolved {
    pub cli: Cli,
    pub settings: Vec<Setting>,
}

/// Parses `args` with the configuration file, if one is named, folded in.
pub fn resolve(args: impl IntoIterator<Item = OsString>) -> Result<Resolved, ConfigError> {
    let command = Cli::command();
    let args: Vec<OsString> = args.into_iter().collect();
    let given = command.clone().try_get_matches_from(&args)?;
    let cli = Cli::from_arg_matches(&given)?;
    // `config show` describes what `serve` would run with.
    let args = match cli.command {
        Command::Config { .. } => {
            let mut serve = explicit(&command, &given);
            serve.insert(0, args.first().cloned().unwrap_or_else(|| "tokend".into()));
            serve.push("serve".into());
            serve
        }
        _ => args,
    };
    let matches = command.clone().try_get_matches_from(&args)?;
    let (matches, from_file) = match given.get_one::<std::path::PathBuf>("config") {
        Some(path) => {
            let (args, from_file) = fold_in(&command, &matches, args, path)?;
            (command.clone().try_get_matches_from(&args)?, from_file)
        }
        None => (matches, BTreeMap::new()),
    };
    let settings = describe(&command, &matches, &from_file);
    let cli = match cli.command {
        Command::Config { .. } => cli,
        _ => Cli::from_arg_matches(&matches)?,
    };
    Ok(Resolved { cli, settings })
}

/// The arguments a setting can be given for: the global ones and those of
/// `matches`' subcommand.
fn arguments<'c>(command: &'c clap::Command, matches: &ArgMatches) -> Vec<&'c clap::Arg> {
    let global = command.get_arguments();
    let sub = matches
        .subcommand_name()
        .and_then(|name| command.find_subcommand(name))
        .into_iter()
        .flat_map(|sub| sub.get_arguments().filter(|arg| !arg.is_global_set()));
    global
        .chain(sub)
        .filter(|arg| arg.get_long().is_some() && !NOT_SETTINGS.contains(&arg.get_id().as_str()))
        .collect()
}

/// The matches a setting's value is in: the subcommand's, where globals are too.
fn leaf(matches: &ArgMatches) -> &ArgMatches {
    matches.subcommand().map_or(matches, |(_, sub)| sub)
}

/// The global flags given on the command line, as arguments again.
fn explicit(command: &clap::Command, matches: &ArgMatches) -> Vec<OsString> {
    let mut args = Vec::new();
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        let (Some(long), Some(ValueSource::CommandLine)) = (arg.get_long(), leaf(matches).value_source(id))
        else {
            continue;
        };
        for value in leaf(matches).get_raw(id).into_iter().flatten() {
            args.push(format!("--{long}").into());
            args.push(value.to_owned());
        }
    }
    args
}

/// `args` with the file's values added for every setting that neither a
/// flag nor the environment gave, and the line each of those came from.
fn fold_in(
    command: &clap::Command,
    matches: &ArgMatches,
    mut args: Vec<OsString>,
    path: &Path,
) -> Result<(Vec<OsString>, BTreeMap<String, usize>), ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|err| ConfigError::File(format!("cannot read the configuration file {name}: {err}")))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|err| ConfigError::File(format!("{name}: {}", err.to_string().trim_end())))?;
    let known = arguments(command, matches);
    let all_known: Vec<&clap::Arg> = command
        .get_arguments()
        .chain(command.get_subcommands().flat_map(|sub| sub.get_arguments()))
        .collect();
    let mut from_file = BTreeMap::new();
    for (key, value) in &table {
        let line = line_of(&text, key);
        let at = |message: String| ConfigError::File(format!("{name}:{line}: {message}"));
        let long = key.replace('_', "-");
        let Some(arg) = known.iter().find(|arg| arg.get_long() == Some(long.as_str())) else {
            // A setting of another command (`serve` settings under `client`) is no error.
            let elsewhere = all_known.iter().any(|arg| {
                arg.get_long() == Some(long.as_str()) && !NOT_SETTINGS.contains(&arg.get_id().as_str())
            });
            match elsewhere {
                true => continue,
                false => return Err(at(format!("unknown key `{key}`"))),
            }
        };
        let id = arg.get_id().as_str();
        if matches!(leaf(matches).value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
        {
            continue;
        }
        let given =
            flag_arguments(arg, &long, value).map_err(|message| at(format!("key `{key}`: {message}")))?;
        check(command, matches, &given).map_err(|message| at(format!("key `{key}`: {message}")))?;
        args.extend(given);
        from_file.insert(id.to_owned(), line);
    }
    Ok((args, from_file))
}

/// A file value as the flag arguments that say the same.
fn flag_arguments(arg: &clap::Arg, long: &str, value: &toml::Value) -> Result<Vec<OsString>, String> {
    let flag = OsString::from(format!("--{long}"));
    if matches!(arg.get_action(), ArgAction::SetTrue) {
        return match value {
            toml::Value::Boolean(true) => Ok(vec![flag]),
            toml::Value::Boolean(false) => Ok(Vec::new()),
            other => Err(format!("expected true or false, found {}", other.type_str())),
        };
    }
    let scalar = |value: &toml::Value| match value {
        toml::Value::String(text) => Ok(text.clone()),
        toml::Value::Integer(number) => Ok(number.to_string()),
        toml::Value::Float(number) => Ok(number.to_string()),
        toml::Value::Boolean(flag) => Ok(flag.to_string()),
        other => Err(format!("expected a string or a number, found {}", other.type_str())),
    };
    let values = match (value, arg.get_action()) {
        (toml::Value::Array(items), ArgAction::Append) => {
            items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?
        }
        (toml::Value::Array(_), _) => return Err("expected one value, found an array".into()),
        (value, _) => vec![scalar(value)?],
    };
    Ok(values.into_iter().flat_map(|value| [flag.clone(), value.into()]).collect())
}

/// Runs a value through its flag's parser alone, so an error names the key.
fn check(command: &clap::Command, matches: &ArgMatches, given: &[OsString]) -> Result<(), String> {
    let mut args: Vec<OsString> = vec!["tokend".into()];
    match matches.subcommand_name() {
        Some(sub) => {
            args.push(sub.into());
            args.extend(given.iter().cloned());
        }
        None => args.extend(given.iter().cloned()),
    }
    match command.clone().try_get_matches_from(&args) {
        Ok(_) => Ok(()),
        // Other subcommands need arguments of their own: only the value's error counts.
        Err(err)
            if matches!(
                err.kind(),
                clap::error::ErrorKind::MissingRequiredArgument
                    | clap::error::ErrorKind::MissingSubcommand
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) =>
        {
            Ok(())
        }
        Err(err) => {
            let text = err.to_string();
            let first = text.lines().next().unwrap_or_default();
            Err(first.trim_start_matches("error: ").to_owned())
        }
    }
}

/// The line (from 1) where `key` is set; 1 when it cannot be found.
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let rest = line.strip_prefix(key).or_else(|| {
                line.strip_prefix('"')
                    .and_then(|line| line.strip_prefix(key))
                    .and_then(|rest| rest.strip_prefix('"'))
            });
            rest.is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(1, |index| index + 1)
}

/// Every setting of the resolved command with its value and source.
fn describe(
    command: &clap::Command,
    matches: &ArgMatches,
    from_file: &BTreeMap<String, usize>,
) -> Vec<Setting> {
    let file = matches.get_one::<std::path::PathBuf>("config").map(|path| path.display().to_string());
    arguments(command, matches)
        .into_iter()
        .map(|arg| {
            let id = arg.get_id().as_str();
            let values: Vec<String> = leaf(matches)
                .get_raw(id)
                .into_iter()
                .flatten()
                .map(|value| value.to_string_lossy().into_owned())
                .collect();
            let source = match (from_file.get(id), leaf(matches).value_source(id)) {
                (Some(line), _) => Source::File(file.clone().unwrap_or_default(), *line),
                (None, Some(ValueSource::CommandLine)) => Source::Flag,
                (None, Some(ValueSource::EnvVariable)) => Source::Environment(
                    arg.get_env().map(|env| env.to_string_lossy().into_owned()).unwrap_or_default(),
                ),
                (None, Some(ValueSource::DefaultValue)) => Source::Default,
                _ => match built_in_default(arg) {
                    Some(default) => Source::BuiltIn(default),
                    None => Source::Unset,
                },
            };
            let value = match &source {
                Source::BuiltIn(default) => default.clone(),
                _ => values.iter().map(|value| redacted(value)).collect::<Vec<_>>().join(", "),
            };
            Setting { name: arg.get_long().unwrap_or(id).to_owned(), value, source }
        })
        .collect()
}

/// The default a setting without a clap default documents in its help as
/// `[default: VALUE]` (one worked out at start, such as the JWKS max-age).
fn built_in_default(arg: &clap::Arg) -> Option<String> {
    let help = arg.get_long_help().or(arg.get_help())?.to_string();
    let (_, rest) = help.split_once("[default: ")?;
    rest.split_once(']').map(|(default, _)| default.to_owned())
}

/// A value with any password in it blanked out: a URL's own, any query
/// parameter named like one (`password=`, `sslpassword=`), and the whole of a
/// value that does not parse as a URL but may carry one (credentials before
/// an `@`, or a keyword/value connection string naming a password).
fn redacted(value: &str) -> String {
    let names_a_password = |name: &str| name.to_ascii_lowercase().contains("password");
    match url::Url::parse(value) {
        // Shown as given (a URL parser would add a trailing slash the issuer does not have).
        Ok(url)
            if url.password().is_none() && !url.query_pairs().any(|(name, _)| names_a_password(&name)) =>
        {
            value.to_owned()
        }
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("redacted"));
            }
            if url.query_pairs().any(|(name, _)| names_a_password(&name)) {
                let pairs: Vec<(String, String)> = url
                    .query_pairs()
                    .map(|(name, value)| match names_a_password(&name) {
                        true => (name.into_owned(), "redacted".to_owned()),
                        false => (name.into_owned(), value.into_owned()),
                    })
                    .collect();
                url.query_pairs_mut().clear().extend_pairs(pairs);
            }
            url.to_string()
        }
        Err(_) if value.contains('@') || names_a_password(value) => {
            "redacted (may hold a password)".to_owned()
        }
        Err(_) => value.to_owned(),
    }
}

/// `config show`'s table: each setting, its value and where it came from.
pub fn report(settings: &[Setting]) -> String {
    let mut out = format!("{:<28} {:<40} {}", "SETTING", "VALUE", "FROM");
    for setting in settings {
        let source = match &setting.source {
            Source::Flag => "flag".to_owned(),
            Source::Environment(name) => format!("environment {name}"),
            Source::File(file, line) => format!("file {file}:{line}"),
            Source::Default | Source::BuiltIn(_) => "default".to_owned(),
            Source::Unset => "unset".to_owned(),
        };
        out.push_str(&format!("\n{:<28} {:<40} {source}", setting.name, setting.value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn every_form_of_a_password_is_redacted() {
        let cases = [
            "postgres://tokend:hunter2@db.internal/tokend",
            "postgres://db.internal/tokend?user=tokend&password=hunter2",
            "postgres://db.internal/tokend?sslpassword=hunter2&sslmode=require",
            "postgres://tokend:hunter2@db internal/tokend",
            "host=db.internal user=tokend password=hunter2",
        ];
        for value in cases {
            let shown = redacted(value);
            assert!(!shown.contains("hunter2"), "{value} shown as {shown}");
        }
        assert_eq!(
            redacted("postgres://db.internal/tokend?sslmode=require&password=x"),
            "postgres://db.internal/tokend?sslmode=require&password=redacted"
        );
    }

    #[test]
    fn values_without_a_password_are_shown_as_they_are() {
        for value in
            ["sqlite://tokend.db", "30d", "/etc/tokend/ca.pem", "127.0.0.1:8443", "https://id.example"]
        {
            assert_eq!(redacted(value), value, "{value}: no trailing slash added");
        }
    }
}
