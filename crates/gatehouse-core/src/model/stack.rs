//! A stack: what gatehouse applied from one CloudFormation template (or one CDK assembly),
//! kept so that the next apply of the same stack changes, keeps and deletes by logical id.
//! It is gatehouse's own record: no AWS operation reads or lists it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A stack applied from a template, keyed by its name within an account and region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stack {
    /// The stack's name (`--stack-name`, else taken from the template's file).
    pub stack_name: String,
    /// When it was last applied (RFC 3339).
    pub last_updated: String,
    /// The resources it created, in the order they were created.
    pub resources: Vec<StackResource>,
    /// The template's `Outputs`, resolved.
    #[serde(default)]
    pub outputs: Map<String, Value>,
}

/// One resource a stack created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackResource {
    /// The logical id (`MyStack/HelloFn` for a resource of another template of the assembly).
    pub logical_id: String,
    /// `AWS::ApiGatewayV2::Route`, …
    pub resource_type: String,
    /// What `Ref` gives: the record's id (a stage's or domain's name).
    pub physical_id: String,
    /// The root it lives under (the API's id, the domain's name), for a child record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_id: Option<String>,
    /// The properties it was created or last updated with, resolved.
    pub properties: Value,
    /// What `Fn::GetAtt` gives, by attribute name.
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

/// A stack alone: one unit of change.
#[derive(Debug, Clone, PartialEq)]
pub struct StackTree {
    /// The stack.
    pub stack: Stack,
}

impl StackTree {
    /// Rules across records (state-file checks): none beyond the record's own.
    pub fn check_rules(&self) -> Result<(), String> {
        Ok(())
    }
}
