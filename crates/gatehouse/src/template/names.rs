//! What the names of one template stand for while it is applied: its parameters (defaults
//! and overrides), the pseudo parameters, its conditions, its mappings, the resources
//! created so far, its Lambda functions (named as SAM names them), and the exports of the
//! templates applied before it.

use std::collections::{BTreeMap, HashMap};

use gatehouse_core::model::Scope;
use serde_json::{Map, Value};

use super::intrinsics::{self, Names};

/// A resource the engine created or kept: what `Ref` and `Fn::GetAtt` give.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    /// What `Ref` gives.
    pub physical: String,
    /// What `Fn::GetAtt` gives, by attribute.
    pub attributes: Map<String, Value>,
}

/// One template's names.
pub struct Frame<'a> {
    /// The template.
    pub body: &'a Value,
    /// The account and region it is applied in.
    pub scope: &'a Scope,
    /// The stack's name.
    pub stack: &'a str,
    /// Parameters, resolved.
    pub parameters: Map<String, Value>,
    /// Conditions, evaluated.
    pub conditions: HashMap<String, bool>,
    /// Lambda functions: logical id → the name integrations call.
    pub functions: BTreeMap<String, String>,
    /// Resources created or kept so far, by logical id.
    pub made: HashMap<String, Made>,
    /// Exports of the templates applied before.
    pub exports: &'a HashMap<String, Value>,
}

#[cfg(test)]
impl<'a> Frame<'a> {
    /// A frame for unit tests: stack `s`, no parameters, one condition `No` (false).
    pub fn for_tests(
        body: &'a Value,
        scope: &'a Scope,
        exports: &'a HashMap<String, Value>,
    ) -> Frame<'a> {
        Frame {
            body,
            scope,
            stack: "s",
            parameters: Map::new(),
            conditions: HashMap::from([("No".to_string(), false)]),
            functions: BTreeMap::new(),
            made: HashMap::new(),
            exports,
        }
    }
}

/// A function's ARN, as AWS writes it.
pub fn function_arn(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:lambda:{}:{}:function:{name}",
        scope.region, scope.account
    )
}

impl Frame<'_> {
    /// A resource's entry in the template.
    pub fn resource(&self, name: &str) -> Option<&Value> {
        self.body.get("Resources").and_then(|r| r.get(name))
    }

    /// A resource's properties as the template writes them (intrinsics unevaluated).
    pub fn raw_properties(&self, name: &str) -> Value {
        self.resource(name)
            .and_then(|r| r.get("Properties"))
            .cloned()
            .unwrap_or_default()
    }

    /// A resource's `Type`.
    pub fn type_of(&self, name: &str) -> Option<&str> {
        self.resource(name)?.get("Type")?.as_str()
    }

    fn left_out(&self, name: &str) -> bool {
        let condition = self
            .resource(name)
            .and_then(|r| r.get("Condition"))
            .and_then(Value::as_str);
        condition.is_some_and(|c| self.conditions.get(c) == Some(&false))
    }

    fn pseudo(&self, name: &str) -> Option<Value> {
        let (region, account) = (&self.scope.region, &self.scope.account);
        Some(Value::String(match name {
            "AWS::Region" => region.clone(),
            "AWS::AccountId" => account.clone(),
            "AWS::StackName" => self.stack.to_string(),
            "AWS::StackId" => format!(
                "arn:aws:cloudformation:{region}:{account}:stack/{}/gatehouse",
                self.stack
            ),
            "AWS::Partition" => "aws".into(),
            "AWS::URLSuffix" => "amazonaws.com".into(),
            "AWS::NotificationARNs" => return Some(Value::Array(Vec::new())),
            _ => return None,
        }))
    }

    /// An alias's ARN: its function's ARN and its name.
    fn alias_arn(&self, name: &str) -> Result<Value, String> {
        let resolved = intrinsics::resolve(&self.raw_properties(name), self, "Properties")
            .map_err(|u| format!("{name}: {}: {}", u.at, u.why))?
            .unwrap_or_default();
        let function = resolved
            .get("FunctionName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let alias = resolved
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let arn = if function.starts_with("arn:") {
            function.to_string()
        } else {
            function_arn(self.scope, function)
        };
        Ok(Value::String(format!("{arn}:{alias}")))
    }
}

impl Names for Frame<'_> {
    fn reference(&self, name: &str) -> Result<Value, String> {
        if let Some(v) = self.pseudo(name) {
            return Ok(v);
        }
        if let Some(v) = self.parameters.get(name) {
            return Ok(v.clone());
        }
        if let Some(made) = self.made.get(name) {
            return Ok(Value::String(made.physical.clone()));
        }
        if let Some(f) = self.functions.get(name) {
            return Ok(Value::String(f.clone()));
        }
        if self.left_out(name) {
            return Err(format!("{name} is left out by its condition"));
        }
        match self.type_of(name) {
            Some("AWS::Lambda::Alias") => self.alias_arn(name),
            Some(t) if t.starts_with("AWS::ApiGatewayV2::") => {
                Err(format!("{name} is not created yet (a dependency cycle?)"))
            }
            // A resource gatehouse does not create: its logical id stands for it, as
            // `sam local` does.
            Some(_) => Ok(Value::String(name.to_string())),
            None => Err(format!(
                "{name} is not a parameter or resource of the template"
            )),
        }
    }

    fn attribute(&self, name: &str, attribute: &str) -> Result<Value, String> {
        if let Some(made) = self.made.get(name) {
            return made
                .attributes
                .get(attribute)
                .cloned()
                .ok_or_else(|| format!("{name} has no attribute {attribute}"));
        }
        if let Some(f) = self.functions.get(name) {
            return Ok(Value::String(match attribute {
                "Arn" => function_arn(self.scope, f),
                _ => format!("{name}.{attribute}"),
            }));
        }
        if self.left_out(name) {
            return Err(format!("{name} is left out by its condition"));
        }
        match self.type_of(name) {
            Some(t) if t.starts_with("AWS::ApiGatewayV2::") => {
                Err(format!("{name} is not created yet (a dependency cycle?)"))
            }
            Some(_) => Ok(Value::String(format!("{name}.{attribute}"))),
            None => Err(format!("{name} is not a resource of the template")),
        }
    }

    fn condition(&self, name: &str) -> Result<bool, String> {
        self.conditions
            .get(name)
            .copied()
            .ok_or_else(|| format!("{name} is not a condition of the template"))
    }

    fn mapping(&self, map: &str, top: &str, second: &str) -> Result<Value, String> {
        self.body
            .get("Mappings")
            .and_then(|m| m.get(map))
            .and_then(|m| m.get(top))
            .and_then(|m| m.get(second))
            .cloned()
            .ok_or_else(|| format!("Mappings has no {map}.{top}.{second}"))
    }

    fn export(&self, name: &str) -> Result<Value, String> {
        self.exports
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no template applied before this one exports {name}"))
    }
}

/// The template's parameters: each override, else its default; list types split.
pub fn parameters(
    body: &Value,
    overrides: &Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    let declared = body.get("Parameters").and_then(Value::as_object);
    for (name, decl) in declared.into_iter().flatten() {
        let value = overrides
            .get(name)
            .or_else(|| decl.get("Default"))
            .ok_or_else(|| {
                format!(
                    "Parameters: [{name}] must have values (give it with --parameter {name}=VALUE)"
                )
            })?;
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Array(items) => {
                out.insert(name.clone(), Value::Array(items.clone()));
                continue;
            }
            _ => return Err(format!("Parameters: [{name}] is not a string")),
        };
        let kind = decl.get("Type").and_then(Value::as_str).unwrap_or("String");
        let value = if kind == "CommaDelimitedList" || kind.starts_with("List<") {
            Value::Array(
                text.split(',')
                    .map(|s| Value::String(s.trim().into()))
                    .collect(),
            )
        } else {
            Value::String(text)
        };
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// The template's conditions, evaluated (each may name others).
pub fn conditions(frame: &mut Frame<'_>) -> Result<(), String> {
    let declared: Vec<(String, Value)> = frame
        .body
        .get("Conditions")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut pending = declared;
    while !pending.is_empty() {
        let before = pending.len();
        let mut still = Vec::new();
        for (name, def) in pending {
            let at = format!("Conditions.{name}");
            let evaluated = match def.as_object().and_then(|m| m.iter().next()) {
                Some((k, arg)) => intrinsics::condition(k, arg, frame, &at),
                None => return Err(format!("{at}: expected a condition function")),
            };
            match evaluated {
                Ok(b) => {
                    frame.conditions.insert(name, b);
                }
                Err(u) if u.why.ends_with("is not a condition of the template") => {
                    still.push((name, def))
                }
                Err(u) => return Err(format!("{}: {}", u.at, u.why)),
            }
        }
        if still.len() == before {
            let names: Vec<&str> = still.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format!(
                "Conditions: {} name conditions that do not exist, or each other in a cycle",
                names.join(", ")
            ));
        }
        pending = still;
    }
    Ok(())
}
