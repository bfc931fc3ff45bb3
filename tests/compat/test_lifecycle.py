"""Issue 3 paths through boto3 and the AWS CLI: quick create, auto-deploy, tags by ARN."""

import json

import botocore.exceptions
import pytest


def error_code(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(**kwargs)
    r = info.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_quick_create_with_boto3(client):
    api = client.create_api(Name="quick", ProtocolType="HTTP",
                            Target="arn:aws:lambda:us-east-1:123456789012:function:f")
    api_id = api["ApiId"]
    stage = client.get_stage(ApiId=api_id, StageName="$default")
    assert stage["ApiGatewayManaged"] is True and stage["AutoDeploy"] is True
    dep = stage["DeploymentId"]
    assert stage["LastDeploymentStatusMessage"] == \
        f"Successfully deployed stage with deployment ID '{dep}'"
    deployment = client.get_deployment(ApiId=api_id, DeploymentId=dep)
    assert deployment["AutoDeployed"] is True
    assert deployment["DeploymentStatus"] == "DEPLOYED"
    integ = client.get_integrations(ApiId=api_id)["Items"][0]
    assert (integ["IntegrationType"], integ["PayloadFormatVersion"]) == ("AWS_PROXY", "2.0")
    assert error_code(client.delete_stage, ApiId=api_id, StageName="$default") == \
        ("BadRequestException", 400)


def test_auto_deploy_status_messages_with_boto3(client):
    api_id = client.create_api(Name="auto", ProtocolType="HTTP")["ApiId"]
    client.create_stage(ApiId=api_id, StageName="dev", AutoDeploy=True)
    integ = client.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY",
                                      IntegrationUri="https://example.com",
                                      IntegrationMethod="ANY")
    route = client.create_route(ApiId=api_id, RouteKey="GET /a",
                                Target=f"integrations/{integ['IntegrationId']}")
    dev = client.get_stage(ApiId=api_id, StageName="dev")
    assert dev["LastDeploymentStatusMessage"].startswith("Successfully deployed stage")
    client.delete_route(ApiId=api_id, RouteId=route["RouteId"])
    dev = client.get_stage(ApiId=api_id, StageName="dev")
    assert dev["LastDeploymentStatusMessage"] == ("Deployment attempt failed: Unable to deploy "
                                                  "API because no routes exist in this API")
    pages = list(client.get_paginator("get_deployments").paginate(
        ApiId=api_id, PaginationConfig={"PageSize": 1}))
    assert sum(len(p["Items"]) for p in pages) == 1


def test_tags_with_boto3(client):
    api_id = client.create_api(Name="t", ProtocolType="HTTP")["ApiId"]
    client.create_stage(ApiId=api_id, StageName="$default", Tags={"a": "1"})
    arn = f"arn:aws:apigateway:us-east-1::/apis/{api_id}/stages/$default"
    resp = client.tag_resource(ResourceArn=arn, Tags={"b": "2", "c": "3"})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
    resp = client.untag_resource(ResourceArn=arn, TagKeys=["a", "c"])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.get_tags(ResourceArn=arn)["Tags"] == {"b": "2"}
    assert client.get_stage(ApiId=api_id, StageName="$default")["Tags"] == {"b": "2"}
    assert error_code(client.tag_resource, ResourceArn=arn, Tags={"aws:x": "y"}) == \
        ("BadRequestException", 400)
    assert error_code(client.get_tags,
                      ResourceArn=f"arn:aws:apigateway:us-east-1::/apis/{api_id}/stages/no") == \
        ("NotFoundException", 404)


def test_quick_create_and_tags_with_the_cli(cli):
    api = cli.ok("create-api", "--name", "cli-quick", "--protocol-type", "HTTP",
                 "--target", "https://example.com/backend")
    api_id = api["ApiId"]
    stage = cli.ok("get-stage", "--api-id", api_id, "--stage-name", "$default")
    assert stage["ApiGatewayManaged"] is True
    assert stage["LastDeploymentStatusMessage"].startswith("Successfully deployed stage")
    routes = cli.ok("get-routes", "--api-id", api_id)
    assert [r["RouteKey"] for r in routes["Items"]] == ["$default"]
    arn = f"arn:aws:apigateway:us-east-1::/apis/{api_id}/stages/$default"
    code, out, _ = cli.run("tag-resource", "--resource-arn", arn, "--tags", "team=core")
    assert code == 0, out
    assert cli.ok("get-tags", "--resource-arn", arn)["Tags"] == {"team": "core"}
    assert cli.ok("get-stage", "--api-id", api_id, "--stage-name", "$default")["Tags"] == \
        {"team": "core"}
    code, _, _ = cli.run("untag-resource", "--resource-arn", arn, "--tag-keys", "team")
    assert code == 0
    assert cli.ok("get-tags", "--resource-arn", arn)["Tags"] == {}
    code, _, err = cli.run("delete-stage", "--api-id", api_id, "--stage-name", "$default")
    assert code != 0 and "BadRequestException" in err
