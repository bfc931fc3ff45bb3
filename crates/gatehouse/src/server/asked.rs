//! What gatehouse's own endpoints about one API are asked (`/_gatehouse/invocations`,
//! `/diff`, `/connections`, `/explain`): the query's parameters, and the API's account and
//! region once the caller may know them (in strict mode, the owning account or an admin).

use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::{time, Scope};
use http::request::Parts;

use super::app::App;
use crate::auth::sigv4;
use crate::wire;

/// A request's query parameters.
pub struct Asked {
    pairs: Vec<(String, String)>,
}

impl Asked {
    /// The query of `parts`.
    pub fn of(parts: &Parts) -> ApiResult<Asked> {
        Ok(Asked {
            pairs: wire::parse_query(parts.uri.query())?,
        })
    }

    /// Parameter `name`, when given and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        wire::query_param(&self.pairs, name).filter(|v| !v.is_empty())
    }

    /// Parameter `name`, or a 400 saying it is required.
    pub fn required(&self, name: &str) -> ApiResult<&str> {
        self.get(name)
            .ok_or_else(|| ApiError::bad_request(format!("The query parameter {name} is required")))
    }
}

/// Refuses `parts` unless its caller may read what `owner` owns (none: nothing was found),
/// saying `denied`.
pub fn may_read(app: &App, parts: &Parts, owner: Option<&str>, denied: &str) -> ApiResult<()> {
    let signed = sigv4::Request::bodyless(parts);
    app.auth.owner_or_admin(&signed, owner, denied, time::now())
}

/// The account and region of API `api_id` (in the query's `region` when it names one, else
/// wherever it is), once the caller may read it; else 403 (`denied`), or 404 with why.
pub async fn owned_api(
    app: &App,
    parts: &Parts,
    asked: &Asked,
    api_id: &str,
    denied: &str,
) -> ApiResult<Scope> {
    let found = app.dataplane.scope_of(asked.get("region"), api_id).await;
    let owner = found.as_ref().ok().map(|scope| scope.account.as_str());
    may_read(app, parts, owner, denied)?;
    found.map_err(|refusal| ApiError::not_found(refusal.why))
}
