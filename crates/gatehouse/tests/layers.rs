//! The layering of the workspace, checked on its sources:
//! - each crate depends only on the crates below it (`Cargo.toml`);
//! - in each crate, each top-level module imports only the modules below it, and no module
//!   imports an item of the crate root (`crate::Item`, `super::Item` from a top-level file):
//!   the root only declares modules and re-exports;
//! - no two modules of one folder import each other, directly or round about.
//!
//! `docs/architecture.md` draws the same picture. The checks are also run on small made-up
//! source trees, so that a broken rule is seen to fail them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A crate's top-level modules, each with the crate modules it may import.
type Layers = &'static [(&'static str, &'static [&'static str])];

/// Each crate's folder, the workspace crates it may depend on, and its layers.
const CRATES: &[(&str, &[&str], Layers)] = &[
    (
        "../gatehouse-core",
        &[],
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
        "../gatehouse-http",
        &[],
        &[
            ("body", &[]),
            ("framing", &[]),
            ("scratch", &[]),
            ("client", &["body", "framing", "scratch"]),
            ("server", &["body", "framing"]),
            ("lib", &[]),
        ],
    ),
    (
        "../gatehouse-dataplane",
        &["gatehouse-core", "gatehouse-http"],
        &[
            ("exchange", &[]),
            ("context", &["exchange"]),
            ("limits", &[]),
            ("gateway", &["context"]),
            ("cors", &["context"]),
            ("throttle", &["gateway"]),
            ("observe", &["context", "exchange"]),
            ("routing", &["gateway", "throttle"]),
            (
                "integrations",
                &["context", "exchange", "gateway", "limits"],
            ),
            (
                "auth",
                &["context", "exchange", "gateway", "integrations", "routing"],
            ),
            (
                "websocket",
                &[
                    "auth",
                    "context",
                    "exchange",
                    "gateway",
                    "integrations",
                    "observe",
                    "routing",
                    "throttle",
                ],
            ),
            (
                "plane",
                &[
                    "auth",
                    "context",
                    "cors",
                    "exchange",
                    "gateway",
                    "integrations",
                    "limits",
                    "observe",
                    "routing",
                    "throttle",
                    "websocket",
                ],
            ),
            ("lib", &[]),
        ],
    ),
    (
        ".",
        &["gatehouse-core", "gatehouse-http", "gatehouse-dataplane"],
        &[
            ("api", &[]),
            ("wire", &[]),
            ("auth", &[]),
            ("statefile", &[]),
            ("guards", &["api"]),
            ("ops", &["api", "wire"]),
            ("template", &["api", "ops", "settings"]),
            ("deploy", &["auth", "settings", "template"]),
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
                    "template",
                    "wire",
                ],
            ),
            ("testing", &["server", "settings"]),
            ("main", &[]),
            ("lib", &[]),
        ],
    ),
];

/// A source file: its path under `src/` and its code without comment lines.
type Source = (PathBuf, String);

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

/// Code without its comment lines.
fn code(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A crate's sources, by path under `src/`.
fn sources(src: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .into_iter()
        .map(|file| {
            let text = std::fs::read_to_string(&file).expect("a source file");
            let rel = file.strip_prefix(src).expect("under src").to_path_buf();
            (rel, code(&text))
        })
        .collect()
}

fn ident(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The first names of the paths that follow `prefix` in `text`: `crate::store::x` and
/// `crate::{store, model::Api}` both name `store` (and the latter `model`).
fn after(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices(prefix) {
        let rest = &text[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The group's items, split at its own commas (not those of nested groups).
            let (mut depth, mut start) = (0usize, 0usize);
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.insert(ident(&group[start..j]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(ident(&group[start..j]));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.insert(ident(rest));
        }
    }
    names.remove("");
    names
}

/// The top-level module a file belongs to (`routing/resolve.rs` → `routing`).
fn top_module(rel: &Path) -> String {
    rel.components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .map(|s| s.trim_end_matches(".rs").to_string())
        .expect("a module")
}

/// Imports of modules not below the importing one, and of the crate root's items.
fn upward_imports(layers: Layers, sources: &[Source]) -> Vec<String> {
    let allowed: BTreeMap<&str, &[&str]> = layers.iter().copied().collect();
    let mut found = Vec::new();
    for (rel, code) in sources {
        let top = top_module(rel);
        let Some(may) = allowed.get(top.as_str()) else {
            found.push(format!("{} is in no layer", rel.display()));
            continue;
        };
        let mut used = after(code, "crate::");
        // A top-level file's `super::` is the crate root (outside its own test module).
        if rel.components().count() == 1 {
            let before_tests = code.split("#[cfg(test)]").next().unwrap_or_default();
            used.extend(after(before_tests, "super::"));
        }
        for name in used {
            if name == top || may.contains(&name.as_str()) {
                continue;
            }
            if allowed.contains_key(name.as_str()) {
                found.push(format!(
                    "{} imports crate::{name}, which is not below {top}",
                    rel.display()
                ));
            } else {
                found.push(format!(
                    "{} imports {name} from the crate root: the root only declares modules",
                    rel.display()
                ));
            }
        }
    }
    found
}

/// Import circles among the modules of one folder.
fn sibling_circles(sources: &[Source]) -> Vec<String> {
    // folder → module → the sibling modules it names through `super::`.
    let mut edges: BTreeMap<PathBuf, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (rel, code) in sources {
        let name = rel.file_stem().and_then(|s| s.to_str()).expect("a name");
        let (folder, module) = if name == "mod" {
            let dir = rel.parent().expect("a folder");
            let module = dir.file_name().and_then(|s| s.to_str()).expect("a name");
            (
                dir.parent().expect("a parent").to_path_buf(),
                module.to_string(),
            )
        } else {
            (
                rel.parent().expect("a folder").to_path_buf(),
                name.to_string(),
            )
        };
        let mut named = after(code, "super::");
        if name == "mod" {
            // A folder's mod.rs names its own children through `self::`, and its siblings
            // through `super::`.
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
    let mut found = Vec::new();
    for (folder, graph) in &edges {
        for start in graph.keys() {
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            while let Some((at, path)) = stack.pop() {
                for next in graph.get(&at).into_iter().flatten() {
                    if !graph.contains_key(next) {
                        continue;
                    }
                    if next == start {
                        found.push(format!(
                            "import circle in {}: {} → {next}",
                            folder.display(),
                            path.join(" → ")
                        ));
                    } else if !path.contains(next) {
                        let mut p = path.clone();
                        p.push(next.clone());
                        stack.push((next.clone(), p));
                    }
                }
            }
        }
    }
    found
}

/// The workspace crates a manifest depends on (outside its dev-dependencies).
fn workspace_dependencies(manifest: &str) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    let mut section = String::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.to_string();
        } else if section == "[dependencies]" && line.starts_with("gatehouse") {
            deps.insert(ident(&line.replace('-', "_")).replace('_', "-"));
        }
    }
    deps
}

#[test]
fn crates_depend_only_on_the_crates_below_them() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (dir, may, _) in CRATES {
        let manifest =
            std::fs::read_to_string(manifest_dir.join(dir).join("Cargo.toml")).expect("a manifest");
        for dep in workspace_dependencies(&manifest) {
            assert!(
                may.contains(&dep.as_str()),
                "{dir} depends on {dep}, which is not below it"
            );
        }
    }
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (dir, _, layers) in CRATES {
        let found = upward_imports(layers, &sources(&manifest_dir.join(dir).join("src")));
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}

#[test]
fn no_two_sibling_modules_import_each_other() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (dir, _, _) in CRATES {
        let found = sibling_circles(&sources(&manifest_dir.join(dir).join("src")));
        assert!(found.is_empty(), "{}", found.join("\n"));
    }
}

/// A made-up source tree.
fn made_up(files: &[(&str, &str)]) -> Vec<Source> {
    files
        .iter()
        .map(|(path, text)| (PathBuf::from(path), code(text)))
        .collect()
}

#[test]
fn the_checks_fail_on_what_they_forbid() {
    const LAYERS: Layers = &[("low", &[]), ("high", &["low"]), ("lib", &[])];
    let clean = made_up(&[
        (
            "lib.rs",
            "pub mod low;\npub mod high;\npub use high::Thing;",
        ),
        ("low.rs", "pub struct Low;"),
        (
            "high/mod.rs",
            "pub mod a;\npub mod b;\nuse crate::low::Low;",
        ),
        ("high/a.rs", "use super::b::B;\nuse crate::{low::Low};"),
        (
            "high/b.rs",
            "pub struct B;\n#[cfg(test)]\nmod tests { use super::*; }",
        ),
    ]);
    assert!(upward_imports(LAYERS, &clean).is_empty());
    assert!(sibling_circles(&clean).is_empty());
    // An import of a higher layer, directly or in a group.
    let up = made_up(&[("low.rs", "use crate::high::Thing;")]);
    assert_eq!(upward_imports(LAYERS, &up).len(), 1);
    let grouped = made_up(&[("low.rs", "use crate::{\n    high::Thing,\n};")]);
    assert_eq!(upward_imports(LAYERS, &grouped).len(), 1);
    // An item of the crate root, by `crate::` or a top-level file's `super::`.
    let root = made_up(&[("high/a.rs", "use crate::{refuse, low::Low};")]);
    assert_eq!(upward_imports(LAYERS, &root).len(), 1);
    let root = made_up(&[("low.rs", "use super::Thing;")]);
    assert_eq!(upward_imports(LAYERS, &root).len(), 1);
    // A file in no layer.
    let stray = made_up(&[("stray.rs", "")]);
    assert_eq!(upward_imports(LAYERS, &stray).len(), 1);
    // Siblings importing each other.
    let circle = made_up(&[
        ("high/a.rs", "use super::b::B;"),
        ("high/b.rs", "use super::a::A;"),
    ]);
    assert!(!sibling_circles(&circle).is_empty());
    // A dependency on a crate above.
    let deps = workspace_dependencies(
        "[dependencies]\ngatehouse-core = { path = \"../gatehouse-core\" }\nserde = \"1\"\n[dev-dependencies]\ngatehouse = { path = \".\" }\n",
    );
    assert_eq!(deps, BTreeSet::from(["gatehouse-core".to_string()]));
}
