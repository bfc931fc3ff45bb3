//! Tagging ARNs: `arn:{partition}:apigateway:{region}::/apis/{apiId}`,
//! `arn:{partition}:apigateway:{region}::/apis/{apiId}/stages/{stageName}` and
//! `arn:{partition}:apigateway:{region}::/vpclinks/{vpcLinkId}` and
//! `arn:{partition}:apigateway:{region}::/domainnames/{domainName}` (regional, no account id).

use crate::error::{ApiError, ApiResult};

/// What a tagging ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagTarget {
    /// An API.
    Api {
        /// Its id.
        api_id: String,
    },
    /// A stage.
    Stage {
        /// The API's id.
        api_id: String,
        /// The stage's name.
        stage_name: String,
    },
    /// A VPC link.
    VpcLink {
        /// Its id.
        vpc_link_id: String,
    },
    /// A custom domain name.
    DomainName {
        /// The name.
        domain_name: String,
    },
}

/// A parsed tagging ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagArn {
    /// The region in the ARN.
    pub region: String,
    /// The resource.
    pub target: TagTarget,
}

/// Parses a tagging ARN. Malformed → BadRequestException.
pub fn parse(arn: &str) -> ApiResult<TagArn> {
    let malformed = || ApiError::bad_request(format!("Invalid resource ARN: {arn}"));
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("apigateway"), Some(region), Some(""), Some(path)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(malformed());
    };
    if !partition.starts_with("aws") || region.is_empty() {
        return Err(malformed());
    }
    let segs: Vec<&str> = path.split('/').collect();
    let target = match segs.as_slice() {
        ["", "apis", api_id] if !api_id.is_empty() => TagTarget::Api {
            api_id: api_id.to_string(),
        },
        ["", "apis", api_id, "stages", stage] if !api_id.is_empty() && !stage.is_empty() => {
            TagTarget::Stage {
                api_id: api_id.to_string(),
                stage_name: stage.to_string(),
            }
        }
        ["", "vpclinks", id] if !id.is_empty() => TagTarget::VpcLink {
            vpc_link_id: id.to_string(),
        },
        ["", "domainnames", name] if !name.is_empty() => TagTarget::DomainName {
            domain_name: name.to_string(),
        },
        _ => return Err(malformed()),
    };
    Ok(TagArn {
        region: region.to_string(),
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_api_and_stage_arns() {
        assert_eq!(
            parse("arn:aws:apigateway:us-east-1::/apis/abc").unwrap(),
            TagArn {
                region: "us-east-1".into(),
                target: TagTarget::Api {
                    api_id: "abc".into()
                }
            }
        );
        assert_eq!(
            parse("arn:aws:apigateway:eu-west-1::/apis/abc/stages/$default")
                .unwrap()
                .target,
            TagTarget::Stage {
                api_id: "abc".into(),
                stage_name: "$default".into()
            }
        );
        for bad in [
            "",
            "arn:aws:apigateway:us-east-1::/apis",
            "arn:aws:lambda:us-east-1::/apis/abc",
            "arn:aws:apigateway:us-east-1:123:/apis/abc",
            "arn:aws:apigateway:us-east-1::/apis/abc/routes/x",
        ] {
            assert_eq!(
                parse(bad).unwrap_err().kind,
                crate::error::ErrorKind::BadRequest,
                "{bad}"
            );
        }
        assert_eq!(
            parse("arn:aws:apigateway:us-east-1::/vpclinks/x")
                .unwrap()
                .target,
            TagTarget::VpcLink {
                vpc_link_id: "x".into()
            }
        );
        assert_eq!(
            parse("arn:aws:apigateway:us-east-1::/domainnames/x.example.com")
                .unwrap()
                .target,
            TagTarget::DomainName {
                domain_name: "x.example.com".into()
            }
        );
    }
}
