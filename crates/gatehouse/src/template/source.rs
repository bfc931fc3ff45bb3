//! Reading what a user points `--template` at: a CloudFormation template (JSON, or YAML
//! with the short `!Ref`/`!Sub` forms), a CDK cloud assembly (`cdk.out`: every stack
//! template its manifest lists, dependencies first), or a Serverless service (its
//! `.serverless/cloudformation-template-update-stack.json`). A SAM template is turned into
//! plain CloudFormation by the SAM transform itself (`aws-sam-translator`, run offline).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Map, Value};
use tokio::io::AsyncWriteExt;

/// The transform's glue: reads a template and parameters on stdin, writes CloudFormation.
const SAM_SCRIPT: &str = include_str!("sam_transform.py");
const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";
const SERVERLESS_TEMPLATE: &str = ".serverless/cloudformation-template-update-stack.json";

/// One template of what was read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Template {
    /// Its stack's name in the assembly (the file's stem for a lone template).
    pub name: String,
    /// The template, with YAML's short forms written out.
    pub body: Value,
}

/// What a path holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The templates, each after those it imports from.
    pub templates: Vec<Template>,
    /// The files whose change means reading again.
    pub watched: Vec<PathBuf>,
    /// A name for the stack when none is given.
    pub default_name: String,
    /// Where relative paths in the templates start (the SAM transform's local files).
    pub base: PathBuf,
}

/// How to read.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only this stack of an assembly.
    pub only_stack: Option<String>,
    /// The Python that has `aws-sam-translator` (default `python3`).
    pub sam_python: Option<String>,
    /// The region the transform writes into ARNs.
    pub region: String,
    /// Parameter overrides, passed to the transform too.
    pub parameters: Map<String, Value>,
}

/// Reads `path`.
pub async fn read(path: &Path, options: &Options) -> Result<Read, String> {
    let read = if path.is_dir() && path.join("manifest.json").is_file() {
        assembly(path, options)?
    } else if path.is_dir() && path.join(SERVERLESS_TEMPLATE).is_file() {
        let file = path.join(SERVERLESS_TEMPLATE);
        let name = dir_name(path);
        lone(&file, name)?
    } else if path.is_dir() {
        return Err(format!(
            "{}: a directory must be a CDK cloud assembly (with manifest.json) or a Serverless service (with {SERVERLESS_TEMPLATE}); run `cdk synth` or `serverless package` first",
            path.display()
        ));
    } else {
        lone(path, file_name(path))?
    };
    transform(read, options).await
}

fn dir_name(path: &Path) -> String {
    let path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    canonical
        .file_name()
        .and_then(|s| s.to_str())
        .unwrap_or("stack")
        .to_string()
}

/// A lone template's stack name: its file's stem, except for the names every project of
/// a tool uses (SAM's `template.yaml`, Serverless's package), where it is the project's
/// directory.
fn file_name(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("stack");
    let parent = path.parent().unwrap_or(Path::new("."));
    match stem {
        "template" => dir_name(parent),
        "cloudformation-template-update-stack" => dir_name(parent.parent().unwrap_or(parent)),
        _ => stem.to_string(),
    }
}

fn lone(file: &Path, name: String) -> Result<Read, String> {
    Ok(Read {
        templates: vec![Template {
            name: name.clone(),
            body: parse_file(file)?,
        }],
        watched: vec![file.to_path_buf()],
        default_name: name,
        base: file.parent().map(Path::to_path_buf).unwrap_or_default(),
    })
}

/// A CDK cloud assembly: the stacks of `manifest.json`, dependencies first.
fn assembly(dir: &Path, options: &Options) -> Result<Read, String> {
    let manifest_path = dir.join("manifest.json");
    let manifest = parse_file(&manifest_path)?;
    let artifacts = manifest
        .get("artifacts")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{}: no artifacts", manifest_path.display()))?;
    let ordered = stacks_in_order(artifacts).ok_or_else(|| {
        format!(
            "{}: the stacks depend on each other in a cycle",
            manifest_path.display()
        )
    })?;
    let mut read = Read {
        templates: Vec::new(),
        watched: vec![manifest_path.clone()],
        default_name: dir_name(dir.parent().unwrap_or(dir)),
        base: dir.to_path_buf(),
    };
    for id in ordered {
        let artifact = &artifacts[id.as_str()];
        let name = artifact
            .pointer("/properties/stackName")
            .and_then(Value::as_str)
            .unwrap_or(&id)
            .to_string();
        let wanted = options
            .only_stack
            .as_ref()
            .is_none_or(|only| only == &name || only == &id);
        if !wanted {
            continue;
        }
        let file = artifact
            .pointer("/properties/templateFile")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                format!(
                    "{}: stack {id} names no templateFile",
                    manifest_path.display()
                )
            })?;
        let path = dir.join(file);
        read.templates.push(Template {
            name,
            body: parse_file(&path)?,
        });
        read.watched.push(path);
    }
    if read.templates.is_empty() {
        return Err(match &options.only_stack {
            Some(s) => format!("{}: no stack named {s}", dir.display()),
            None => format!("{}: the assembly has no stacks", dir.display()),
        });
    }
    Ok(read)
}

/// The assembly's stack artifacts, each after the stacks it depends on (`None`: a cycle).
fn stacks_in_order(artifacts: &Map<String, Value>) -> Option<Vec<String>> {
    let stacks: Vec<(&String, &Value)> = artifacts
        .iter()
        .filter(|(_, a)| a.get("type").and_then(Value::as_str) == Some("aws:cloudformation:stack"))
        .collect();
    let is_stack = |d: &str| stacks.iter().any(|(s, _)| s.as_str() == d);
    let mut ordered: Vec<String> = Vec::new();
    let mut pending = stacks.clone();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|(id, a)| {
            let deps = a.get("dependencies").and_then(Value::as_array);
            let mut deps = deps.into_iter().flatten().filter_map(Value::as_str);
            let ready = deps.all(|d| !is_stack(d) || ordered.iter().any(|o| o == d));
            if ready {
                ordered.push(id.to_string());
            }
            !ready
        });
        if pending.len() == before {
            return None;
        }
    }
    Some(ordered)
}

fn parse_file(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A template's text: JSON, else YAML (CloudFormation's short forms written out).
pub fn parse(text: &str) -> Result<Value, String> {
    let trimmed = text.trim_start();
    let value = if trimmed.starts_with('{') {
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?
    } else {
        let yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
        from_yaml(yaml)?
    };
    if !value.is_object() {
        return Err("a template is a map with Resources".into());
    }
    Ok(value)
}

/// YAML to JSON, `!Ref x` → `{"Ref": x}`, `!GetAtt a.b` → `{"Fn::GetAtt": "a.b"}`,
/// `!Condition c` → `{"Condition": c}`, `!Name v` → `{"Fn::Name": v}`.
fn from_yaml(v: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(&n).map_err(|e| e.to_string())?,
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            Value::Array(items.into_iter().map(from_yaml).collect::<Result<_, _>>()?)
        }
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    _ => return Err("a map key is not a string".into()),
                };
                out.insert(key, from_yaml(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = match name {
                "Ref" | "Condition" => name.to_string(),
                _ => format!("Fn::{name}"),
            };
            let value = from_yaml(t.value)?;
            Value::Object(Map::from_iter([(key, value)]))
        }
    })
}

/// Whether a template asks for the SAM transform.
fn wants_sam(body: &Value) -> bool {
    match body.get("Transform") {
        Some(Value::String(s)) => s == SAM_TRANSFORM,
        Some(Value::Array(items)) => items.iter().any(|t| t.as_str() == Some(SAM_TRANSFORM)),
        _ => false,
    }
}

async fn transform(mut read: Read, options: &Options) -> Result<Read, String> {
    for t in &mut read.templates {
        if wants_sam(&t.body) {
            // A local OpenAPI definition is part of what is watched.
            let definitions = local_definitions(&t.body);
            read.watched
                .extend(definitions.into_iter().map(|d| read.base.join(d)));
            t.body = sam(&t.body, &read.base, options).await?;
        }
    }
    Ok(read)
}

/// The local files SAM APIs take their OpenAPI definitions from (`DefinitionUri`).
fn local_definitions(body: &Value) -> Vec<String> {
    let resources = body.get("Resources").and_then(Value::as_object);
    resources
        .into_iter()
        .flatten()
        .filter_map(|(_, r)| r.pointer("/Properties/DefinitionUri")?.as_str())
        .filter(|uri| !uri.starts_with("s3://"))
        .map(String::from)
        .collect()
}

/// The SAM transform, run by `aws-sam-translator` in a Python process.
async fn sam(body: &Value, base: &Path, options: &Options) -> Result<Value, String> {
    let python = options
        .sam_python
        .clone()
        .unwrap_or_else(|| "python3".into());
    let input = serde_json::json!({"template": body, "parameters": options.parameters});
    let mut child = tokio::process::Command::new(&python)
        .arg("-c")
        .arg(SAM_SCRIPT)
        .env("AWS_DEFAULT_REGION", &options.region)
        .current_dir(if base.as_os_str().is_empty() { Path::new(".") } else { base })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("the template uses the SAM transform ({SAM_TRANSFORM}), which gatehouse runs with Python and aws-sam-translator, but {python} cannot be started: {e}; install Python 3 or name it with --sam-python"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let text = input.to_string();
        stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| format!("cannot run the SAM transform: {e}"))?;
    }
    let done = child
        .wait_with_output()
        .await
        .map_err(|e| format!("cannot run the SAM transform: {e}"))?;
    let stderr = String::from_utf8_lossy(&done.stderr);
    if !done.status.success() {
        return Err(stderr.trim().to_string());
    }
    serde_json::from_slice(&done.stdout).map_err(|e| {
        format!(
            "the SAM transform wrote no template: {e}; {}",
            stderr.trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_short_forms_are_written_out() {
        let t = parse(
            "Resources:\n  R:\n    Properties:\n      A: !Ref Api\n      B: !GetAtt Fn.Arn\n      C: !Sub '${X}-y'\n      D: !Join ['', [a, !Ref B]]\n      E: !If [Cond, 1, !Ref 'AWS::NoValue']\n      F: !And [!Condition Cond, !Not [!Equals [a, b]]]\n",
        )
        .unwrap();
        assert_eq!(
            t.pointer("/Resources/R/Properties").unwrap(),
            &json!({
                "A": {"Ref": "Api"},
                "B": {"Fn::GetAtt": "Fn.Arn"},
                "C": {"Fn::Sub": "${X}-y"},
                "D": {"Fn::Join": ["", ["a", {"Ref": "B"}]]},
                "E": {"Fn::If": ["Cond", 1, {"Ref": "AWS::NoValue"}]},
                "F": {"Fn::And": [{"Condition": "Cond"}, {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}]},
            })
        );
        assert!(parse("- a list").is_err());
        assert!(parse("{").unwrap_err().starts_with("not valid JSON"));
        assert!(parse("a: [").unwrap_err().starts_with("not valid YAML"));
    }

    #[test]
    fn stack_names_come_from_the_project_for_conventional_file_names() {
        assert_eq!(file_name(Path::new("/work/my-app/template.yaml")), "my-app");
        assert_eq!(file_name(Path::new("/work/api.yaml")), "api");
        assert_eq!(
            file_name(Path::new(
                "/work/svc/.serverless/cloudformation-template-update-stack.json"
            )),
            "svc"
        );
        assert!(wants_sam(
            &json!({"Transform": ["AWS::LanguageExtensions", SAM_TRANSFORM]})
        ));
        assert!(!wants_sam(&json!({"Resources": {}})));
    }
}
