//! What every operation works with: the service it runs in, the caller's context, its input
//! and its reply, and the store's failures in AWS's words.

use std::sync::Arc;

use bytes::Bytes;
use gatehouse_core::compat::{self, Profile, Rule};
use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};
use gatehouse_core::model::{ids, Scope};
use gatehouse_core::store::{Kind, SharedStore, StoreError};

use super::render::RenderCache;
use crate::api::Operation;
use crate::wire;

/// Settings that change what operations do.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Most stages one API may have (AWS's default quota: 10).
    pub max_stages_per_api: usize,
    /// The compatibility profile (`--compat`).
    pub profile: Profile,
    /// `apiEndpoint` as a template (`{apiId}`, `{region}`), if not AWS's form.
    pub api_endpoint_template: Option<String>,
}

/// What every operation can reach.
#[derive(Clone)]
pub struct Service {
    /// The store.
    pub store: SharedStore,
    /// Operation settings.
    pub config: Arc<ServiceConfig>,
    /// Wire JSON of stored documents, rendered once each.
    pub renders: Arc<RenderCache>,
}

impl Service {
    /// A service on `store`.
    pub fn new(store: SharedStore, config: ServiceConfig) -> Service {
        Service {
            store,
            config: Arc::new(config),
            renders: Arc::default(),
        }
    }
}

/// The caller and the operation, resolved before the operation runs.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The account and region the request acts in.
    pub scope: Scope,
    /// The operation being run.
    pub op: Operation,
    /// The compatibility profile.
    pub profile: Profile,
    /// The id a record this operation creates gets, where its caller chose one (a
    /// template's stable ids); else the operation draws a random one.
    pub planned_id: Option<String>,
}

/// The message for a concurrent change that lost, and for the (astronomically rare) draw
/// of a new random id that is already taken.
pub const ID_TAKEN: &str =
    "Unable to complete operation due to concurrent modification. Please try again later.";

impl Ctx {
    /// The id of the record this operation creates: the planned one, else a random one of
    /// `len` characters (as AWS issues them).
    pub fn new_id(&self, len: usize) -> String {
        match &self.planned_id {
            Some(id) => id.clone(),
            None => ids::random_id(len),
        }
    }

    /// `{accountId}:{apiId}`, as AWS names an API in messages.
    pub fn api_label(&self, api_id: &str) -> String {
        format!("{}:{api_id}", self.scope.account)
    }

    /// NotFoundException for a record of `kind`: a root `root_id`, or child `key` of root
    /// `root_id`, in AWS's words (`Invalid stage identifier specified ACCOUNT:API:STAGE`).
    pub fn not_found(&self, kind: Kind, root_id: &str, key: &str) -> ApiError {
        let noun = kind.spec().noun;
        if !self.profile.enforces(Rule::NotFoundNamesAccount) {
            if let Some(text) = compat::moto_not_found(kind.as_str()) {
                return ApiError::not_found(text);
            }
            if !kind.spec().names_id {
                return ApiError::not_found(format!("Invalid {noun} identifier specified"));
            }
            let id = if kind.is_root() { root_id } else { key };
            return ApiError::not_found(format!("Invalid {noun} identifier specified {id}"));
        }
        if !kind.spec().names_id {
            return ApiError::not_found(format!("Invalid {noun} identifier specified"));
        }
        let label = self.api_label(root_id);
        ApiError::not_found(if kind.is_root() {
            format!("Invalid {noun} identifier specified {label}")
        } else {
            format!("Invalid {noun} identifier specified {label}:{key}")
        })
    }

    /// NotFoundException for an API.
    pub fn api_not_found(&self, api_id: &str) -> ApiError {
        self.not_found(Kind::Api, api_id, "")
    }

    /// NotFoundException for a stage.
    pub fn stage_not_found(&self, api_id: &str, stage: &str) -> ApiError {
        self.not_found(Kind::Stage, api_id, stage)
    }

    /// Maps a store failure on root `root_id` (and child `key`, if any) to the public error.
    pub fn store_error(&self, e: StoreError, root_id: &str, key: Option<&str>) -> ApiError {
        match e {
            StoreError::NotFound(kind) => self.not_found(kind, root_id, key.unwrap_or("")),
            StoreError::Conflict => ApiError::conflict(ID_TAKEN),
            other => other.into_api_error(),
        }
    }
}

/// An operation's input as it came off the wire, besides its path.
pub struct Input {
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// The raw body.
    pub body: Bytes,
}

/// The media type of every AWS operation's body.
pub const JSON: &str = "application/json";

/// An operation's success body (the status is the table's).
#[derive(Debug)]
pub struct Reply {
    /// Body; `None` for an empty one. Bytes, so a cached rendering is sent without a copy.
    pub body: Option<Bytes>,
    /// The body's media type.
    pub content_type: &'static str,
}

impl Reply {
    /// A JSON reply.
    pub fn json<T: serde::Serialize>(value: &T) -> ApiResult<Reply> {
        Self::json_text(wire::to_json(value)?)
    }

    /// A reply whose JSON body is already rendered.
    pub fn json_text(body: impl Into<Bytes>) -> ApiResult<Reply> {
        Ok(Reply {
            body: Some(body.into()),
            content_type: JSON,
        })
    }

    /// No body (204).
    pub fn empty() -> ApiResult<Reply> {
        Ok(Reply {
            body: None,
            content_type: JSON,
        })
    }
}

/// The handler of every operation of the model that gatehouse does not implement yet.
pub async fn not_implemented<P: Send>(_: &Service, ctx: &Ctx, _: P, _: Input) -> ApiResult<Reply> {
    Err(ApiError::new(
        ErrorKind::NotImplemented,
        format!("{} is not implemented by gatehouse yet", ctx.op.name()),
    ))
}
