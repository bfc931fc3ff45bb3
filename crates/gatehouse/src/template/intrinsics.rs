//! CloudFormation's intrinsic functions, evaluated: `Ref`, `Fn::GetAtt` (list and dotted
//! forms), `Fn::Join`, `Fn::Sub` (one and two arguments, `${!…}` escapes), `Fn::Select`,
//! `Fn::Split`, `Fn::If` and the condition functions, `Fn::FindInMap`, `Fn::ImportValue`,
//! `Fn::Base64`, and the pseudo parameters. What a name stands for comes from [`Names`].

use serde_json::{Map, Value};

/// Where a resolver looks names up.
pub trait Names {
    /// What `Ref name` gives (a parameter, a pseudo parameter, a resource), if anything.
    fn reference(&self, name: &str) -> Result<Value, String>;
    /// What `Fn::GetAtt [name, attribute]` gives.
    fn attribute(&self, name: &str, attribute: &str) -> Result<Value, String>;
    /// Whether condition `name` holds.
    fn condition(&self, name: &str) -> Result<bool, String>;
    /// A `Mappings` entry.
    fn mapping(&self, map: &str, top: &str, second: &str) -> Result<Value, String>;
    /// An export of another template of the same assembly.
    fn export(&self, name: &str) -> Result<Value, String>;
}

/// A failure, with the path inside the value where it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Unresolved {
    /// Where: `Properties.IntegrationUri.Fn::Join[1]`.
    pub at: String,
    /// Why.
    pub why: String,
}

type Out = Result<Option<Value>, Unresolved>;

fn fail(at: &str, why: impl Into<String>) -> Unresolved {
    Unresolved {
        at: at.to_string(),
        why: why.into(),
    }
}

/// `value` with every intrinsic evaluated; `None` where it is `Ref AWS::NoValue` (the
/// property, list item or member is left out).
pub fn resolve(value: &Value, names: &dyn Names, at: &str) -> Out {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (key, arg) = map
                .iter()
                .next()
                .map(|(k, v)| (k.as_str(), v))
                .unwrap_or(("", value));
            if key == "Ref" || key.starts_with("Fn::") {
                return function(key, arg, names, &format!("{at}.{key}"));
            }
            object(map, names, at)
        }
        Value::Object(map) => object(map, names, at),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if let Some(v) = resolve(item, names, &format!("{at}[{i}]"))? {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        other => Ok(Some(other.clone())),
    }
}

fn object(map: &Map<String, Value>, names: &dyn Names, at: &str) -> Out {
    let mut out = Map::new();
    for (k, v) in map {
        if let Some(v) = resolve(v, names, &format!("{at}.{k}"))? {
            out.insert(k.clone(), v);
        }
    }
    Ok(Some(Value::Object(out)))
}

/// A resolved value that must be there.
fn required(value: &Value, names: &dyn Names, at: &str) -> Result<Value, Unresolved> {
    resolve(value, names, at)?.ok_or_else(|| fail(at, "AWS::NoValue is not allowed here"))
}

fn text(value: &Value, names: &dyn Names, at: &str) -> Result<String, Unresolved> {
    match required(value, names, at)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(fail(at, "expected a string")),
    }
}

fn list(value: &Value, names: &dyn Names, at: &str) -> Result<Vec<Value>, Unresolved> {
    match required(value, names, at)? {
        Value::Array(items) => Ok(items),
        _ => Err(fail(at, "expected a list")),
    }
}

/// The arguments of a function that takes a list of `n`.
fn args<'v>(arg: &'v Value, n: usize, at: &str) -> Result<&'v [Value], Unresolved> {
    match arg {
        Value::Array(items) if items.len() == n => Ok(items),
        _ => Err(fail(at, format!("expected a list of {n} arguments"))),
    }
}

fn function(key: &str, arg: &Value, names: &dyn Names, at: &str) -> Out {
    let named = |r: Result<Value, String>| r.map(Some).map_err(|why| fail(at, why));
    match key {
        "Ref" => match arg.as_str() {
            Some("AWS::NoValue") => Ok(None),
            Some(name) => named(names.reference(name)),
            None => Err(fail(at, "expected the name of a parameter or resource")),
        },
        "Fn::GetAtt" => {
            let (name, attribute) = get_att_args(arg, names, at)?;
            named(names.attribute(&name, &attribute))
        }
        "Fn::Join" => join(arg, names, at),
        "Fn::Sub" => sub(arg, names, at).map(|s| Some(Value::String(s))),
        "Fn::Select" => select(arg, names, at),
        "Fn::Split" => split(arg, names, at),
        "Fn::If" => {
            let a = args(arg, 3, at)?;
            let name = a[0]
                .as_str()
                .ok_or_else(|| fail(at, "expected a condition's name"))?;
            let holds = names.condition(name).map_err(|why| fail(at, why))?;
            let (branch, i) = if holds { (&a[1], 1) } else { (&a[2], 2) };
            resolve(branch, names, &format!("{at}[{i}]"))
        }
        "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
            condition(key, arg, names, at).map(|b| Some(Value::Bool(b)))
        }
        "Fn::FindInMap" => {
            let keys = texts(args(arg, 3, at)?, names, at)?;
            named(names.mapping(&keys[0], &keys[1], &keys[2]))
        }
        "Fn::ImportValue" => {
            let name = text(arg, names, at)?;
            named(names.export(&name))
        }
        "Fn::Base64" => {
            use base64::Engine as _;
            let plain = text(arg, names, at)?;
            let encoded = base64::engine::general_purpose::STANDARD.encode(plain);
            Ok(Some(Value::String(encoded)))
        }
        other => Err(fail(
            at,
            format!("{other} is not supported by gatehouse's template engine"),
        )),
    }
}

/// The texts of a function's arguments.
fn texts(items: &[Value], names: &dyn Names, at: &str) -> Result<Vec<String>, Unresolved> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| text(v, names, &format!("{at}[{i}]")))
        .collect()
}

/// `Fn::Join [separator, [parts]]`.
fn join(arg: &Value, names: &dyn Names, at: &str) -> Out {
    let a = args(arg, 2, at)?;
    let separator = text(&a[0], names, &format!("{at}[0]"))?;
    let parts = list(&a[1], names, &format!("{at}[1]"))?;
    let parts = texts(&parts, names, &format!("{at}[1]"))?;
    Ok(Some(Value::String(parts.join(&separator))))
}

/// `Fn::Select [index, [items]]`.
fn select(arg: &Value, names: &dyn Names, at: &str) -> Out {
    let a = args(arg, 2, at)?;
    let index = text(&a[0], names, &format!("{at}[0]"))?;
    let items = list(&a[1], names, &format!("{at}[1]"))?;
    let i: usize = index
        .parse()
        .map_err(|_| fail(at, format!("{index} is not an index")))?;
    items
        .get(i)
        .cloned()
        .map(Some)
        .ok_or_else(|| fail(at, format!("index {i} is past the list's end")))
}

/// `Fn::Split [delimiter, text]`.
fn split(arg: &Value, names: &dyn Names, at: &str) -> Out {
    let a = args(arg, 2, at)?;
    let delimiter = text(&a[0], names, &format!("{at}[0]"))?;
    let whole = text(&a[1], names, &format!("{at}[1]"))?;
    if delimiter.is_empty() {
        return Err(fail(at, "the delimiter is empty"));
    }
    let parts = whole
        .split(delimiter.as_str())
        .map(|p| Value::String(p.into()));
    Ok(Some(Value::Array(parts.collect())))
}

fn get_att_args(arg: &Value, names: &dyn Names, at: &str) -> Result<(String, String), Unresolved> {
    match arg {
        Value::String(dotted) => dotted
            .split_once('.')
            .map(|(n, a)| (n.to_string(), a.to_string()))
            .ok_or_else(|| fail(at, "expected Resource.Attribute")),
        Value::Array(items) if items.len() == 2 => {
            let name = items[0]
                .as_str()
                .ok_or_else(|| fail(at, "expected a resource's logical id"))?;
            Ok((
                name.to_string(),
                text(&items[1], names, &format!("{at}[1]"))?,
            ))
        }
        _ => Err(fail(at, "expected [Resource, Attribute]")),
    }
}

/// A condition function (or `{"Condition": name}`) evaluated.
pub fn condition(key: &str, arg: &Value, names: &dyn Names, at: &str) -> Result<bool, Unresolved> {
    let operand = |v: &Value, i: usize| -> Result<bool, Unresolved> {
        let at = format!("{at}[{i}]");
        match v {
            Value::Object(m) if m.len() == 1 => {
                let (k, a) = m
                    .iter()
                    .next()
                    .ok_or_else(|| fail(&at, "expected a condition"))?;
                if k == "Condition" {
                    let name = a
                        .as_str()
                        .ok_or_else(|| fail(&at, "expected a condition's name"))?;
                    return names.condition(name).map_err(|why| fail(&at, why));
                }
                condition(k, a, names, &format!("{at}.{k}"))
            }
            _ => match required(v, names, &at)? {
                Value::Bool(b) => Ok(b),
                Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                _ => Err(fail(&at, "expected a condition")),
            },
        }
    };
    let items = arg.as_array().ok_or_else(|| fail(at, "expected a list"))?;
    match key {
        "Fn::Equals" => {
            let a = args(arg, 2, at)?;
            let left = required(&a[0], names, &format!("{at}[0]"))?;
            let right = required(&a[1], names, &format!("{at}[1]"))?;
            Ok(loosely(&left) == loosely(&right))
        }
        "Fn::Not" => Ok(!operand(&args(arg, 1, at)?[0], 0)?),
        "Fn::And" | "Fn::Or" => {
            let mut all = true;
            let mut any = false;
            for (i, item) in items.iter().enumerate() {
                let b = operand(item, i)?;
                all &= b;
                any |= b;
            }
            Ok(if key == "Fn::And" { all } else { any })
        }
        other => Err(fail(at, format!("{other} is not a condition function"))),
    }
}

/// Values compared as CloudFormation compares them: a number and its text are equal.
fn loosely(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        other => other.clone(),
    }
}

/// `Fn::Sub`: a string, or `[string, {variables}]`.
fn sub(arg: &Value, names: &dyn Names, at: &str) -> Result<String, Unresolved> {
    let (template, variables) = match arg {
        Value::String(s) => (s.as_str(), Map::new()),
        Value::Array(items) if items.len() == 2 => {
            let s = items[0]
                .as_str()
                .ok_or_else(|| fail(at, "expected a string to substitute into"))?;
            let vars = match required(&items[1], names, &format!("{at}[1]"))? {
                Value::Object(m) => m,
                _ => return Err(fail(at, "expected a map of variables")),
            };
            (s, vars)
        }
        _ => return Err(fail(at, "expected a string or [string, {variables}]")),
    };
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| fail(at, "a ${ has no closing }"))?;
        let name = &after[..end];
        if let Some(literal) = name.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
        } else {
            let value = match variables.get(name) {
                Some(v) => v.clone(),
                None => match name.split_once('.') {
                    Some((res, attribute)) if !name.starts_with("AWS::") => names
                        .attribute(res, attribute)
                        .map_err(|why| fail(at, why))?,
                    _ => names.reference(name).map_err(|why| fail(at, why))?,
                },
            };
            match value {
                Value::String(s) => out.push_str(&s),
                Value::Number(n) => out.push_str(&n.to_string()),
                Value::Bool(b) => out.push_str(&b.to_string()),
                _ => return Err(fail(at, format!("${{{name}}} is not a string"))),
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The names a value refers to (`Ref`, `Fn::GetAtt`, `${…}` in `Fn::Sub`), for ordering.
pub fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("Ref", Value::String(name)) => out.push(name.clone()),
                    ("Fn::GetAtt", Value::String(dotted)) => {
                        out.extend(dotted.split('.').next().map(String::from))
                    }
                    ("Fn::GetAtt", Value::Array(items)) => {
                        out.extend(items.first().and_then(Value::as_str).map(String::from))
                    }
                    ("Fn::Sub", v) => {
                        let s = v.as_str().or_else(|| v.get(0).and_then(Value::as_str));
                        sub_names(s.unwrap_or(""), out);
                        references(v, out);
                    }
                    _ => references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| references(i, out)),
        _ => {}
    }
}

fn sub_names(template: &str, out: &mut Vec<String>) {
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { return };
        let name = &after[..end];
        if !name.starts_with('!') {
            out.extend(name.split('.').next().map(String::from));
        }
        rest = &after[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Fixed;
    impl Names for Fixed {
        fn reference(&self, name: &str) -> Result<Value, String> {
            match name {
                "AWS::Region" => Ok(json!("us-east-1")),
                "Api" => Ok(json!("abc1234567")),
                "Stage" => Ok(json!("dev")),
                _ => Err(format!(
                    "{name} is not a parameter or resource of the template"
                )),
            }
        }
        fn attribute(&self, name: &str, attribute: &str) -> Result<Value, String> {
            Ok(json!(format!("arn:{name}:{attribute}")))
        }
        fn condition(&self, name: &str) -> Result<bool, String> {
            Ok(name == "IsProd")
        }
        fn mapping(&self, map: &str, top: &str, second: &str) -> Result<Value, String> {
            Ok(json!(format!("{map}/{top}/{second}")))
        }
        fn export(&self, name: &str) -> Result<Value, String> {
            Err(format!("no template of the assembly exports {name}"))
        }
    }

    fn eval(v: Value) -> Option<Value> {
        resolve(&v, &Fixed, "Properties").unwrap()
    }

    #[test]
    fn the_functions_templates_use() {
        assert_eq!(
            eval(json!({"Fn::Join": ["", ["integrations/", {"Ref": "Api"}]]})),
            Some(json!("integrations/abc1234567"))
        );
        assert_eq!(
            eval(json!({"Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Fn.Arn}/invocations"})),
            Some(json!("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:Fn:Arn/invocations"))
        );
        assert_eq!(
            eval(json!({"Fn::Sub": ["${A}-${!Literal}-${Stage}", {"A": {"Ref": "Api"}}]})),
            Some(json!("abc1234567-${Literal}-dev"))
        );
        assert_eq!(
            eval(json!({"Fn::GetAtt": "Fn.Arn"})),
            Some(json!("arn:Fn:Arn"))
        );
        assert_eq!(
            eval(json!({"Fn::GetAtt": ["Fn", "Arn"]})),
            Some(json!("arn:Fn:Arn"))
        );
        assert_eq!(
            eval(json!({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]})),
            Some(json!("b"))
        );
        assert_eq!(
            eval(json!({"Fn::If": ["IsProd", "p", "d"]})),
            Some(json!("p"))
        );
        assert_eq!(
            eval(json!({"Fn::If": ["IsDev", "p", {"Ref": "AWS::NoValue"}]})),
            None
        );
        assert_eq!(
            eval(json!({"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Ref": "AWS::NoValue"}]})),
            Some(json!({"b": [1]}))
        );
        assert_eq!(
            eval(json!({"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "k"]})),
            Some(json!("M/us-east-1/k"))
        );
        assert_eq!(
            eval(json!({"Fn::Equals": [{"Ref": "Stage"}, "dev"]})),
            Some(json!(true))
        );
        assert_eq!(
            eval(
                json!({"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Condition": "IsDev"}]}]})
            ),
            Some(json!(true))
        );
        assert_eq!(eval(json!({"Fn::Base64": "hi"})), Some(json!("aGk=")));
    }

    #[test]
    fn failures_name_where() {
        let err = resolve(&json!({"X": [{"Fn::GetAZs": ""}]}), &Fixed, "Properties").unwrap_err();
        assert_eq!(err.at, "Properties.X[0].Fn::GetAZs");
        assert!(err.why.contains("not supported"));
        let err = resolve(&json!({"Ref": "Nope"}), &Fixed, "Properties.Y").unwrap_err();
        assert_eq!(err.at, "Properties.Y.Ref");
        let err = resolve(&json!({"Fn::ImportValue": "E"}), &Fixed, "P").unwrap_err();
        assert_eq!(err.why, "no template of the assembly exports E");
    }

    #[test]
    fn references_for_ordering() {
        let mut out = Vec::new();
        references(
            &json!({"A": {"Ref": "Api"}, "B": {"Fn::GetAtt": "Fn.Arn"}, "C": {"Fn::Sub": "${Other.Id}/${!No}/${Stage}"}}),
            &mut out,
        );
        assert_eq!(out, ["Api", "Fn", "Other", "Stage"]);
    }
}
