//! The layering of both crates, checked on their sources: each top-level module imports only
//! the modules below it, and no two modules of one folder import each other, directly or
//! round about. (`docs/architecture.md` draws the same picture.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A crate's top-level modules, each with the crate modules it may import.
type Layers = &'static [(&'static str, &'static [&'static str])];

/// Each crate's source folder and its layers.
const LAYERS: &[(&str, Layers)] = &[
    (
        "../gatehouse-core/src",
        &[
            ("error", &[]),
            ("compat", &[]),
            ("model", &["error", "compat"]),
            ("openapi", &["error", "compat", "model"]),
            ("token_bucket", &["error"]),
            ("store", &["error", "compat", "model", "token_bucket"]),
            ("lib", &[]),
        ],
    ),
    (
        "../gatehouse-dataplane/src",
        &[
            ("target", &[]),
            ("gateway", &[]),
            ("context", &[]),
            ("request_id", &[]),
            ("body", &[]),
            ("h1", &[]),
            ("scratch", &[]),
            ("client_stream", &[]),
            ("client_conn", &["body", "client_stream", "h1"]),
            ("client_pool", &["client_conn", "scratch"]),
            (
                "client",
                &["body", "client_conn", "client_pool", "client_stream", "h1"],
            ),
            ("router", &[]),
            ("throttle", &[]),
            ("access_log", &["context"]),
            ("cors", &["context"]),
            ("event", &["context"]),
            ("lambda", &["body", "client"]),
            ("jws", &[]),
            ("jwt", &["body", "client", "context", "jws"]),
            ("lambda_authorizer", &["access_log", "context", "event"]),
            ("mapping", &["access_log", "context"]),
            ("metrics", &["context"]),
            (
                "resolve",
                &["gateway", "router", "scratch", "target", "throttle", "lib"],
            ),
            ("domains", &["target", "lib"]),
            (
                "authorize",
                &[
                    "body",
                    "client",
                    "context",
                    "event",
                    "gateway",
                    "http_proxy",
                    "jwt",
                    "lambda_authorizer",
                    "router",
                    "lib",
                ],
            ),
            (
                "http_proxy",
                &["body", "client", "context", "h1", "mapping"],
            ),
            ("lib", &[]),
        ],
    ),
    (
        "src",
        &[
            ("api", &[]),
            ("wire", &[]),
            ("auth", &[]),
            ("statefile", &[]),
            ("guards", &["api"]),
            ("ops", &["api", "wire"]),
            ("settings", &["auth", "guards", "statefile"]),
            (
                "server",
                &[
                    "api",
                    "auth",
                    "guards",
                    "ops",
                    "settings",
                    "statefile",
                    "wire",
                ],
            ),
            ("testing", &["server", "settings"]),
            ("main", &[]),
            ("lib", &[]),
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comment lines.
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("a source file")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The identifiers that follow `prefix` in `text` (`crate::` → `store`, `model`, …).
fn after(text: &str, prefix: &str) -> BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(i, _)| {
            text[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (src, layers) in LAYERS {
        let root = manifest.join(src);
        let allowed: BTreeMap<&str, &[&str]> = layers.iter().copied().collect();
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        for file in files {
            let rel = file.strip_prefix(&root).expect("under the root");
            let top = rel
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .map(|s| s.trim_end_matches(".rs"))
                .expect("a module");
            let may = allowed
                .get(top)
                .unwrap_or_else(|| panic!("{src}/{top} is in no layer of this test"));
            for used in after(&code(&file), "crate::") {
                assert!(
                    used == top || may.contains(&used.as_str()),
                    "{} imports crate::{used}, which is not below {top}",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn no_two_sibling_modules_import_each_other() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (src, _) in LAYERS {
        let mut files = Vec::new();
        rust_files(&manifest.join(src), &mut files);
        // folder → module → the sibling modules it names through `super::`.
        let mut edges: BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for file in &files {
            let name = file.file_stem().and_then(|s| s.to_str()).expect("a name");
            let (folder, module) = if name == "mod" {
                let dir = file.parent().expect("a folder");
                let module = dir.file_name().and_then(|s| s.to_str()).expect("a name");
                (
                    dir.parent().expect("a parent").to_path_buf(),
                    module.to_string(),
                )
            } else {
                (
                    file.parent().expect("a folder").to_path_buf(),
                    name.to_string(),
                )
            };
            let text = code(file);
            let mut named = after(&text, "super::");
            for (i, _) in text.match_indices("super::{") {
                let group = &text[i + "super::{".len()..];
                let group = &group[..group.find('}').unwrap_or(group.len())];
                named.extend(group.split(',').map(|item| {
                    item.trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect::<String>()
                }));
            }
            if name == "mod" {
                // A folder's mod.rs names its own children through `self::`, and its
                // siblings through `super::`.
                named.retain(|n| n != &module);
            }
            named.remove(&module);
            edges
                .entry(folder)
                .or_default()
                .entry(module)
                .or_default()
                .extend(named);
        }
        for (folder, graph) in &edges {
            for start in graph.keys() {
                let mut stack = vec![(start.clone(), vec![start.clone()])];
                while let Some((at, path)) = stack.pop() {
                    for next in graph.get(&at).into_iter().flatten() {
                        if !graph.contains_key(next) {
                            continue;
                        }
                        assert!(
                            next != start,
                            "import circle in {}: {} → {next}",
                            folder.display(),
                            path.join(" → ")
                        );
                        if !path.contains(next) {
                            let mut p = path.clone();
                            p.push(next.clone());
                            stack.push((next.clone(), p));
                        }
                    }
                }
            }
        }
    }
}
