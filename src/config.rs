//! Command line and environment: flags win over `GATEHOUSE_*` variables, which win over
//! defaults.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    Serve(ServeArgs),
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
    #[arg(
        long,
        env = "GATEHOUSE_STORE",
        default_value = "sqlite:./.gatehouse/state.db"
    )]
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
        }
    }
}
