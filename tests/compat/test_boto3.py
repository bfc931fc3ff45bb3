"""The Stage API scenarios through boto3 (botocore's restJson1 client and paginators)."""

import re

import botocore.exceptions
import pytest

from conftest import make_client

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def error_of(call, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(*args, **kwargs)
    err = info.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def http_api(client, name="compat"):
    return client.create_api(Name=name, ProtocolType="HTTP")["ApiId"]


def test_api_and_stage_lifecycle(client):
    api = client.create_api(Name="pets", ProtocolType="HTTP", Tags={"team": "core"})
    assert api["ResponseMetadata"]["HTTPStatusCode"] == 201
    api_id = api["ApiId"]
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    assert api["ApiEndpoint"] == f"https://{api_id}.execute-api.us-east-1.amazonaws.com"
    assert api["ApiKeySelectionExpression"] == "$request.header.x-api-key"
    assert api["RouteSelectionExpression"] == "$request.method $request.path"

    stage = client.create_stage(ApiId=api_id, StageName="$default")
    assert stage["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert stage["DefaultRouteSettings"] == {"DetailedMetricsEnabled": False}
    assert stage["RouteSettings"] == {} and stage["StageVariables"] == {} and stage["Tags"] == {}
    for absent in ("DeploymentId", "Description", "AccessLogSettings", "AutoDeploy",
                   "ClientCertificateId", "LastDeploymentStatusMessage", "ApiGatewayManaged"):
        assert absent not in stage

    got = client.get_stage(ApiId=api_id, StageName="$default")
    assert got["StageName"] == "$default"
    client.create_route(ApiId=api_id, RouteKey="GET /pets")
    updated = client.update_stage(
        ApiId=api_id, StageName="$default", Description="d",
        StageVariables={"a": "1"},
        RouteSettings={"GET /pets": {"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 2000}},
    )
    assert updated["RouteSettings"] == {"GET /pets": {"ThrottlingBurstLimit": 100,
                                                      "ThrottlingRateLimit": 2000.0}}
    assert updated["CreatedDate"] == stage["CreatedDate"]
    client.update_stage(ApiId=api_id, StageName="$default", StageVariables={"a": ""})
    assert client.get_stage(ApiId=api_id, StageName="$default")["StageVariables"] == {}

    resp = client.delete_route_settings(ApiId=api_id, StageName="$default", RouteKey="GET /pets")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    resp = client.delete_access_log_settings(ApiId=api_id, StageName="$default")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    resp = client.delete_stage(ApiId=api_id, StageName="$default")
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204
    resp = client.delete_api(ApiId=api_id)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_websocket_defaults(client):
    api_id = client.create_api(Name="ws", ProtocolType="WEBSOCKET",
                               RouteSelectionExpression="$request.body.action")["ApiId"]
    stage = client.create_stage(ApiId=api_id, StageName="prod", ClientCertificateId="abc",
                                DefaultRouteSettings={"LoggingLevel": "INFO"})
    assert stage["DefaultRouteSettings"] == {"DataTraceEnabled": False,
                                             "DetailedMetricsEnabled": False,
                                             "LoggingLevel": "INFO"}
    assert stage["ClientCertificateId"] == "abc"
    code, status, _ = error_of(client.create_api, Name="ws", ProtocolType="WEBSOCKET")
    assert (code, status) == ("BadRequestException", 400)


def test_errors(client):
    api_id = http_api(client)
    code, status, msg = error_of(client.get_stages, ApiId="nosuchapi0")
    assert (code, status) == ("NotFoundException", 404)
    assert msg == "Invalid API identifier specified 123456789012:nosuchapi0"
    code, status, _ = error_of(client.get_stage, ApiId=api_id, StageName="ghost")
    assert (code, status) == ("NotFoundException", 404)
    code, status, _ = error_of(client.delete_stage, ApiId=api_id, StageName="ghost")
    assert (code, status) == ("NotFoundException", 404)
    client.create_stage(ApiId=api_id, StageName="dev")
    code, status, _ = error_of(client.create_stage, ApiId=api_id, StageName="dev")
    assert (code, status) == ("ConflictException", 409)
    for kwargs in (
        {"StageName": "bad name"},
        {"StageName": "ok", "StageVariables": {"bad-name": "x"}},
        {"StageName": "ok", "StageVariables": {"k": "spaces are bad"}},
        {"StageName": "ok", "Description": "x" * 1025},
        {"StageName": "ok", "DefaultRouteSettings": {"DataTraceEnabled": True}},
        {"StageName": "ok", "ClientCertificateId": "abc"},
    ):
        code, status, _ = error_of(client.create_stage, ApiId=api_id, **kwargs)
        assert (code, status) == ("BadRequestException", 400), kwargs
    code, _, msg = error_of(client.create_stage, ApiId=api_id, StageName="x",
                            DefaultRouteSettings={"LoggingLevel": "ERROR"})
    assert msg == "Execution logs are not supported on protocolType HTTP"
    code, status, _ = error_of(client.delete_route_settings, ApiId=api_id, StageName="dev",
                               RouteKey="GET /none")
    assert (code, status) == ("NotFoundException", 404)
    code, status, _ = error_of(client.get_stages, ApiId=api_id, MaxResults="0")
    assert (code, status) == ("BadRequestException", 400)
    code, status, _ = error_of(client.get_stages, ApiId=api_id, NextToken="forged")
    assert (code, status) == ("BadRequestException", 400)
    assert [s["StageName"] for s in client.get_stages(ApiId=api_id)["Items"]] == ["dev"]


def test_stage_quota(client):
    api_id = http_api(client)
    for i in range(10):
        client.create_stage(ApiId=api_id, StageName=f"s{i}")
    # AWS answers per-API quotas with 429 and type ConflictException (which boto3 retries
    # as throttling before giving up).
    code, status, msg = error_of(client.create_stage, ApiId=api_id, StageName="s10")
    assert (code, status) == ("ConflictException", 429)
    assert msg.startswith("Maximum number of Stages for this API has been reached.")


def test_paginators_walk_every_page(client):
    api_id = http_api(client)
    names = [f"stage{i}" for i in range(9)]
    for n in names:
        client.create_stage(ApiId=api_id, StageName=n)
    pages = list(client.get_paginator("get_stages").paginate(
        ApiId=api_id, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 5
    assert "NextToken" not in pages[-1]
    assert [s["StageName"] for p in pages for s in p["Items"]] == names
    ids = [http_api(client, f"api{i}") for i in range(4)]
    seen = [a["ApiId"] for p in client.get_paginator("get_apis").paginate(
        PaginationConfig={"PageSize": 3}) for a in p["Items"]]
    assert seen[-4:] == ids


def test_accounts_and_regions_are_isolated(server):
    a = make_client(server.endpoint, access_key="111111111111")
    b = make_client(server.endpoint, access_key="222222222222")
    west = make_client(server.endpoint, access_key="111111111111", region="eu-west-1")
    api_id = http_api(a)
    a.create_stage(ApiId=api_id, StageName="dev")
    for other, account in ((b, "222222222222"), (west, "111111111111")):
        code, status, msg = error_of(other.get_stage, ApiId=api_id, StageName="dev")
        assert (code, status) == ("NotFoundException", 404)
        assert msg == f"Invalid API identifier specified {account}:{api_id}"
        assert other.get_apis()["Items"] == []


def test_timestamps_are_whole_seconds_utc(raw, client):
    api_id = http_api(client)
    client.create_stage(ApiId=api_id, StageName="dev")
    import json
    status, _, body = raw.request("GET", f"/v2/apis/{api_id}/stages/dev")
    stage = json.loads(body)
    assert TIMESTAMP.match(stage["createdDate"]) and TIMESTAMP.match(stage["lastUpdatedDate"])
