//! What `serve --template` and `deploy` share: where the template is and how to read it;
//! and `deploy`'s own settings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use serde_json::{Map, Value};

/// A template and how to apply it.
#[derive(Debug, Clone, Default, Args)]
pub struct TemplateArgs {
    /// Apply this template: a CloudFormation template (JSON or YAML; a SAM template goes
    /// through the SAM transform, which needs Python with aws-sam-translator), a CDK cloud
    /// assembly (`cdk.out`), or a Serverless service (its directory, or
    /// `.serverless/cloudformation-template-update-stack.json` after `serverless package`).
    #[arg(long, env = "GATEHOUSE_TEMPLATE")]
    pub template: Option<PathBuf>,
    /// The stack's name (its APIs' ids derive from it and each logical id, so invoke URLs
    /// survive restarts). Default: the template's file name, or the project's directory
    /// for `template.yaml`, `cdk.out` and a Serverless package.
    #[arg(long, env = "GATEHOUSE_STACK_NAME")]
    pub stack_name: Option<String>,
    /// Only this stack of a CDK cloud assembly (default: every stack).
    #[arg(long)]
    pub stack: Option<String>,
    /// A template parameter, `NAME=VALUE` (repeatable); others take their defaults.
    #[arg(
        long = "parameter",
        visible_alias = "parameter-overrides",
        value_name = "NAME=VALUE"
    )]
    pub parameters: Vec<String>,
    /// The name a Lambda runtime knows a function by, `FUNCTION=NAME` (repeatable):
    /// FUNCTION is its logical id, its CDK path (`MyStack/Hello`) or its name. Default:
    /// its `FunctionName`, else its logical id, as `sam local` names it.
    #[arg(long = "function", value_name = "FUNCTION=NAME")]
    pub functions: Vec<String>,
    /// The Python that runs the SAM transform (default `python3`).
    #[arg(long, env = "GATEHOUSE_SAM_PYTHON")]
    pub sam_python: Option<String>,
}

fn pairs<'a>(items: &'a [String], flag: &str) -> Result<Vec<(&'a str, &'a str)>, String> {
    items
        .iter()
        .map(|p| {
            p.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("{flag} {p}: expected NAME=VALUE"))
        })
        .collect()
}

impl TemplateArgs {
    /// `--parameter` values by name.
    pub fn parameter_map(&self) -> Result<Map<String, Value>, String> {
        Ok(pairs(&self.parameters, "--parameter")?
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect())
    }

    /// `--function` aliases by function.
    pub fn function_map(&self) -> Result<BTreeMap<String, String>, String> {
        Ok(pairs(&self.functions, "--function")?
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }
}

/// Settings of `gatehouse deploy`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// The template and how to read it (`--template` is required).
    #[command(flatten)]
    pub template: TemplateArgs,
    /// The gatehouse to deploy to, e.g. `http://127.0.0.1:4599`.
    #[arg(long, env = "GATEHOUSE_ENDPOINT")]
    pub endpoint: String,
    /// The region to deploy in.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Delete the stack and everything it created instead.
    #[arg(long)]
    pub delete: bool,
}
