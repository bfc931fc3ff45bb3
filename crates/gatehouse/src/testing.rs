//! Run gatehouse inside your own Rust tests (feature `testing`).
//!
//! [`TestServer::start`] serves a fresh in-memory store on a free loopback port in the
//! current tokio runtime; [`TestServer::aws_config`] hands back an `aws_config` loader
//! already pointed at it (region `us-east-1`, test credentials acting as account
//! `123456789012`), so the code under test needs nothing else:
//!
//! ```
//! use aws_sdk_apigatewayv2::types::ProtocolType;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let gatehouse = gatehouse::testing::TestServer::start().await;
//! let config = gatehouse.aws_config().load().await;
//! let client = aws_sdk_apigatewayv2::Client::new(&config);
//!
//! let api = client
//!     .create_api()
//!     .name("orders")
//!     .protocol_type(ProtocolType::Http)
//!     .send()
//!     .await
//!     .unwrap();
//! let api_id = api.api_id().unwrap();
//! client.create_stage().api_id(api_id).stage_name("dev").send().await.unwrap();
//! let stages = client.get_stages().api_id(api_id).send().await.unwrap();
//! assert_eq!(stages.items().len(), 1);
//! # gatehouse.stop().await;
//! # }
//! ```
//!
//! Add it as a dev-dependency: `gatehouse = { version = "…", features = ["testing"] }`.
//! The server stops when the [`TestServer`] is dropped (or at once with
//! [`TestServer::stop`]).

use aws_config::{BehaviorVersion, ConfigLoader, Region};
use aws_credential_types::Credentials;

use crate::server::{self, RunningServer};
use crate::settings::Settings;

/// The account the credentials of [`TestServer::aws_config`] act as.
pub const ACCOUNT: &str = "123456789012";
/// The region of [`TestServer::aws_config`].
pub const REGION: &str = "us-east-1";

/// A gatehouse serving on a free loopback port with an in-memory store.
pub struct TestServer {
    server: RunningServer,
}

impl TestServer {
    /// Starts a server with default settings (open mode, memory store).
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> TestServer {
        match Self::start_with(|_| {}).await {
            Ok(s) => s,
            Err(e) => panic!("gatehouse test server did not start: {e}"),
        }
    }

    /// Starts a server with settings changed by `tweak` (they start as
    /// [`Settings::ephemeral`]: memory store, `127.0.0.1:0`, open mode).
    pub async fn start_with(tweak: impl FnOnce(&mut Settings)) -> Result<TestServer, String> {
        let mut args = Settings::ephemeral();
        tweak(&mut args);
        Ok(TestServer {
            server: server::start(&args).await?,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    /// An `aws_config` loader pointed at this server: endpoint, region `us-east-1`, static
    /// test credentials (account `123456789012`), latest behaviour version. Add to it
    /// before `.load().await` as usual.
    pub fn aws_config(&self) -> ConfigLoader {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                ACCOUNT,
                "gatehouse-test-secret",
                None,
                None,
                "gatehouse-testing",
            ))
    }

    /// The underlying running server (address, store).
    pub fn server(&self) -> &RunningServer {
        &self.server
    }

    /// Stops the server and waits for in-flight requests to finish.
    pub async fn stop(self) {
        self.server.stop().await
    }
}
