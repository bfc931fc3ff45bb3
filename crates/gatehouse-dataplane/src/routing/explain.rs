//! Why a request matches the route it matches: every route of a deployment, in AWS's
//! priority order, with whether its method and path take the request and, if so, why it won
//! or lost. The route chosen is the router's own choice ([`Router::find`]); this only
//! explains it.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde::Serialize;

use super::router::{segments, Compiled, Router};

/// What a deployment's router does with one request.
#[derive(Debug)]
pub struct Explanation {
    /// The route that serves the request (the router's choice), if any.
    pub matched: Option<String>,
    /// Its path parameters, in path order.
    pub path_parameters: Vec<(String, String)>,
    /// Every route, in AWS's priority order.
    pub candidates: Vec<Candidate>,
    /// Why no route serves the request, when none does.
    pub reason: Option<String>,
}

/// One route and what it made of the request.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// Its route key.
    pub route_key: String,
    /// Its id.
    pub route_id: String,
    /// Whether its method and path take the request.
    pub takes: bool,
    /// Whether it is the route that serves the request.
    pub chosen: bool,
    /// Why, in words.
    pub why: String,
}

/// A route key's path template as the router reads it: one segment kind per segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part<'a> {
    Literal(&'a str),
    Var,
    Greedy,
}

impl Part<'_> {
    /// AWS's priority at one place: a literal before a variable before a greedy one.
    fn rank(self) -> u8 {
        match self {
            Part::Literal(_) => 0,
            Part::Var => 1,
            Part::Greedy => 2,
        }
    }
}

fn parts(template: &str) -> Vec<Part<'_>> {
    template
        .split('/')
        .skip(1)
        .filter(|p| !p.is_empty())
        .map(
            |p| match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if name.ends_with('+') => Part::Greedy,
                Some(_) => Part::Var,
                None => Part::Literal(p),
            },
        )
        .collect()
}

/// A route's place in AWS's priority: its path, compared left to right (literal, variable,
/// greedy), then an exact method before `ANY`, then `$default` last.
fn priority(a: &Compiled, b: &Compiled) -> Ordering {
    let key = |c: &Compiled| {
        let default = c.template.is_empty();
        let ranks: Vec<u8> = parts(&c.template).into_iter().map(Part::rank).collect();
        let any = c.key.starts_with("ANY ");
        (default, ranks, any)
    };
    key(a).cmp(&key(b))
}

/// Why `route`'s path takes `segs`, or why not.
fn path_verdict(template: &str, segs: &[Cow<'_, str>]) -> Result<(), String> {
    let parts = parts(template);
    for (i, part) in parts.iter().enumerate() {
        let n = i + 1;
        match (part, segs.get(i)) {
            (Part::Greedy, Some(_)) => return Ok(()),
            (Part::Greedy, None) => {
                return Err(format!(
                    "a greedy variable needs at least one segment at segment {n}"
                ))
            }
            (_, None) => {
                return Err(format!(
                    "the path has {} segment(s); the route needs {}",
                    segs.len(),
                    parts.len()
                ))
            }
            (Part::Literal(want), Some(got)) if want != got => {
                return Err(format!(
                    "segment {n} is \"{got}\"; the route wants \"{want}\""
                ))
            }
            (Part::Var, Some(got)) if got.is_empty() => {
                return Err(format!("segment {n} is empty; a variable needs a value"))
            }
            _ => {}
        }
    }
    match segs.len().cmp(&parts.len()) {
        Ordering::Greater => Err(format!(
            "the path has {} segments; the route ends after {}",
            segs.len(),
            parts.len()
        )),
        _ => Ok(()),
    }
}

/// Why `route` takes a `method` request for `segs`, or why not.
fn verdict(route: &Compiled, method: &str, segs: &[Cow<'_, str>]) -> Result<(), String> {
    if route.template.is_empty() {
        return Ok(());
    }
    let wanted = route.key.split(' ').next().unwrap_or_default();
    if wanted != "ANY" && wanted != method {
        return Err(format!("the method is {method}; the route takes {wanted}"));
    }
    path_verdict(&route.template, segs)
}

impl Router {
    /// What this deployment does with a `method` request for `path` (raw, after the stage),
    /// and why.
    pub fn explain(&self, method: &str, path: &str) -> Explanation {
        let segs = segments(path);
        let found = self.find(method, &segs);
        let chosen = found.as_ref().map(|m| m.route.key.clone());
        let mut routes: Vec<&Compiled> = self.routes().iter().collect();
        routes.sort_by(|a, b| priority(a, b));
        let candidates = routes
            .into_iter()
            .filter(|c| c.key.contains(' ') || &*c.key == "$default")
            .map(|c| candidate(c, method, &segs, chosen.as_deref()))
            .collect();
        Explanation {
            reason: chosen
                .is_none()
                .then(|| format!("no route matches {method} {path}")),
            matched: chosen.map(|k| k.to_string()),
            path_parameters: found.map(|m| m.params).unwrap_or_default(),
            candidates,
        }
    }
}

/// One route's verdict on the request, against the route the router chose.
fn candidate(c: &Compiled, method: &str, segs: &[Cow<'_, str>], chosen: Option<&str>) -> Candidate {
    let is_chosen = chosen == Some(&*c.key);
    let verdict = verdict(c, method, segs);
    let why = match (&verdict, is_chosen, chosen) {
        (Ok(()), true, _) if c.template.is_empty() => {
            "no other route matches: $default takes it".into()
        }
        (Ok(()), true, _) => "matches, and no route before it in priority does".into(),
        (Ok(()), false, Some(winner)) if c.template.is_empty() => {
            format!("$default comes last: {winner} matches first")
        }
        (Ok(()), false, Some(winner)) => format!("matches, but {winner} comes first in priority"),
        (Ok(()), false, None) => "matches".into(),
        (Err(why), ..) => why.clone(),
    };
    Candidate {
        route_key: c.key.to_string(),
        route_id: c.route.route_id.clone(),
        takes: verdict.is_ok(),
        chosen: is_chosen,
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::model::deployment::Snapshot;
    use gatehouse_core::model::route::{Route, RouteInput};

    fn router(keys: &[&str]) -> Router {
        let routes = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let input = RouteInput {
                    route_key: Some(k.to_string()),
                    ..Default::default()
                };
                Route::create(format!("r{i}"), input).unwrap()
            })
            .collect();
        Router::compile(&Snapshot {
            routes,
            ..Default::default()
        })
    }

    #[test]
    fn candidates_come_in_awss_priority_with_reasons() {
        let r = router(&[
            "$default",
            "ANY /{proxy+}",
            "GET /pets/{proxy+}",
            "GET /pets/dog/{id}",
            "GET /pets/dog/1",
        ]);
        let e = r.explain("GET", "/pets/dog/2");
        assert_eq!(e.matched.as_deref(), Some("GET /pets/dog/{id}"));
        assert_eq!(e.path_parameters, [("id".into(), "2".into())]);
        let order: Vec<&str> = e.candidates.iter().map(|c| c.route_key.as_str()).collect();
        assert_eq!(
            order,
            [
                "GET /pets/dog/1",
                "GET /pets/dog/{id}",
                "GET /pets/{proxy+}",
                "ANY /{proxy+}",
                "$default"
            ]
        );
        let why: Vec<&str> = e.candidates.iter().map(|c| c.why.as_str()).collect();
        assert_eq!(why[0], "segment 3 is \"2\"; the route wants \"1\"");
        assert_eq!(why[1], "matches, and no route before it in priority does");
        assert_eq!(
            why[2],
            "matches, but GET /pets/dog/{id} comes first in priority"
        );
        assert!(e.candidates[1].chosen && e.candidates[2].takes);
        let e = r.explain("POST", "/pets/dog/1");
        assert_eq!(e.matched.as_deref(), Some("ANY /{proxy+}"));
        assert_eq!(
            e.candidates[0].why,
            "the method is POST; the route takes GET"
        );
    }

    #[test]
    fn a_request_no_route_takes_says_so() {
        let r = router(&["GET /pets/{id}", "ANY /a/{proxy+}"]);
        let e = r.explain("GET", "/a");
        assert!(e.matched.is_none());
        assert_eq!(e.reason.as_deref(), Some("no route matches GET /a"));
        let why: Vec<&str> = e.candidates.iter().map(|c| c.why.as_str()).collect();
        assert_eq!(
            why,
            [
                "segment 1 is \"a\"; the route wants \"pets\"",
                "a greedy variable needs at least one segment at segment 2"
            ]
        );
        let e = r.explain("GET", "/pets/1/2");
        assert_eq!(
            e.candidates[0].why,
            "the path has 3 segments; the route ends after 2"
        );
    }
}
