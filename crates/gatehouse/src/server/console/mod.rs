//! The web console at `/_gatehouse/console/`: five files compiled (served as one page) into the binary (no
//! build step, nothing fetched from elsewhere, usable offline). The page reads through the
//! management API and gatehouse's JSON twins, as any client would, signing each request
//! (`sign.js`) and drawing its charts itself (`charts.js`), so it shows exactly what they answer to its caller: in strict mode only
//! what the account it signed in as may see. Served with `--console on` (the default); the
//! files hold no data.

use std::sync::OnceLock;

use bytes::Bytes;
use http::StatusCode;

use crate::ops::Reply;

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("console.js");
const SIGNER: &str = include_str!("sign.js");
const CHARTS: &str = include_str!("charts.js");
const STYLE: &str = include_str!("console.css");

/// The page, its style and scripts inlined: one response, so the page's reads begin a
/// round trip sooner (and a browser's six connections to a server go to them).
fn page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        let style = format!("<style>\n{STYLE}</style>");
        let scripts = format!("<script>\n{SIGNER}\n{CHARTS}\n{SCRIPT}</script>");
        INDEX
            .replace("<!-- console.css, inlined when served -->", &style)
            .replace(
                "<!-- sign.js, charts.js, console.js, inlined when served -->",
                &scripts,
            )
    })
}

/// The console's file at `path`, if `path` names one.
pub fn answer(path: &str) -> Option<(StatusCode, Reply)> {
    let (text, content_type) = match path.strip_prefix("/_gatehouse/console")? {
        "" | "/" | "/index.html" => (page(), "text/html; charset=utf-8"),
        "/console.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "/sign.js" => (SIGNER, "text/javascript; charset=utf-8"),
        "/charts.js" => (CHARTS, "text/javascript; charset=utf-8"),
        "/console.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return None,
    };
    let reply = Reply {
        body: Some(Bytes::from_static(text.as_bytes())),
        content_type,
    };
    Some((StatusCode::OK, reply))
}
