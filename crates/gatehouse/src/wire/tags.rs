//! The tag shapes: <https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/tags-resource-arn.html>.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// TagResource's body.
#[derive(Debug, Default, Deserialize)]
pub struct TagInput {
    /// `tags`.
    pub tags: Option<BTreeMap<String, String>>,
}

/// GetTags' reply.
#[derive(Serialize)]
pub struct TagsOut<'a> {
    /// `tags`.
    pub tags: &'a BTreeMap<String, String>,
}
