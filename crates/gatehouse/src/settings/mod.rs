//! Settings: one [`Settings`] struct serves the flags, the `GATEHOUSE_*` environment and the
//! settings file (`--config PATH`, TOML, keys named as the fields). Flags win over the
//! environment, which wins over the file, which wins over the defaults; each default is
//! written once, in the field's `#[arg]`. [`Settings::check`] validates them without
//! building a server.

pub mod cli;
pub mod file;
pub mod template;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, FromArgMatches, ValueEnum};
use gatehouse_core::compat::Profile;
use gatehouse_core::store::StoreUrl;
use serde::Deserialize;

use crate::auth::credentials::Credentials;
use crate::auth::Mode;
use crate::guards::faults::FaultRule;
use crate::guards::throttle::ThrottleConfig;

/// How requests are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Any access key is accepted and signatures are not checked (local use).
    #[default]
    Open,
    /// Only keys from --credentials, with valid SigV4 signatures.
    Strict,
}

/// A feature turned on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Switch {
    /// On.
    #[default]
    On,
    /// Off.
    Off,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Where strict mode's credentials come from: a credentials file, or (in the settings file)
/// `[[credentials]]` tables inline.
#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// A credentials file's path.
    File(PathBuf),
    /// The credentials themselves.
    Inline(Credentials),
}

impl From<PathBuf> for CredentialSource {
    fn from(path: PathBuf) -> Self {
        CredentialSource::File(path)
    }
}

impl FromStr for CredentialSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(CredentialSource::File(PathBuf::from(s)))
    }
}

impl<'de> Deserialize<'de> for CredentialSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match toml::Value::deserialize(d)? {
            toml::Value::String(path) => Ok(CredentialSource::File(path.into())),
            tables => {
                let mut file = toml::Table::new();
                file.insert("credentials".into(), tables);
                let text = toml::to_string(&file).map_err(serde::de::Error::custom)?;
                Credentials::parse(&text)
                    .map(CredentialSource::Inline)
                    .map_err(serde::de::Error::custom)
            }
        }
    }
}

/// Defines [`Settings`] from its fields, each written once, and the layering of the file's
/// values under the flags'.
macro_rules! settings {
    ($($(#[$attr:meta])* $field:ident: $ty:ty,)*) => {
        /// Every setting of `gatehouse serve`.
        #[derive(Debug, Clone, Args, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Settings {
            $($(#[$attr])* pub $field: $ty,)*
        }

        impl Settings {
            /// Takes from `file` every setting that `given` says no flag or environment
            /// variable set.
            fn layer_over(&mut self, file: Settings, given: impl Fn(&str) -> bool) {
                $(if !given(stringify!($field)) {
                    self.$field = file.$field;
                })*
            }
        }
    };
}

settings! {
    /// Address to listen on; port 0 picks a free port. The bound address is printed as
    /// `gatehouse listening on http://ADDR` once the server accepts connections.
    #[arg(long, env = "GATEHOUSE_LISTEN", default_value = "127.0.0.1:4599")]
    listen: SocketAddr,

    /// Also serve invoke URLs on this address (only invoke URLs: any path there is a stage
    /// path of the API its `{apiId}.execute-api.…` host names). Invoke URLs are always served
    /// on --listen too.
    #[arg(long, env = "GATEHOUSE_INVOKE_LISTEN")]
    invoke_listen: Option<SocketAddr>,

    /// Where the other replicas on the same PostgreSQL store reach this one (an
    /// `@connections` request for a WebSocket connection held here is passed here), e.g.
    /// `http://10.0.0.5:4599`. Default: the --listen address; an unspecified address
    /// (`0.0.0.0`, `[::]`) stands for this machine's address as the database sees it.
    #[arg(long, env = "GATEHOUSE_REPLICA_URL")]
    replica_url: Option<String>,

    /// `apiEndpoint` for CreateApi/GetApi as a template with `{apiId}` and `{region}`, e.g.
    /// `http://{apiId}.execute-api.localhost:4599` for URLs that work here. Default: AWS's
    /// `https://{apiId}.execute-api.{region}.amazonaws.com`.
    #[arg(long, env = "GATEHOUSE_API_ENDPOINT_TEMPLATE")]
    api_endpoint_template: Option<String>,

    /// Where state is kept: `sqlite:PATH` (created if missing; durable), `memory` (gone
    /// when the process ends), or `postgres://USER[:PASSWORD]@HOST:PORT/DB[?schema=NAME]`
    /// (shared by several replicas; migrations applied at start-up).
    #[arg(long, env = "GATEHOUSE_STORE", default_value = "sqlite:./.gatehouse/state.db")]
    store: StoreUrl,

    /// Region for requests that carry no SigV4 credential scope (e.g. plain curl).
    #[arg(long, env = "GATEHOUSE_DEFAULT_REGION", default_value = "us-east-1")]
    default_region: String,

    /// Account for requests whose access key id is not a 12-digit account id.
    #[arg(long, env = "GATEHOUSE_DEFAULT_ACCOUNT", default_value = "123456789012")]
    default_account: String,

    /// Compatibility profile: `aws` (AWS's rules and texts) or `moto` (accept what moto's
    /// server mode accepts and answer with its texts, so suites written against moto run
    /// unchanged; docs/fidelity.md lists every difference).
    #[arg(long, env = "GATEHOUSE_COMPAT", default_value = "aws")]
    compat: Profile,

    /// Most stages one API may have (AWS's default quota is 10).
    #[arg(long, env = "GATEHOUSE_MAX_STAGES_PER_API", default_value_t = 10)]
    max_stages_per_api: u32,

    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, env = "GATEHOUSE_BODY_LIMIT", default_value_t = 1024 * 1024)]
    body_limit: usize,

    /// `open`: any access key, signatures not checked (local use). `strict`: SigV4 verified
    /// against --credentials; each key acts as the account the file names.
    #[arg(long, env = "GATEHOUSE_AUTH", value_enum, default_value_t = AuthMode::Open)]
    auth: AuthMode,

    /// TOML file with one [[credentials]] table per key (access_key_id, secret_access_key,
    /// account_id, optional session_token); required by --auth strict. The settings file
    /// may hold the tables themselves.
    #[arg(long, env = "GATEHOUSE_CREDENTIALS")]
    credentials: Option<CredentialSource>,

    /// Allow open mode on a non-loopback address (anyone who reaches it can act as any
    /// account).
    #[arg(long, env = "GATEHOUSE_ALLOW_UNAUTHENTICATED_REMOTE")]
    allow_unauthenticated_remote: bool,

    /// Throttle the management API per account as AWS does (off by default); throttled
    /// calls get 429 TooManyRequestsException.
    #[arg(long, env = "GATEHOUSE_THROTTLE")]
    throttle: bool,

    /// With --throttle: sustained requests per second per account (AWS: 10).
    #[arg(long, env = "GATEHOUSE_THROTTLE_RATE", default_value_t = 10.0)]
    throttle_rate: f64,

    /// With --throttle: burst per account (AWS: 40).
    #[arg(long, env = "GATEHOUSE_THROTTLE_BURST", default_value_t = 40.0)]
    throttle_burst: f64,

    /// With --throttle: seconds between CreateDeployment calls per account (AWS: 5).
    #[arg(long, env = "GATEHOUSE_THROTTLE_DEPLOY_INTERVAL", default_value_t = 5.0)]
    throttle_deploy_interval: f64,

    /// Inject a fault: OPERATION=EXCEPTION[@RATE][#COUNT] or OPERATION=delay:MSms[@RATE][#COUNT],
    /// e.g. `GetStages=TooManyRequestsException@0.3`, `CreateStage=ConflictException#2`,
    /// `*=ServiceUnavailableException@0.05`. Repeatable; the environment variable takes a
    /// `;`-separated list.
    #[arg(long = "fault", env = "GATEHOUSE_FAULTS", value_delimiter = ';')]
    faults: Vec<String>,

    /// Most requests handled at once; more get 503 ServiceUnavailableException at once
    /// instead of queueing.
    #[arg(long, env = "GATEHOUSE_MAX_CONCURRENT_REQUESTS", default_value_t = 512)]
    max_concurrent_requests: usize,

    /// Seconds a client has to send a request's headers before the connection is closed.
    #[arg(long, env = "GATEHOUSE_HEADER_TIMEOUT", default_value_t = 10.0)]
    header_timeout: f64,

    /// Seconds an idle keep-alive connection is kept open.
    #[arg(long, env = "GATEHOUSE_IDLE_TIMEOUT", default_value_t = 60.0)]
    idle_timeout: f64,

    /// The Lambda Invoke API that AWS_PROXY integrations call
    /// (`POST {URL}/2015-03-31/functions/{name}/invocations`): the runtime interface
    /// emulator, `cargo lambda watch`, `sam local start-lambda`, LocalStack.
    #[arg(long, env = "GATEHOUSE_LAMBDA_ENDPOINT")]
    lambda_endpoint: Option<String>,

    /// Per-function Invoke API endpoints (settings file only: `[lambda_endpoints]` with
    /// `function-name = "http://127.0.0.1:9001"`); others use --lambda-endpoint.
    #[arg(skip)]
    lambda_endpoints: std::collections::BTreeMap<String, String>,

    /// Write every stage's access-log lines to FILE (appended), or `-` for stderr. The last
    /// 1,000 lines of each stage are also at `GET /_gatehouse/access-log/{apiId}/{stageName}`.
    #[arg(long, env = "GATEHOUSE_ACCESS_LOG")]
    access_log: Option<String>,

    /// Account-level limit on invoke requests per second, per region, across all APIs
    /// (AWS's default quota: 10,000). Raise it as one would ask AWS for a quota increase.
    #[arg(long, env = "GATEHOUSE_INVOKE_RATE_LIMIT", default_value_t = 10_000.0)]
    invoke_rate_limit: f64,

    /// Account-level burst of invoke requests, per region (AWS's default quota: 5,000).
    #[arg(long, env = "GATEHOUSE_INVOKE_BURST_LIMIT", default_value_t = 5_000.0)]
    invoke_burst_limit: f64,

    /// Seconds a WebSocket connection may go without a data frame either way before it is
    /// closed (AWS: 600). Shorten it to test `$disconnect`.
    #[arg(long, env = "GATEHOUSE_WEBSOCKET_IDLE_TIMEOUT", default_value_t = 600.0)]
    websocket_idle_timeout: f64,

    /// New WebSocket connections an account may open per second, per region (AWS's quota:
    /// 500; the same number at once). Raise it for load tests.
    #[arg(long, env = "GATEHOUSE_WEBSOCKET_CONNECT_RATE_LIMIT", default_value_t = 500.0)]
    websocket_connect_rate_limit: f64,

    /// Seconds a WebSocket connection may last (AWS: 7,200).
    #[arg(long, env = "GATEHOUSE_WEBSOCKET_MAX_DURATION", default_value_t = 7_200.0)]
    websocket_max_duration: f64,

    /// The web console at /_gatehouse/console/ (served in open mode).
    #[arg(long, env = "GATEHOUSE_CONSOLE", value_enum, default_value_t = Switch::On)]
    console: Switch,

    /// Invocations the inspector keeps per stage (`GET /_gatehouse/invocations`); 0 turns
    /// recording off.
    #[arg(long, env = "GATEHOUSE_INSPECTOR_RECORDS", default_value_t = 100)]
    inspector_records: usize,

    /// Mebibytes the inspector's traces may take together; past it, a stage's oldest go.
    #[arg(long, env = "GATEHOUSE_INSPECTOR_MEMORY", default_value_t = 64)]
    inspector_memory: usize,

    /// Whether the inspector keeps request, integration and response bodies (headers are
    /// kept either way; `Authorization` values are masked when a trace is shown).
    #[arg(long, env = "GATEHOUSE_RECORD_BODIES", value_enum, default_value_t = Switch::On)]
    record_bodies: Switch,

    /// Bytes the inspector keeps of each body; the rest is cut (the trace says how long the
    /// body was).
    #[arg(long, env = "GATEHOUSE_INSPECTOR_BODY_BYTES", default_value_t = 65_536)]
    inspector_body_bytes: usize,

    /// Settings file (TOML; keys are the flags' names with `_` for `-`). Flags and
    /// `GATEHOUSE_*` variables override it.
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,

    /// Load this state file (from `gatehouse export`) at start-up; stored APIs with the
    /// same ids are replaced, others are kept.
    #[arg(long, env = "GATEHOUSE_SEED")]
    seed: Option<PathBuf>,

    /// The template to serve (flags and environment only).
    #[command(flatten)]
    #[serde(skip)]
    template: template::TemplateArgs,

    /// Re-apply --template whenever its files change; a change that fails keeps the last
    /// good version serving.
    #[arg(long, env = "GATEHOUSE_WATCH")]
    #[serde(skip)]
    watch: bool,

    /// How log lines are written (the global `--log-format` flag sets it).
    #[arg(skip)]
    log_format: LogFormat,
}

impl Default for Settings {
    /// The defaults, as the flags declare them (the environment is not read).
    fn default() -> Self {
        let cmd = Settings::augment_args(clap::Command::new("gatehouse"))
            .mut_args(|a| a.env(None::<&'static str>));
        cmd.try_get_matches_from(["gatehouse"])
            .map_err(|e| e.to_string())
            .and_then(|m| Settings::from_arg_matches(&m).map_err(|e| e.to_string()))
            .unwrap_or_else(|e| unreachable!("the default settings parse: {e}"))
    }
}

/// A connection's time limits (`--header-timeout`, `--idle-timeout`).
pub use gatehouse_http::server::Timeouts;

/// Settings checked and turned into what the server runs with.
#[derive(Debug)]
pub struct Checked {
    /// How callers are authenticated (strict mode's credentials loaded).
    pub mode: Mode,
    /// WebSocket connections' idle and maximum-duration limits.
    pub websocket: gatehouse_dataplane::websocket::Limits,
    /// Parsed fault rules.
    pub faults: Vec<FaultRule>,
    /// Throttling, when on.
    pub throttle: Option<ThrottleConfig>,
    /// Connection timeouts.
    pub timeouts: Timeouts,
    /// Where access-log lines are written besides memory.
    pub access_log: Option<gatehouse_dataplane::observe::access_log::Sink>,
}

fn seconds(what: &str, s: f64) -> Result<Duration, String> {
    if s.is_finite() && s > 0.0 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(format!("{what} must be a positive number of seconds"))
    }
}

/// `Ok` for a 12-digit account id.
pub fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err("an account id is 12 digits".into())
    }
}

impl Settings {
    /// The defaults for an embedded or test server: a memory store on a free loopback port.
    pub fn ephemeral() -> Settings {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            store: StoreUrl::Memory,
            ..Settings::default()
        }
    }

    /// Checks the settings ([`Settings::validate`]) and opens what the server writes to (the
    /// access-log file, created if missing): what the server runs with.
    pub fn check(&self) -> Result<Checked, String> {
        let mut checked = self.validate()?;
        checked.access_log = match self.access_log.as_deref() {
            None => None,
            Some("-") => Some(gatehouse_dataplane::observe::access_log::Sink::Stderr),
            Some(path) => Some(gatehouse_dataplane::observe::access_log::Sink::File(
                std::sync::Mutex::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .map_err(|e| format!("--access-log {path}: {e}"))?,
                ),
            )),
        };
        Ok(checked)
    }

    /// Checks settings that cannot work (strict mode without credentials, an unreadable
    /// credentials file, open mode on a non-loopback address without the explicit flag, bad
    /// fault rules or limits) without creating or changing anything (`config check`); the
    /// access-log sink is left unopened.
    pub fn validate(&self) -> Result<Checked, String> {
        parse_account(&self.default_account).map_err(|e| format!("--default-account: {e}"))?;
        if self.max_stages_per_api == 0 {
            return Err("--max-stages-per-api must be at least 1".into());
        }
        let mode = self.auth_mode()?;
        let faults = self
            .faults
            .iter()
            .filter(|f| !f.trim().is_empty())
            .map(|f| FaultRule::parse(f.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("faults: {e}"))?;
        let throttle = self.throttle_config()?;
        if self.max_concurrent_requests == 0 {
            return Err("--max-concurrent-requests must be at least 1".into());
        }
        self.check_endpoints()?;
        self.check_access_log()?;
        if !(self.invoke_rate_limit >= 0.0
            && self.invoke_rate_limit.is_finite()
            && self.invoke_burst_limit >= 0.0
            && self.invoke_burst_limit.is_finite())
        {
            return Err("--invoke-rate-limit and --invoke-burst-limit must be numbers >= 0".into());
        }
        if !(self.websocket_connect_rate_limit >= 0.0
            && self.websocket_connect_rate_limit.is_finite())
        {
            return Err("--websocket-connect-rate-limit must be a number >= 0".into());
        }
        Ok(Checked {
            access_log: None,
            mode,
            faults,
            throttle,
            timeouts: Timeouts {
                header: seconds("--header-timeout", self.header_timeout)?,
                idle: seconds("--idle-timeout", self.idle_timeout)?,
            },
            websocket: gatehouse_dataplane::websocket::Limits {
                idle: seconds("--websocket-idle-timeout", self.websocket_idle_timeout)?,
                max_duration: seconds("--websocket-max-duration", self.websocket_max_duration)?,
            },
        })
    }

    /// How callers are authenticated: open mode (on a loopback address unless explicitly
    /// allowed elsewhere), or strict mode with its credentials loaded.
    fn auth_mode(&self) -> Result<Mode, String> {
        match self.auth {
            AuthMode::Open => {
                if !self.listen.ip().is_loopback() && !self.allow_unauthenticated_remote {
                    return Err(format!(
                        "refusing to listen on {} in open mode: anyone who can reach it could act as any account. \
                         Use --auth strict --credentials FILE, listen on a loopback address, \
                         or pass --allow-unauthenticated-remote if you accept that",
                        self.listen
                    ));
                }
                Ok(Mode::Open)
            }
            AuthMode::Strict => match &self.credentials {
                Some(CredentialSource::File(path)) => Ok(Mode::Strict(Credentials::load(path)?)),
                Some(CredentialSource::Inline(inline)) => Ok(Mode::Strict(inline.clone())),
                None => Err("--auth strict needs --credentials FILE (or GATEHOUSE_CREDENTIALS, or [[credentials]] in the settings file)".into()),
            },
        }
    }

    /// Per-account throttling of the management API, when it is on.
    fn throttle_config(&self) -> Result<Option<ThrottleConfig>, String> {
        if !self.throttle {
            return Ok(None);
        }
        if !(self.throttle_rate >= 0.0
            && self.throttle_burst >= 1.0
            && self.throttle_deploy_interval >= 0.0)
        {
            return Err("--throttle-rate must be >= 0, --throttle-burst >= 1 and --throttle-deploy-interval >= 0".into());
        }
        Ok(Some(ThrottleConfig {
            rate: self.throttle_rate,
            burst: self.throttle_burst,
            deploy_interval: self.throttle_deploy_interval,
        }))
    }

    /// The Lambda Invoke API endpoints are `http://` URLs; the API endpoint template names
    /// the API.
    fn check_endpoints(&self) -> Result<(), String> {
        let lambda = self
            .lambda_endpoint
            .iter()
            .map(|u| ("--lambda-endpoint", u));
        let per_function = self
            .lambda_endpoints
            .values()
            .map(|u| ("lambda_endpoints", u));
        for (name, url) in lambda.chain(per_function) {
            if !url.starts_with("http://") {
                return Err(format!(
                    "{name}: {url} is not an http:// URL of a Lambda Invoke API"
                ));
            }
        }
        if let Some(url) = &self.replica_url {
            if !url.starts_with("http://") || url.parse::<http::Uri>().is_err() {
                return Err(format!("--replica-url: {url} is not an http:// URL"));
            }
        }
        match &self.api_endpoint_template {
            Some(t) if !t.contains("{apiId}") => Err(format!(
                "--api-endpoint-template {t}: the template must contain {{apiId}}"
            )),
            _ => Ok(()),
        }
    }

    /// The access log, when it goes to a file, is a file in an existing directory.
    fn check_access_log(&self) -> Result<(), String> {
        let Some(path) = self.access_log.as_deref().filter(|p| *p != "-") else {
            return Ok(());
        };
        let path = std::path::Path::new(path);
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if path.is_dir() || !parent.is_dir() {
            return Err(format!(
                "--access-log {}: not a file in an existing directory",
                path.display()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_flags_alone() {
        let d = Settings::default();
        assert_eq!(d.listen, "127.0.0.1:4599".parse().unwrap());
        assert_eq!(d.store.to_string(), "sqlite:./.gatehouse/state.db");
        assert_eq!((d.max_stages_per_api, d.max_concurrent_requests), (10, 512));
        assert_eq!(d.auth, AuthMode::Open);
        assert!(d.check().is_ok());
        assert_eq!(Settings::ephemeral().store, StoreUrl::Memory);
    }
}
