"""Byte-level checks of what goes over the wire: headers, omitted members, 204 bodies, errors."""

import json
import re


def test_success_headers_and_exact_stage_body(raw):
    status, headers, body = raw.request("POST", "/v2/apis", {"name": "w", "protocolType": "HTTP"})
    assert status == 201
    api_id = json.loads(body)["apiId"]
    status, headers, body = raw.request("POST", f"/v2/apis/{api_id}/stages", {"stageName": "dev"})
    assert status == 201
    assert headers["content-type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                        headers["x-amzn-requestid"])
    assert "x-amz-apigw-id" in headers
    stage = json.loads(body)
    # Exactly the members AWS returns for a fresh HTTP stage (aws-cli create-stage example).
    assert sorted(stage) == ["createdDate", "defaultRouteSettings", "lastUpdatedDate",
                             "routeSettings", "stageName", "stageVariables", "tags"]
    assert stage["defaultRouteSettings"] == {"detailedMetricsEnabled": False}
    assert stage["createdDate"] == stage["lastUpdatedDate"]
    assert body.count(b'"routeSettings":{}') == 1


def test_delete_is_204_with_empty_body(raw):
    _, _, body = raw.request("POST", "/v2/apis", {"name": "w", "protocolType": "HTTP"})
    api_id = json.loads(body)["apiId"]
    raw.request("POST", f"/v2/apis/{api_id}/stages", {"stageName": "$default"})
    status, headers, body = raw.request("DELETE", f"/v2/apis/{api_id}/stages/%24default")
    assert (status, body) == (204, b"")
    assert "x-amzn-requestid" in headers


def test_error_shape(raw):
    status, headers, body = raw.request("GET", "/v2/apis/nosuchapi0/stages/x")
    assert status == 404
    assert headers["x-amzn-errortype"] == "NotFoundException"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"message": "Invalid API identifier specified 123456789012:nosuchapi0"}
    status, headers, body = raw.request("POST", "/v2/apis", b"{nope")
    assert status == 400 and headers["x-amzn-errortype"] == "BadRequestException"
    assert "malformed JSON" in json.loads(body)["message"]
    status, headers, body = raw.request("POST", "/v2/apis", {"name": "x", "protocolType": "SOAP"})
    assert status == 400
    assert json.loads(body)["message"] == "Invalid protocol specified. Must be one of [HTTP, WEBSOCKET]"
    # An enum member given something other than a string: no decoder's words.
    for value in (1, ["HTTP"], {"HTTP": 1}, {"HTTP": "x", "b": 2}):
        status, _, body = raw.request("POST", "/v2/apis", {"name": "x", "protocolType": value})
        assert status == 400
        assert json.loads(body)["message"] == "Invalid value for member protocolType: expected a string"


def test_list_without_more_pages_has_no_next_token(raw):
    status, _, body = raw.request("GET", "/v2/apis")
    assert status == 200
    assert json.loads(body) == {"items": []}
