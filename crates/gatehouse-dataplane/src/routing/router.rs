//! A deployment's routes compiled into a tree, matched in AWS's priority: a literal segment
//! before a `{variable}` before a greedy `{proxy+}` (which needs at least one segment, an
//! empty one after a trailing slash included),
//! compared left to right; at the same place an exact method before `ANY`; the `$default`
//! route last. Matching walks the tree, so its cost does not grow with the number of routes.
//! A snapshot is compiled once and kept by deployment id.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use gatehouse_core::model::authorizer::Authorizer;
use gatehouse_core::model::deployment::Snapshot;
use gatehouse_core::model::integration::Integration;
use gatehouse_core::model::route::Route;

/// One route of a deployment with what serving it needs.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The route.
    pub route: Route,
    /// The integration its target names.
    pub integration: Option<Integration>,
    /// The integration's URI parsed, when it is an `http(s)://` URL naming no stage
    /// variable (the same for every request, so parsed once here).
    pub uri: Option<http::Uri>,
    /// The authorizer it uses.
    pub authorizer: Option<Authorizer>,
    /// Its path template (`/pets/{id}`; empty for `$default`).
    pub template: String,
    /// Its route key, shared with every request it serves.
    pub key: Arc<str>,
    /// The names of its path variables, in order (`proxy` for `{proxy+}`).
    names: Vec<String>,
    /// Whether it answers its sender (a WebSocket route with a route response and a
    /// `routeResponseSelectionExpression`).
    pub two_way: bool,
}

#[derive(Debug, Default)]
struct Node {
    literal: HashMap<String, Node>,
    var: Option<Box<Node>>,
    /// Routes ending here: (method, route index).
    here: Vec<(String, usize)>,
    /// Routes with a greedy variable here: (method, route index).
    greedy: Vec<(String, usize)>,
}

/// A deployment's routes, ready to match.
#[derive(Debug, Default)]
pub struct Router {
    routes: Vec<Compiled>,
    root: Node,
    default_route: Option<usize>,
    /// Routes whose keys are no method and path (WebSocket APIs' `$connect`, `sendmessage`),
    /// by key.
    keyed: HashMap<String, usize>,
    cors: Option<gatehouse_core::model::api::Cors>,
}

/// A matched route and its path parameters (decoded).
#[derive(Debug, Clone)]
pub struct Matched<'r> {
    /// The route.
    pub route: &'r Compiled,
    /// `pathParameters`, in path order.
    pub params: Vec<(String, String)>,
}

fn pick(entries: &[(String, usize)], method: &str) -> Option<usize> {
    entries
        .iter()
        .find(|(m, _)| m == method)
        .or_else(|| entries.iter().find(|(m, _)| m == "ANY"))
        .map(|(_, i)| *i)
}

impl Router {
    /// Compiles a deployment's snapshot.
    pub fn compile(snapshot: &Snapshot) -> Router {
        let mut router = Router {
            cors: snapshot.cors_configuration.clone(),
            ..Router::default()
        };
        for route in &snapshot.routes {
            let integration = route
                .target
                .as_deref()
                .and_then(|t| t.strip_prefix("integrations/"))
                .and_then(|id| {
                    snapshot
                        .integrations
                        .iter()
                        .find(|i| i.integration_id == id)
                })
                .cloned();
            let uri = integration
                .as_ref()
                .and_then(|i| i.integration_uri.as_deref())
                .filter(|u| !u.contains("${"))
                .and_then(|u| u.parse::<http::Uri>().ok())
                .filter(|u| matches!(u.scheme_str(), Some("http" | "https")));
            let authorizer = route
                .authorizer_id
                .as_deref()
                .and_then(|id| snapshot.authorizers.iter().find(|a| a.authorizer_id == id))
                .cloned();
            let index = router.routes.len();
            let two_way = route.route_response_selection_expression.is_some()
                && snapshot
                    .route_responses
                    .iter()
                    .any(|r| r.route_id == route.route_id);
            let Some((method, path)) = route.route_key.split_once(' ') else {
                // `$default`, and WebSocket APIs' keys.
                if route.route_key == "$default" {
                    router.default_route = Some(index);
                }
                router.keyed.insert(route.route_key.clone(), index);
                router.routes.push(Compiled {
                    key: route.route_key.as_str().into(),
                    route: route.clone(),
                    integration,
                    uri,
                    authorizer,
                    template: String::new(),
                    names: Vec::new(),
                    two_way,
                });
                continue;
            };
            let mut names = Vec::new();
            let mut node = &mut router.root;
            let parts: Vec<&str> = path.split('/').skip(1).filter(|p| !p.is_empty()).collect();
            let mut greedy = false;
            for part in &parts {
                match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) if name.ends_with('+') => {
                        names.push(name.trim_end_matches('+').to_string());
                        greedy = true;
                        break;
                    }
                    Some(name) => {
                        names.push(name.to_string());
                        node = node.var.get_or_insert_with(Box::default);
                    }
                    None => node = node.literal.entry((*part).to_string()).or_default(),
                }
            }
            let entry = (method.to_string(), index);
            if greedy {
                node.greedy.push(entry);
            } else {
                node.here.push(entry);
            }
            router.routes.push(Compiled {
                key: route.route_key.as_str().into(),
                route: route.clone(),
                integration,
                uri,
                authorizer,
                template: path.to_string(),
                names,
                two_way,
            });
        }
        router
    }

    /// Every route of the deployment, in the order it lists them.
    pub fn routes(&self) -> &[Compiled] {
        &self.routes
    }

    /// The route whose key is `key` (WebSocket APIs' routes: `$connect`, `$default`, …).
    pub fn keyed(&self, key: &str) -> Option<&Compiled> {
        self.keyed.get(key).and_then(|&i| self.routes.get(i))
    }

    /// The deployment's CORS configuration.
    pub fn cors(&self) -> Option<&gatehouse_core::model::api::Cors> {
        self.cors.as_ref()
    }

    /// The route for `method` and the (decoded) path segments, with its parameters.
    pub fn find(&self, method: &str, segments: &[Cow<'_, str>]) -> Option<Matched<'_>> {
        let mut captured = Vec::new();
        let found = match Self::walk(&self.root, method, segments, 0, &mut captured) {
            Some(found) => found,
            None => {
                captured.clear();
                self.default_route?
            }
        };
        let route = &self.routes[found];
        let params = route.names.iter().cloned().zip(captured).collect();
        Some(Matched { route, params })
    }

    fn walk(
        node: &Node,
        method: &str,
        segs: &[Cow<'_, str>],
        at: usize,
        captured: &mut Vec<String>,
    ) -> Option<usize> {
        let Some(seg) = segs.get(at) else {
            return pick(&node.here, method);
        };
        if let Some(child) = node.literal.get(seg.as_ref()) {
            if let Some(found) = Self::walk(child, method, segs, at + 1, captured) {
                return Some(found);
            }
        }
        if let (Some(child), false) = (&node.var, seg.is_empty()) {
            captured.push(seg.to_string());
            if let Some(found) = Self::walk(child, method, segs, at + 1, captured) {
                return Some(found);
            }
            captured.pop();
        }
        // (The rest of the path is joined only where a greedy route could take it.) A
        // trailing slash is a segment: `/a/` gives `/a/{proxy+}` an empty `proxy`, as AWS
        // does (a recorded event: tests/fixtures/events/http-1.0-post-proxy.json).
        let found = pick(&node.greedy, method)?;
        captured.push(segs[at..].join("/"));
        Some(found)
    }
}

/// A raw path's segments, each percent-decoded (`/a%20b/c` → `["a b", "c"]`; `/` → `[]`);
/// a segment with nothing to decode is borrowed.
pub fn segments(path: &str) -> Vec<Cow<'_, str>> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed
        .split('/')
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::model::route::{Route, RouteInput};

    fn snapshot(keys: &[&str]) -> Snapshot {
        Snapshot {
            routes: keys
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    Route::create(
                        format!("r{i}"),
                        RouteInput {
                            route_key: Some(k.to_string()),
                            ..Default::default()
                        },
                    )
                    .unwrap()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn key(r: &Router, method: &str, path: &str) -> Option<String> {
        r.find(method, &segments(path))
            .map(|m| m.route.route.route_key.clone())
    }

    #[test]
    fn aws_priority_table() {
        // The example table of AWS's "Routing API requests".
        let r = Router::compile(&snapshot(&[
            "GET /pets/dog/1",
            "GET /pets/dog/{id}",
            "GET /pets/{proxy+}",
            "ANY /{proxy+}",
            "$default",
        ]));
        assert_eq!(key(&r, "GET", "/pets/dog/1").unwrap(), "GET /pets/dog/1");
        assert_eq!(key(&r, "GET", "/pets/dog/2").unwrap(), "GET /pets/dog/{id}");
        assert_eq!(key(&r, "GET", "/pets/cat/1").unwrap(), "GET /pets/{proxy+}");
        assert_eq!(key(&r, "POST", "/test/5").unwrap(), "ANY /{proxy+}");
        assert_eq!(key(&r, "GET", "/").unwrap(), "$default");
        // Parameters survive when a $default route exists too.
        let m = r.find("GET", &segments("/pets/dog/7")).unwrap();
        assert_eq!(m.params, [("id".to_string(), "7".to_string())]);
    }

    #[test]
    fn methods_params_and_misses() {
        let r = Router::compile(&snapshot(&[
            "GET /pets/{id}",
            "ANY /pets/{id}",
            "GET /a/{proxy+}",
            "GET /",
        ]));
        assert_eq!(key(&r, "GET", "/pets/7").unwrap(), "GET /pets/{id}");
        assert_eq!(key(&r, "DELETE", "/pets/7").unwrap(), "ANY /pets/{id}");
        let m = r.find("GET", &segments("/pets/a%20b")).unwrap();
        assert_eq!(m.params, [("id".to_string(), "a b".to_string())]);
        let m = r.find("GET", &segments("/a/b/c")).unwrap();
        assert_eq!(m.params, [("proxy".to_string(), "b/c".to_string())]);
        assert!(
            key(&r, "GET", "/a").is_none(),
            "a greedy variable needs a segment"
        );
        let m = r.find("GET", &segments("/a/")).unwrap();
        assert_eq!(
            (&*m.route.key, &m.params[..]),
            (
                "GET /a/{proxy+}",
                &[("proxy".to_string(), String::new())][..]
            ),
            "a trailing slash is an (empty) segment"
        );
        assert!(
            key(&r, "POST", "/").is_none(),
            "another method only: no match"
        );
        assert_eq!(key(&r, "GET", "/").unwrap(), "GET /");
        assert!(key(&r, "GET", "/pets").is_none());
    }
}
