//! Stacks: templates applied by the template engine. `gatehouse serve --template` applies
//! one at start-up (and, with `--watch`, whenever its files change); `gatehouse deploy`
//! sends one to `PUT /_gatehouse/stacks/{name}`; `GET /_gatehouse/stacks` lists them and
//! `DELETE /_gatehouse/stacks/{name}` deletes one with everything it created.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use gatehouse_core::error::{ApiError, ApiResult};
use gatehouse_core::model::stack::Stack;
use gatehouse_core::model::Scope;
use gatehouse_core::store::{Kind, SharedStore, StoreError};
use http::request::Parts;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::app::App;
use crate::ops::{Reply, ServiceConfig};
use crate::settings::template::TemplateArgs;
use crate::settings::Settings;
use crate::template::report::{self, Base};
use crate::template::{self, Request};

const PREFIX: &str = "/_gatehouse/stacks";

/// Answers `/_gatehouse/stacks[/{name}]` for the signed caller's account and region, or
/// `None` for another path.
pub async fn answer(
    app: &App,
    parts: &Parts,
    body: &Bytes,
    scope: &Scope,
) -> Option<ApiResult<(StatusCode, Reply)>> {
    let rest = parts.uri.path().strip_prefix(PREFIX)?;
    let name = match rest {
        "" | "/" => None,
        r => Some(
            percent_encoding::percent_decode_str(r.trim_start_matches('/'))
                .decode_utf8_lossy()
                .into_owned(),
        ),
    };
    let store = &app.service.store;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let base = Base::called_as(host.unwrap_or("127.0.0.1"));
    Some(match (&parts.method, name) {
        (&Method::GET, None) => list(store, scope, &base).await,
        (&Method::GET, Some(name)) => get(store, scope, &name, &base).await,
        (&Method::PUT, Some(name)) => {
            put(store, &app.service.config, scope, &name, &base, body).await
        }
        (&Method::DELETE, Some(name)) => delete(store, &app.service.config, scope, &name).await,
        _ => return None,
    })
}

async fn list(store: &SharedStore, scope: &Scope, base: &Base) -> ApiResult<(StatusCode, Reply)> {
    let page = store
        .list_roots(scope, Kind::Stack, 0, 1000)
        .await
        .map_err(StoreError::into_api_error)?;
    let stacks: Vec<Value> = page
        .items
        .into_iter()
        .filter_map(|(_, doc)| serde_json::from_str::<Stack>(&doc).ok())
        .map(|s| report::stack_json(&s, base))
        .collect();
    Ok((StatusCode::OK, Reply::json(&json!({ "stacks": stacks }))?))
}

async fn get(
    store: &SharedStore,
    scope: &Scope,
    name: &str,
    base: &Base,
) -> ApiResult<(StatusCode, Reply)> {
    let stack = stored(store, scope, name).await?;
    Ok((
        StatusCode::OK,
        Reply::json(&report::stack_json(&stack, base))?,
    ))
}

/// The stack `name` of `scope`, or AWS-worded 404.
async fn stored(store: &SharedStore, scope: &Scope, name: &str) -> ApiResult<Stack> {
    match store.get_root(scope, Kind::Stack, name).await {
        Ok(doc) => serde_json::from_str(&doc)
            .map_err(|_| ApiError::internal("The stored stack could not be read")),
        Err(StoreError::NotFound(_)) => {
            Err(ApiError::not_found(format!("Stack {name} does not exist")))
        }
        Err(e) => Err(e.into_api_error()),
    }
}

async fn put(
    store: &SharedStore,
    config: &ServiceConfig,
    scope: &Scope,
    name: &str,
    base: &Base,
    body: &Bytes,
) -> ApiResult<(StatusCode, Reply)> {
    let mut request: Request = serde_json::from_slice(body)
        .map_err(|_| ApiError::bad_request("The body must be {\"templates\": [{\"name\": …, \"body\": {…}}], \"parameters\": {…}, \"functions\": {…}}"))?;
    template::check_stack_name(name).map_err(ApiError::bad_request)?;
    if request.templates.is_empty() {
        return Err(ApiError::bad_request(template::NO_RESOURCES));
    }
    request.stack_name = name.to_string();
    let outcome = template::apply(store, config, scope, &request)
        .await
        .map_err(|f| ApiError::bad_request(f.to_string()))?;
    Ok((
        StatusCode::OK,
        Reply::json(&report::outcome_json(&outcome, base))?,
    ))
}

async fn delete(
    store: &SharedStore,
    config: &ServiceConfig,
    scope: &Scope,
    name: &str,
) -> ApiResult<(StatusCode, Reply)> {
    stored(store, scope, name).await?;
    let request = Request {
        stack_name: name.to_string(),
        ..Request::default()
    };
    template::apply(store, config, scope, &request)
        .await
        .map_err(|f| ApiError::bad_request(f.to_string()))?;
    match store.delete_root(scope, Kind::Stack, name).await {
        Ok(()) | Err(StoreError::NotFound(_)) => Ok((
            StatusCode::OK,
            Reply::json(&json!({"stackName": name, "status": "deleted"}))?,
        )),
        Err(e) => Err(e.into_api_error()),
    }
}

/// A template applied at start-up: what to print, and (with `--watch`) the task that
/// applies it again on change.
pub struct Served {
    /// The lines that say what was applied and where its APIs answer.
    pub lines: Vec<String>,
    /// The watcher, to run beside the server.
    pub watch: Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>,
}

/// Applies `--template`, if the settings name one, to `app`'s store in the default account
/// and region. Without `--watch` a template that cannot be applied stops the start; with
/// it, the server starts and the watcher waits for a fix.
pub async fn serve_template(
    settings: &Settings,
    app: &App,
    addr: SocketAddr,
) -> Result<Option<Served>, String> {
    let Some(path) = settings.template.template.clone() else {
        return Ok(None);
    };
    let serving = Serving {
        store: app.service.store.clone(),
        config: (*app.service.config).clone(),
        scope: Scope::new(
            settings.default_account.clone(),
            settings.default_region.clone(),
        ),
        args: settings.template.clone(),
        addr,
    };
    let (lines, files) = match serving.apply().await {
        Ok(done) => done,
        Err(e) if settings.watch => (
            vec![format!(
                "gatehouse: {e}; watching {} for a change",
                path.display()
            )],
            vec![path],
        ),
        Err(e) => return Err(e),
    };
    let watch = match settings.watch {
        true => Some(Box::pin(serving.watch(files)) as _),
        false => None,
    };
    Ok(Some(Served { lines, watch }))
}

/// What serving a template needs besides the template.
pub struct Serving {
    /// The store the server serves.
    pub store: SharedStore,
    /// The operations' settings.
    pub config: ServiceConfig,
    /// Where the template is applied.
    pub scope: Scope,
    /// The template and how to read it.
    pub args: TemplateArgs,
    /// Where the server listens.
    pub addr: SocketAddr,
}

impl Serving {
    /// Reads the template and applies it: the lines to print, and the files to watch.
    pub async fn apply(&self) -> Result<(Vec<String>, Vec<PathBuf>), String> {
        let (request, watched) = template::request_from(&self.args, &self.scope.region).await?;
        let outcome = template::apply(&self.store, &self.config, &self.scope, &request)
            .await
            .map_err(|f| {
                let path = self
                    .args
                    .template
                    .as_deref()
                    .unwrap_or(std::path::Path::new(""));
                format!("{}: {f}; nothing was changed", path.display())
            })?;
        let base = Base::listening(self.addr);
        Ok((
            report::lines(&report::outcome_json(&outcome, &base)),
            watched,
        ))
    }

    /// Applies the template again whenever one of `files` changes (checked twice a
    /// second; a burst of writes is applied once it settles). A failed apply keeps the
    /// last good version serving and says why.
    pub async fn watch(self, mut files: Vec<PathBuf>) {
        let stamp = |files: &[PathBuf]| -> Vec<Option<SystemTime>> {
            files
                .iter()
                .map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
                .collect()
        };
        let mut seen = stamp(&files);
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = stamp(&files);
            if now == seen {
                continue;
            }
            // Let the writer finish.
            tokio::time::sleep(Duration::from_millis(300)).await;
            seen = stamp(&files);
            match self.apply().await {
                Ok((lines, watched)) => {
                    for line in lines {
                        println!("{line}");
                    }
                    if watched != files {
                        files = watched;
                        seen = stamp(&files);
                    }
                }
                Err(e) => {
                    println!("gatehouse: the template changed but could not be applied; the last good version keeps serving: {e}");
                    tracing::warn!(error = %e, "template not applied");
                }
            }
        }
    }
}
