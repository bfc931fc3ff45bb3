//! The template engine: a CloudFormation template (JSON or YAML), a CDK cloud assembly or a
//! Serverless package (`source`; SAM templates through the SAM transform) turned into
//! management operations (`calls`, through the operation table) resource by resource
//! (`apply`: dependency order, diffing by logical id against the stack's record, one store
//! transaction), with the intrinsics evaluated (`intrinsics`, `names`) and the resource
//! types the engine applies in one table (`kinds`).

pub mod apply;
pub mod calls;
pub mod intrinsics;
pub mod kinds;
pub mod names;
pub mod order;
pub mod report;
pub mod source;
pub mod warnings;

use std::collections::BTreeMap;
use std::fmt;

use std::path::PathBuf;

use gatehouse_core::model::stack::Stack;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::settings::template::TemplateArgs;

pub use apply::apply;
pub use order::NO_RESOURCES;
pub use source::Template;

/// What to apply; as JSON, what `gatehouse deploy` sends to `/_gatehouse/stacks/{name}`
/// (the name is the path's).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The stack's name (its record's key; stable ids derive from it).
    #[serde(skip)]
    pub stack_name: String,
    /// The templates, each after those it imports from.
    pub templates: Vec<Template>,
    /// Parameter overrides.
    #[serde(default)]
    pub parameters: Map<String, Value>,
    /// Function aliases: a logical id, `Template/LogicalId`, CDK path or name → the name
    /// the Lambda runtime knows the function by.
    #[serde(default)]
    pub functions: BTreeMap<String, String>,
}

/// What an apply did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The stack's record as written.
    pub stack: Option<Stack>,
    /// `create AWS::ApiGatewayV2::Route HelloRoute (id)`, `update …`, `delete …`.
    pub changes: Vec<String>,
    /// Resource types the engine does not apply, with how many of each were skipped.
    pub skipped: BTreeMap<String, usize>,
    /// Lambda functions: logical id → the name integrations call.
    pub functions: Vec<(String, String)>,
    /// What works but is likely not what the author meant ([`warnings`]).
    pub warnings: Vec<String>,
}

/// Why an apply failed (nothing was changed).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The resource, if one is to blame: its logical id and type.
    pub resource: Option<(String, String)>,
    /// Where in it, and why.
    pub message: String,
}

impl Failure {
    /// A failure not about one resource.
    pub fn plain(message: String) -> Failure {
        Failure {
            resource: None,
            message,
        }
    }

    /// A failure of resource `logical` (of type `t`) at `at`.
    pub fn at(logical: &str, t: &str, at: &str, why: &str) -> Failure {
        let message = if at.is_empty() {
            why.to_string()
        } else {
            format!("{at}: {why}")
        };
        Failure {
            resource: Some((logical.to_string(), t.to_string())),
            message,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.resource {
            Some((logical, t)) => write!(f, "resource {logical} ({t}): {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Whether `name` is a stack name as CloudFormation allows one: a letter, then letters,
/// digits and hyphens, at most 128.
pub fn check_stack_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    match ok {
        true => Ok(()),
        false => Err(format!(
            "Stack name {name} is not valid: it must start with a letter and hold only letters, digits and hyphens (at most 128)"
        )),
    }
}

/// A stack name from a file or directory name, as CloudFormation allows one (a letter,
/// then letters, digits and hyphens): `my_app` → `my-app`, `1st` → `stack-1st`.
pub fn stack_name_from(default: &str) -> String {
    let mut name: String = default
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(0, "stack-");
    }
    name.truncate(128);
    name
}

/// What `--template` and its options name, read (the SAM transform run) into a request,
/// with the files whose change means reading again.
pub async fn request_from(
    args: &TemplateArgs,
    region: &str,
) -> Result<(Request, Vec<PathBuf>), String> {
    let path = args.template.as_ref().ok_or("no --template PATH given")?;
    let options = source::Options {
        only_stack: args.stack.clone(),
        sam_python: args.sam_python.clone(),
        region: region.to_string(),
        parameters: args.parameter_map()?,
    };
    let read = source::read(path, &options).await?;
    let stack_name = match &args.stack_name {
        Some(n) => check_stack_name(n).map(|()| n.clone())?,
        None => stack_name_from(&read.default_name),
    };
    let request = Request {
        stack_name,
        templates: read.templates,
        parameters: options.parameters,
        functions: args.function_map()?,
    };
    Ok((request, read.watched))
}
