//! Finds the operation a request names.
//!
//! Paths are matched on the raw (still percent-encoded) path split on `/`; each label is
//! percent-decoded afterwards, so `%24default` is `$default` and `GET%20%2Fpets` is one label.

use std::sync::LazyLock;

use gatehouse_core::error::{ApiError, ApiResult, ErrorKind};
use http::Method;

use super::operations::{specs, Operation};

/// The most segments any URI template has
/// (`/v2/apis/{apiId}/stages/{stageName}/routesettings/{routeKey}`).
const MAX_SEGMENTS: usize = 7;
/// The most labels any URI template has.
pub const MAX_LABELS: usize = 3;

/// A matched request's raw path labels, in path order, borrowed from the path.
#[derive(Debug, Default)]
pub struct Labels<'p> {
    raw: [&'p str; MAX_LABELS],
    len: usize,
}

impl<'p> Labels<'p> {
    /// The raw labels.
    pub fn as_slice(&self) -> &[&'p str] {
        &self.raw[..self.len]
    }
}

/// A URI template split into segments: `Some(literal)` or `None` for a label.
struct Template {
    op: Operation,
    segments: Vec<Option<&'static str>>,
}

/// The methods the model uses, in the order of the table's rows below.
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

fn method_row(method: &Method) -> Option<usize> {
    METHODS.iter().position(|m| m == method)
}

/// The templates by method and segment count.
type Table = Vec<Vec<Vec<Template>>>;

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut table: Table = METHODS
        .iter()
        .map(|_| (0..=MAX_SEGMENTS).map(|_| Vec::new()).collect())
        .collect();
    for spec in specs() {
        let segments: Vec<Option<&'static str>> = spec
            .uri
            .split('/')
            .skip(1)
            .map(|s| (!s.starts_with('{')).then_some(s))
            .collect();
        if let (Some(row), n) = (method_row(&spec.method), segments.len()) {
            if let Some(slot) = table[row].get_mut(n) {
                slot.push(Template {
                    op: spec.op,
                    segments,
                });
            }
        }
    }
    table
});

/// Finds the operation for `method` and the raw `path`, with its raw labels.
pub fn route<'p>(method: &Method, path: &'p str) -> ApiResult<(Operation, Labels<'p>)> {
    let no_match = || {
        ApiError::new(
            ErrorKind::UnknownOperation,
            format!("No operation matches {method} {path}"),
        )
    };
    // The path's segments, on the stack: longer paths match no route.
    let mut buf = [""; MAX_SEGMENTS];
    let mut n = 0;
    for seg in path.split('/').skip(1) {
        let slot = buf.get_mut(n).ok_or_else(no_match)?;
        *slot = seg;
        n += 1;
    }
    let segs = &buf[..n];
    let candidates = method_row(method)
        .and_then(|row| TABLE[row].get(n))
        .ok_or_else(no_match)?;
    for t in candidates {
        let matches = t
            .segments
            .iter()
            .zip(segs)
            .all(|(t, s)| t.map_or(!s.is_empty(), |lit| lit == *s));
        if matches {
            let mut labels = Labels::default();
            for (t, s) in t.segments.iter().zip(segs) {
                if t.is_none() {
                    let slot = labels.raw.get_mut(labels.len).ok_or_else(no_match)?;
                    *slot = s;
                    labels.len += 1;
                }
            }
            return Ok((t.op, labels));
        }
    }
    Err(no_match())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::paths::{PathParams, RouteSettingsPath};

    #[test]
    fn routes_on_the_raw_path_and_decodes_labels_after() {
        let (op, labels) = route(
            &Method::DELETE,
            "/v2/apis/abc/stages/%24default/routesettings/GET%20%2Fpets",
        )
        .unwrap();
        assert_eq!(op, Operation::DeleteRouteSettings);
        let path = RouteSettingsPath::from_raw(labels.as_slice()).unwrap();
        assert_eq!(
            (
                path.api_id.as_str(),
                path.stage_name.as_str(),
                path.route_key.as_str()
            ),
            ("abc", "$default", "GET /pets")
        );
        assert_eq!(
            route(&Method::GET, "/v2/apis/abc/stages/%24default")
                .unwrap()
                .0,
            Operation::GetStage
        );
        assert!(route(&Method::GET, "/v2/apis//stages").is_err());
        assert!(route(&Method::HEAD, "/v2/apis").is_err());
        assert!(route(&Method::GET, "/v2/apis/a/b/c/d/e/f").is_err());
        assert!(route(&Method::GET, &"/x".repeat(100)).is_err());
    }

    #[test]
    fn the_buffers_fit_every_template() {
        for spec in specs() {
            assert!(
                spec.uri.split('/').skip(1).count() <= MAX_SEGMENTS,
                "{}",
                spec.uri
            );
            assert!(spec.labels.len() <= MAX_LABELS, "{}", spec.uri);
            assert!(method_row(&spec.method).is_some(), "{}", spec.uri);
        }
    }

    #[test]
    fn no_path_matches_two_templates() {
        let specs = specs();
        for a in &specs {
            for b in &specs {
                if a.op == b.op || a.method != b.method {
                    continue;
                }
                let (sa, sb): (Vec<&str>, Vec<&str>) =
                    (a.uri.split('/').collect(), b.uri.split('/').collect());
                let overlap = sa.len() == sb.len()
                    && sa
                        .iter()
                        .zip(&sb)
                        .all(|(x, y)| x == y || x.starts_with('{') || y.starts_with('{'));
                assert!(!overlap, "{} and {} overlap", a.uri, b.uri);
            }
        }
    }
}
