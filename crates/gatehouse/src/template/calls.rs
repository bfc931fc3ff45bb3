//! The management operations a template turns into, run through the operation table like
//! any request (no second code path): create, update, replace and delete a resource of
//! one of the engine's types, an API's OpenAPI body imported, tags changed.

use bytes::Bytes;
use gatehouse_core::error::ApiError;
use gatehouse_core::model::Scope;
use http::Method;
use serde_json::{Map, Value};

use super::kinds::{self, Parent, Type};
use super::names::Made;
use crate::api::router;
use crate::ops::{self, Ctx, Input, Service};

/// Runs operations on one service in one account and region.
pub struct Calls<'a> {
    /// The service (the engine's scratch copy of the store).
    pub svc: &'a Service,
    /// Where.
    pub scope: &'a Scope,
}

/// A path label as it goes in a request's path (the router decodes it again).
fn encode(label: &str) -> String {
    percent_encoding::utf8_percent_encode(label, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn text<'v>(props: &'v Map<String, Value>, name: &str) -> Result<&'v str, ApiError> {
    props
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request(format!("{name} is required")))
}

impl Calls<'_> {
    /// One operation, as a request would run it; its answer's JSON (`null` for none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        query: Vec<(String, String)>,
        body: Option<Bytes>,
        planned_id: Option<String>,
    ) -> Result<Value, ApiError> {
        let (op, labels) = router::route(&method, path)?;
        let ctx = Ctx {
            scope: self.scope.clone(),
            op,
            profile: self.svc.config.profile,
            planned_id,
        };
        let input = Input {
            query,
            body: body.unwrap_or_default(),
        };
        let reply = ops::call(self.svc, &ctx, &labels, input).await?;
        match reply.body {
            Some(b) if !b.is_empty() => serde_json::from_slice(&b).map_err(|_| {
                ApiError::internal("an operation answered something that is not JSON")
            }),
            _ => Ok(Value::Null),
        }
    }

    /// Where records of `t` are kept for these properties: the collection's path.
    fn collection(&self, t: &Type, props: &Map<String, Value>) -> Result<String, ApiError> {
        let mut tail = t.collection.to_string();
        while let Some(start) = tail.find('{') {
            let end = tail[start..].find('}').map_or(tail.len(), |e| start + e);
            let name = tail[start + 1..end].to_string();
            tail.replace_range(start..=end, &encode(text(props, &name)?));
        }
        Ok(match t.parent {
            Parent::None => tail,
            Parent::Api => format!("/v2/apis/{}{tail}", encode(text(props, "ApiId")?)),
            Parent::Domain => format!(
                "/v2/domainnames/{}{tail}",
                encode(text(props, "DomainName")?)
            ),
        })
    }

    /// Creates a record of `t`; what `Ref` and `Fn::GetAtt` give for it.
    pub async fn create(
        &self,
        t: &Type,
        props: &Map<String, Value>,
        planned: Option<String>,
    ) -> Result<Made, ApiError> {
        let path = self.collection(t, props)?;
        let answer = match props.get("Body") {
            Some(definition) if t.parent == Parent::None && t.id_member == "apiId" => {
                let answer = self
                    .put_definition(&path, props, definition, planned)
                    .await?;
                let id = answer
                    .get("apiId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                self.after_import(t, &id, props, &Map::new()).await?
            }
            _ => {
                if props.contains_key("BodyS3Location") {
                    return Err(ApiError::bad_request("BodyS3Location is not supported: gatehouse has no S3; put the definition in Body"));
                }
                let body = Value::Object(kinds::body(t, props)).to_string();
                self.call(Method::POST, &path, Vec::new(), Some(body.into()), planned)
                    .await?
            }
        };
        Ok(self.made(t, props, &answer))
    }

    /// Changes a record of `t` in place from `old` to `new` properties.
    pub async fn update(
        &self,
        t: &Type,
        id: &str,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
    ) -> Result<Made, ApiError> {
        let item = format!("{}/{}", self.collection(t, new)?, encode(id));
        let answer = match new.get("Body") {
            Some(definition) if old.get("Body") != Some(definition) => {
                self.put_definition(&item, new, definition, None).await?;
                self.after_import(t, id, new, old).await?
            }
            Some(_) => self.after_import(t, id, new, old).await?,
            None => {
                let body = Value::Object(update_body(t, new)).to_string();
                let answer = self
                    .call(Method::PATCH, &item, Vec::new(), Some(body.into()), None)
                    .await?;
                self.retag(t, id, old, new).await?;
                answer
            }
        };
        Ok(self.made(t, new, &answer))
    }

    /// Deletes a record of `t` (one already gone with its root is not an error).
    pub async fn delete(
        &self,
        t: &Type,
        id: &str,
        props: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        let item = format!("{}/{}", self.collection(t, props)?, encode(id));
        match self
            .call(Method::DELETE, &item, Vec::new(), None, None)
            .await
        {
            Err(e) if e.kind == gatehouse_core::error::ErrorKind::NotFound => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// ImportApi (at `/v2/apis`) or ReimportApi (at the API's path) of an OpenAPI body.
    async fn put_definition(
        &self,
        path: &str,
        props: &Map<String, Value>,
        definition: &Value,
        planned: Option<String>,
    ) -> Result<Value, ApiError> {
        let text = definition_text(definition);
        self.call(
            Method::PUT,
            path,
            import_query(props),
            Some(text.into()),
            planned,
        )
        .await
    }

    /// After an import: the API's other properties as an update, its tags; the API read.
    async fn after_import(
        &self,
        t: &Type,
        id: &str,
        props: &Map<String, Value>,
        old: &Map<String, Value>,
    ) -> Result<Value, ApiError> {
        let item = format!("/v2/apis/{}", encode(id));
        let body = update_body(t, props);
        let answer = if body.is_empty() {
            self.call(Method::GET, &item, Vec::new(), None, None)
                .await?
        } else {
            self.call(
                Method::PATCH,
                &item,
                Vec::new(),
                Some(Value::Object(body).to_string().into()),
                None,
            )
            .await?
        };
        self.retag(t, id, old, props).await?;
        Ok(answer)
    }

    /// Tags changed from `old` to `new`: added or changed ones set, removed ones taken off.
    async fn retag(
        &self,
        t: &Type,
        id: &str,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        let (before, after) = (tags(old), tags(new));
        if before == after || !t.maps.contains(&"Tags") {
            return Ok(());
        }
        let Some(arn) = self.arn(t, new, id) else {
            return Ok(());
        };
        let path = format!("/v2/tags/{}", encode(&arn));
        if !after.is_empty() {
            let body = serde_json::json!({ "tags": after }).to_string();
            self.call(Method::POST, &path, Vec::new(), Some(body.into()), None)
                .await?;
        }
        let gone: Vec<(String, String)> = before
            .keys()
            .filter(|k| !after.contains_key(*k))
            .map(|k| ("tagKeys".to_string(), k.clone()))
            .collect();
        if !gone.is_empty() {
            self.call(Method::DELETE, &path, gone, None, None).await?;
        }
        Ok(())
    }

    fn arn(&self, t: &Type, props: &Map<String, Value>, id: &str) -> Option<String> {
        let region = &self.scope.region;
        let tail = match t.id_member {
            "apiId" => format!("/apis/{id}"),
            "stageName" => format!("/apis/{}/stages/{id}", props.get("ApiId")?.as_str()?),
            "domainName" => format!("/domainnames/{id}"),
            "vpcLinkId" => format!("/vpclinks/{id}"),
            _ => return None,
        };
        Some(format!("arn:aws:apigateway:{region}::{tail}"))
    }

    /// What `Ref` and `Fn::GetAtt` give for a record, from the operation's answer.
    fn made(&self, t: &Type, props: &Map<String, Value>, answer: &Value) -> Made {
        let physical = answer
            .get(t.id_member)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut attributes: Map<String, Value> = answer
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| !v.is_object() && !v.is_array())
            .map(|(k, v)| (pascal(k), v.clone()))
            .collect();
        if t.id_member == "domainName" {
            let first = answer.pointer("/domainNameConfigurations/0");
            for (attr, member) in [
                ("RegionalDomainName", "apiGatewayDomainName"),
                ("RegionalHostedZoneId", "hostedZoneId"),
            ] {
                if let Some(v) = first.and_then(|c| c.get(member)) {
                    attributes.insert(attr.into(), v.clone());
                }
            }
            if let Some(arn) = self.arn(t, props, &physical) {
                attributes.insert("DomainNameArn".into(), Value::String(arn));
            }
        }
        Made {
            physical,
            attributes,
        }
    }
}

/// An update's body: the properties as members, without those a record keeps for life
/// and without tags (changed through TagResource/UntagResource).
fn update_body(t: &Type, props: &Map<String, Value>) -> Map<String, Value> {
    let mut body = kinds::body(t, props);
    for name in t.create_only {
        body.remove(&kinds::camel(name));
    }
    body.remove("tags");
    body
}

fn tags(props: &Map<String, Value>) -> Map<String, Value> {
    props
        .get("Tags")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn pascal(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .into_iter()
        .chain(chars)
        .collect()
}

fn import_query(props: &Map<String, Value>) -> Vec<(String, String)> {
    let mut query = Vec::new();
    if let Some(f) = props.get("FailOnWarnings").and_then(Value::as_bool) {
        query.push(("failOnWarnings".to_string(), f.to_string()));
    }
    if let Some(b) = props.get("BasePath").and_then(Value::as_str) {
        query.push(("basepath".to_string(), b.to_string()));
    }
    query
}

/// An OpenAPI body as ImportApi takes it: `{"body": "<the definition>"}`.
fn definition_text(definition: &Value) -> String {
    let text = match definition {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    serde_json::json!({ "body": text }).to_string()
}
