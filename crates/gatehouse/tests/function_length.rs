//! No function in the crates' sources runs past [`LIMIT`] lines, outside test code and the
//! store conformance suite: a function that long hides steps that could be named. The
//! sources are rustfmt-formatted, so a function ends at the first later line that is its
//! own indentation and `}`.

use std::path::{Path, PathBuf};

/// The most lines a function may take, its signature and closing brace included.
const LIMIT: usize = 100;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            // The conformance suite is a test suite that lives in the store's sources.
            if path.file_name().is_some_and(|n| n != "conformance") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A function's name when `line` starts one (`pub(crate) async fn name(`).
fn function_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    for qualifier in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(qualifier).unwrap_or(rest);
        rest = rest.trim_start();
    }
    let rest = rest.strip_prefix("fn ")?;
    let name: &str = rest
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()?;
    (!name.is_empty()).then_some(name)
}

/// Every function of `text` outside its test module (by convention at the file's end) with
/// a body: (first line, name, lines).
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let Some(name) = function_name(line) else {
            continue;
        };
        let indent = &line[..line.len() - line.trim_start().len()];
        // The signature ends in `{` (a body) or `;` (a declaration, as in a trait).
        let Some(open) = (i..lines.len()).find(|&j| {
            let l = lines[j].trim_end();
            l.ends_with('{') || l.ends_with(';')
        }) else {
            continue;
        };
        if lines[open].trim_end().ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        if let Some(end) = (open + 1..lines.len()).find(|&j| {
            let l = lines[j].trim_end();
            l == close || l.starts_with(&format!("{close} ")) || l == format!("{close};")
        }) {
            found.push((i + 1, name.to_string(), end - i + 1));
        }
    }
    found
}

#[test]
fn no_function_runs_past_the_limit() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&crates).expect("the crates folder") {
        let src = entry.expect("an entry").path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 50, "the sources were not found");
    let mut long = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file");
        for (line, name, length) in functions(&text) {
            if length > LIMIT {
                long.push(format!("{}:{line} {name}: {length} lines", file.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {LIMIT} lines (name the steps they hide):\n{}",
        long.join("\n")
    );
}

#[test]
fn functions_are_measured_from_signature_to_closing_brace() {
    let text = "pub async fn a(\n    x: u8,\n) -> u8 {\n    x\n}\n\ntrait T {\n    fn declared(&self) -> u8;\n    fn given(&self) -> u8 {\n        1\n    }\n}\n#[cfg(test)]\nmod tests {\n    fn ignored() {}\n}\n";
    assert_eq!(
        functions(text),
        [(1, "a".to_string(), 5), (9, "given".to_string(), 3)]
    );
    let long = format!("fn long() {{\n{}}}\n", "    x;\n".repeat(LIMIT));
    assert_eq!(functions(&long)[0].2, LIMIT + 2);
}
