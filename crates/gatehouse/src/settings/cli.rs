//! The command line: `serve` (the default), `export`, `import` and `config check`, and how
//! the settings file is layered under flags and the environment.

use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, FromArgMatches, Parser, Subcommand};
use gatehouse_core::store::StoreUrl;

use super::{file, parse_account, LogFormat, Settings};

/// gatehouse: an AWS-compatible API Gateway V2 for tests and shared development use.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, long_about = None)]
pub struct Cli {
    /// Log format on stderr (filter with RUST_LOG, e.g. `RUST_LOG=warn`).
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::default(), global = true)]
    pub log_format: LogFormat,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Server settings when no subcommand is given.
    #[command(flatten)]
    pub serve: Settings,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(Box<Settings>),
    /// Write the stored state (all accounts, or one) as a versioned JSON document.
    Export(ExportArgs),
    /// Load a state file written by `export` into the store, all or nothing.
    Import(ImportArgs),
    /// Apply a template (CloudFormation, SAM, a CDK cloud assembly, a Serverless package)
    /// to a running gatehouse, all or nothing.
    Deploy(Box<super::template::DeployArgs>),
    /// Work with settings files.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `gatehouse config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a settings file: unknown keys and bad values are named; exit status 1 if any.
    Check {
        /// The TOML settings file.
        path: PathBuf,
    },
}

/// Where `export` and `import` find the store.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// The store, as for `serve --store` (default: the settings file's `store`, else
    /// `serve`'s default).
    #[arg(long, env = "GATEHOUSE_STORE")]
    pub store: Option<StoreUrl>,
    /// Settings file whose `store` to use.
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    pub config: Option<PathBuf>,
}

impl StoreArgs {
    /// The store: flag or environment, else the settings file's, else the default.
    pub fn resolve(&self) -> Result<StoreUrl, String> {
        if let Some(s) = &self.store {
            return Ok(s.clone());
        }
        match &self.config {
            Some(path) => Ok(file::load(path)?.store),
            None => Ok(Settings::default().store),
        }
    }
}

/// Settings of `gatehouse export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Where the state is.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only this account's APIs (all regions).
    #[arg(long, value_parser = parse_account)]
    pub account: Option<String>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Settings of `gatehouse import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The state file (from `gatehouse export`).
    pub file: PathBuf,
    /// Where to load it.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Replace stored APIs that have the same ids (by default any such API refuses the
    /// whole import).
    #[arg(long)]
    pub replace: bool,
}

/// What to run, with every setting resolved.
#[derive(Debug)]
pub enum Resolved {
    /// Serve with these settings.
    Serve(Box<Settings>),
    /// Export.
    Export(ExportArgs),
    /// Import.
    Import(ImportArgs),
    /// Deploy a template.
    Deploy(Box<super::template::DeployArgs>),
    /// Check a settings file.
    CheckConfig(PathBuf),
}

/// Whether a flag or the environment gave `id` a value.
fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(m.try_get_raw(id), Ok(Some(_)))
        && matches!(
            m.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        )
}

/// Parses the command line (as clap matched it) and layers the settings file under flags
/// and the environment. Returns the log format too: every subcommand logs.
pub fn resolve(matches: &ArgMatches) -> Result<(LogFormat, Resolved), String> {
    let cli = Cli::from_arg_matches(matches).map_err(|e| e.to_string())?;
    let log_format = cli.log_format;
    let (settings, sub) = match cli.command {
        Some(Command::Serve(settings)) => (*settings, matches.subcommand_matches("serve")),
        None => (cli.serve, None),
        Some(Command::Export(a)) => return Ok((log_format, Resolved::Export(a))),
        Some(Command::Import(a)) => return Ok((log_format, Resolved::Import(a))),
        Some(Command::Deploy(a)) => return Ok((log_format, Resolved::Deploy(a))),
        Some(Command::Config(ConfigCommand::Check { path })) => {
            return Ok((log_format, Resolved::CheckConfig(path)))
        }
    };
    let mut settings = Settings {
        log_format,
        ..settings
    };
    if let Some(path) = settings.config.clone() {
        let file = file::load(&path)?;
        let m = sub.unwrap_or(matches);
        settings = settings.over_file(file, |id| {
            given(m, id) || (id == "log_format" && given(matches, id))
        });
    }
    Ok((settings.log_format, Resolved::Serve(Box::new(settings))))
}
