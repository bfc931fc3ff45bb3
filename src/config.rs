//! Settings: flags win over `GATEHOUSE_*` variables, which win over the settings file
//! (`--config PATH`, TOML), which wins over defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

/// Where state is kept unless a flag, the environment or the settings file says otherwise.
pub const DEFAULT_STORE: &str = "sqlite:./.gatehouse/state.db";

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AuthMode {
    /// Any access key is accepted and signatures are not checked (local use).
    #[default]
    Open,
    /// Only keys from --credentials, with valid SigV4 signatures.
    Strict,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// gatehouse: an AWS-compatible API Gateway V2 for tests and shared development use.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, long_about = None)]
pub struct Cli {
    /// Log format on stderr (filter with RUST_LOG, e.g. `RUST_LOG=warn`).
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Server settings when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(Box<ServeArgs>),
    /// Write the stored state (all accounts, or one) as a versioned JSON document.
    Export(ExportArgs),
    /// Load a state file written by `export` into the store, all or nothing.
    Import(ImportArgs),
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
    /// `sqlite:./.gatehouse/state.db`).
    #[arg(long, env = "GATEHOUSE_STORE")]
    pub store: Option<String>,
    /// Settings file whose `store` to use.
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    pub config: Option<PathBuf>,
}

impl StoreArgs {
    /// The store URL: flag or environment, else the settings file, else the default.
    pub fn resolve(&self) -> Result<String, String> {
        if let Some(s) = &self.store {
            return Ok(s.clone());
        }
        if let Some(path) = &self.config {
            if let Some(s) = FileConfig::load(path)?.store {
                return Ok(s);
            }
        }
        Ok(DEFAULT_STORE.into())
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

/// Settings of `gatehouse serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. The bound address is printed as
    /// `gatehouse listening on http://ADDR` once the server accepts connections.
    #[arg(long, env = "GATEHOUSE_LISTEN", default_value = "127.0.0.1:4599")]
    pub listen: SocketAddr,

    /// Where state is kept: `sqlite:PATH` (created if missing; durable), `memory` (gone
    /// when the process ends), or `postgres://USER[:PASSWORD]@HOST:PORT/DB[?schema=NAME]`
    /// (shared by several replicas; migrations applied at start-up).
    #[arg(long, env = "GATEHOUSE_STORE", default_value = DEFAULT_STORE)]
    pub store: String,

    /// Region for requests that carry no SigV4 credential scope (e.g. plain curl).
    #[arg(long, env = "GATEHOUSE_DEFAULT_REGION", default_value = "us-east-1")]
    pub default_region: String,

    /// Account for requests whose access key id is not a 12-digit account id.
    #[arg(long, env = "GATEHOUSE_DEFAULT_ACCOUNT", default_value = "123456789012", value_parser = parse_account)]
    pub default_account: String,

    /// Most stages one API may have (AWS's default quota is 10).
    #[arg(long, env = "GATEHOUSE_MAX_STAGES_PER_API", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_stages_per_api: u32,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "GATEHOUSE_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,

    /// `open`: any access key, signatures not checked (local use). `strict`: SigV4 verified
    /// against --credentials; each key acts as the account the file names.
    #[arg(long, env = "GATEHOUSE_AUTH", value_enum, default_value_t = AuthMode::Open)]
    pub auth: AuthMode,

    /// TOML file with one [[credentials]] table per key (access_key_id, secret_access_key,
    /// account_id, optional session_token); required by --auth strict.
    #[arg(long, env = "GATEHOUSE_CREDENTIALS")]
    pub credentials: Option<PathBuf>,

    /// Allow open mode on a non-loopback address (anyone who reaches it can act as any
    /// account).
    #[arg(long, env = "GATEHOUSE_ALLOW_UNAUTHENTICATED_REMOTE")]
    pub allow_unauthenticated_remote: bool,

    /// Throttle the management API per account as AWS does (off by default); throttled
    /// calls get 429 TooManyRequestsException.
    #[arg(long, env = "GATEHOUSE_THROTTLE")]
    pub throttle: bool,

    /// With --throttle: sustained requests per second per account (AWS: 10).
    #[arg(long, env = "GATEHOUSE_THROTTLE_RATE", default_value_t = 10.0)]
    pub throttle_rate: f64,

    /// With --throttle: burst per account (AWS: 40).
    #[arg(long, env = "GATEHOUSE_THROTTLE_BURST", default_value_t = 40.0)]
    pub throttle_burst: f64,

    /// With --throttle: seconds between CreateDeployment calls per account (AWS: 5).
    #[arg(
        long,
        env = "GATEHOUSE_THROTTLE_DEPLOY_INTERVAL",
        default_value_t = 5.0
    )]
    pub throttle_deploy_interval: f64,

    /// Inject a fault: OPERATION=EXCEPTION[@RATE][#COUNT] or OPERATION=delay:MSms[@RATE][#COUNT],
    /// e.g. `GetStages=TooManyRequestsException@0.3`, `CreateStage=ConflictException#2`,
    /// `*=ServiceUnavailableException@0.05`. Repeatable; the environment variable takes a
    /// `;`-separated list.
    #[arg(long = "fault", env = "GATEHOUSE_FAULTS", value_delimiter = ';')]
    pub faults: Vec<String>,

    /// Most requests handled at once; more get 503 ServiceUnavailableException at once
    /// instead of queueing.
    #[arg(long, env = "GATEHOUSE_MAX_CONCURRENT_REQUESTS", default_value_t = 512)]
    pub max_concurrent_requests: usize,

    /// Seconds a client has to send a request's headers before the connection is closed.
    #[arg(long, env = "GATEHOUSE_HEADER_TIMEOUT", default_value_t = 10.0)]
    pub header_timeout: f64,

    /// Seconds an idle keep-alive connection is kept open.
    #[arg(long, env = "GATEHOUSE_IDLE_TIMEOUT", default_value_t = 60.0)]
    pub idle_timeout: f64,

    /// Settings file (TOML; keys are the flags' names with `_` for `-`). Flags and
    /// `GATEHOUSE_*` variables override it.
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    pub config: Option<PathBuf>,

    /// Load this state file (from `gatehouse export`) at start-up; stored APIs with the
    /// same ids are replaced, others are kept.
    #[arg(long, env = "GATEHOUSE_SEED")]
    pub seed: Option<PathBuf>,

    /// Credentials given inline in the settings file (`[[credentials]]` tables).
    #[arg(skip)]
    pub inline_credentials: Option<crate::auth::credentials::Credentials>,
}

fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err("an account id is 12 digits".into())
    }
}

impl Default for ServeArgs {
    fn default() -> Self {
        ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            store: "memory".into(),
            default_region: "us-east-1".into(),
            default_account: "123456789012".into(),
            max_stages_per_api: 10,
            body_limit: 1024 * 1024,
            auth: AuthMode::Open,
            credentials: None,
            allow_unauthenticated_remote: false,
            throttle: false,
            throttle_rate: 10.0,
            throttle_burst: 40.0,
            throttle_deploy_interval: 5.0,
            faults: Vec::new(),
            max_concurrent_requests: 512,
            header_timeout: 10.0,
            idle_timeout: 60.0,
            config: None,
            seed: None,
            inline_credentials: None,
        }
    }
}

/// `credentials` in the settings file: a file's path, or `[[credentials]]` tables inline.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CredentialsSetting {
    /// Path of a credentials file.
    File(PathBuf),
    /// The credentials themselves.
    Inline(toml::Value),
}

/// The settings file. Every key is optional; unknown keys are an error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--store`.
    pub store: Option<String>,
    /// `--default-region`.
    pub default_region: Option<String>,
    /// `--default-account`.
    pub default_account: Option<String>,
    /// `--max-stages-per-api`.
    pub max_stages_per_api: Option<u32>,
    /// `--body-limit`.
    pub body_limit: Option<usize>,
    /// `--auth`: `open` or `strict`.
    pub auth: Option<String>,
    /// `--credentials` (a path), or inline `[[credentials]]` tables.
    pub credentials: Option<CredentialsSetting>,
    /// `--allow-unauthenticated-remote`.
    pub allow_unauthenticated_remote: Option<bool>,
    /// `--throttle`.
    pub throttle: Option<bool>,
    /// `--throttle-rate`.
    pub throttle_rate: Option<f64>,
    /// `--throttle-burst`.
    pub throttle_burst: Option<f64>,
    /// `--throttle-deploy-interval`.
    pub throttle_deploy_interval: Option<f64>,
    /// `--fault`, as a list.
    pub faults: Option<Vec<String>>,
    /// `--max-concurrent-requests`.
    pub max_concurrent_requests: Option<usize>,
    /// `--header-timeout`.
    pub header_timeout: Option<f64>,
    /// `--idle-timeout`.
    pub idle_timeout: Option<f64>,
    /// `--seed`.
    pub seed: Option<PathBuf>,
    /// `--log-format`: `text` or `json`.
    pub log_format: Option<String>,
}

impl FileConfig {
    /// Parses a settings file's text; the error names the bad key and where it is.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())
    }

    /// Reads and parses a settings file.
    pub fn load(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read settings file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("settings file {}: {e}", path.display()))
    }

    /// Writes the file's settings into `args` and `log_format`, except those for which
    /// `explicit(id)` says a flag or the environment gave a value. Every value in the file
    /// is checked, used or not.
    pub fn apply(
        self,
        args: &mut ServeArgs,
        log_format: &mut LogFormat,
        explicit: impl Fn(&str) -> bool,
    ) -> Result<(), String> {
        let bad = |key: &str, e: String| format!("{key}: {e}");
        macro_rules! set {
            ($key:ident, $value:expr) => {
                if let Some(v) = $value {
                    if !explicit(stringify!($key)) {
                        args.$key = v;
                    }
                }
            };
        }
        let listen = self
            .listen
            .map(|l| {
                l.parse::<SocketAddr>()
                    .map_err(|e| bad("listen", e.to_string()))
            })
            .transpose()?;
        let account = self
            .default_account
            .map(|a| parse_account(&a).map_err(|e| bad("default_account", e)))
            .transpose()?;
        let auth = self
            .auth
            .map(|a| {
                AuthMode::from_str(&a, false)
                    .map_err(|_| bad("auth", format!("{a:?} is not open or strict")))
            })
            .transpose()?;
        let format = self
            .log_format
            .map(|f| {
                LogFormat::from_str(&f, false)
                    .map_err(|_| bad("log_format", format!("{f:?} is not text or json")))
            })
            .transpose()?;
        if self.max_stages_per_api == Some(0) {
            return Err(bad("max_stages_per_api", "must be at least 1".into()));
        }
        for rule in self.faults.iter().flatten() {
            crate::limits::FaultRule::parse(rule.trim()).map_err(|e| bad("faults", e))?;
        }
        let (credentials, inline) = match self.credentials {
            None => (None, None),
            Some(CredentialsSetting::File(p)) => (Some(p), None),
            Some(CredentialsSetting::Inline(v)) => {
                let mut table = toml::Table::new();
                table.insert("credentials".into(), v);
                let text =
                    toml::to_string(&table).map_err(|e| bad("credentials", e.to_string()))?;
                let creds = crate::auth::credentials::Credentials::parse(&text)
                    .map_err(|e| bad("credentials", e))?;
                (None, Some(creds))
            }
        };
        set!(listen, listen);
        set!(store, self.store);
        set!(default_region, self.default_region);
        set!(default_account, account);
        set!(max_stages_per_api, self.max_stages_per_api);
        set!(body_limit, self.body_limit);
        set!(auth, auth);
        if !explicit("credentials") {
            if credentials.is_some() {
                args.credentials = credentials;
            }
            if inline.is_some() {
                args.inline_credentials = inline;
            }
        }
        set!(
            allow_unauthenticated_remote,
            self.allow_unauthenticated_remote
        );
        set!(throttle, self.throttle);
        set!(throttle_rate, self.throttle_rate);
        set!(throttle_burst, self.throttle_burst);
        set!(throttle_deploy_interval, self.throttle_deploy_interval);
        set!(faults, self.faults);
        set!(max_concurrent_requests, self.max_concurrent_requests);
        set!(header_timeout, self.header_timeout);
        set!(idle_timeout, self.idle_timeout);
        if let Some(seed) = self.seed {
            if !explicit("seed") {
                args.seed = Some(seed);
            }
        }
        if let Some(f) = format {
            if !explicit("log_format") {
                *log_format = f;
            }
        }
        Ok(())
    }
}

/// What to run, with every setting resolved.
#[derive(Debug)]
pub enum Resolved {
    /// Serve with these settings.
    Serve(Box<ServeArgs>),
    /// Export.
    Export(ExportArgs),
    /// Import.
    Import(ImportArgs),
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

/// Parses the command line (exits on `--help` or a usage error) and layers the settings
/// file under flags and the environment.
pub fn resolve_from(matches: &ArgMatches) -> Result<(LogFormat, Resolved), String> {
    use clap::FromArgMatches;
    let cli = Cli::from_arg_matches(matches).map_err(|e| e.to_string())?;
    let mut log_format = cli.log_format;
    let (args, sub) = match cli.command {
        Some(Command::Serve(args)) => (*args, matches.subcommand_matches("serve")),
        None => (cli.serve, None),
        Some(Command::Export(a)) => return Ok((log_format, Resolved::Export(a))),
        Some(Command::Import(a)) => return Ok((log_format, Resolved::Import(a))),
        Some(Command::Config(ConfigCommand::Check { path })) => {
            return Ok((log_format, Resolved::CheckConfig(path)))
        }
    };
    let mut args = args;
    if let Some(path) = args.config.clone() {
        let file = FileConfig::load(&path)?;
        let m = sub.unwrap_or(matches);
        file.apply(&mut args, &mut log_format, |id| {
            given(m, id) || (id == "log_format" && given(matches, id))
        })
        .map_err(|e| format!("settings file {}: {e}", path.display()))?;
    }
    Ok((log_format, Resolved::Serve(Box::new(args))))
}

/// Checks a settings file the way `serve --config` would use it (with no flags or
/// environment): every key known, every value valid, credentials readable.
pub fn check_file(path: &Path) -> Result<(), String> {
    let file = FileConfig::load(path)?;
    let mut args = ServeArgs {
        listen: SocketAddr::from(([127, 0, 0, 1], 4599)),
        store: DEFAULT_STORE.into(),
        ..ServeArgs::default()
    };
    let mut format = LogFormat::Text;
    let prefix = |e: String| format!("settings file {}: {e}", path.display());
    file.apply(&mut args, &mut format, |_| false)
        .map_err(prefix)?;
    crate::server::App::new(
        &args,
        std::sync::Arc::new(crate::store::memory::MemoryStore::new()),
    )
    .map_err(prefix)?;
    crate::store::check_url(&args.store).map_err(|e| prefix(format!("store: {e}")))?;
    if let Some(seed) = &args.seed {
        let text = std::fs::read_to_string(seed)
            .map_err(|e| prefix(format!("seed: cannot read {}: {e}", seed.display())))?;
        crate::statefile::parse(&text)
            .map_err(|e| prefix(format!("seed {}: {e}", seed.display())))?;
    }
    Ok(())
}
