"""Strict mode (SigV4 verified) and throttling through boto3 and the AWS CLI."""

import json
import urllib.request

import boto3
import botocore
import botocore.config
import botocore.exceptions
import pytest

from conftest import Cli, Server

CREDENTIALS = """
[[credentials]]
access_key_id = "AKIACOMPATA"
secret_access_key = "compat-secret-a"
account_id = "111111111111"

[[credentials]]
access_key_id = "ASIACOMPATS"
secret_access_key = "compat-secret-s"
account_id = "111111111111"
session_token = "compat-session-token"
"""


@pytest.fixture
def strict(tmp_path):
    path = tmp_path / "credentials.toml"
    path.write_text(CREDENTIALS)
    s = Server("--auth", "strict", "--credentials", str(path))
    yield s
    s.stop()


def client_for(server, key, secret, token=None, **config):
    return boto3.client(
        "apigatewayv2", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1},
                                      **config))


def error_of(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(**kwargs)
    r = info.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]


def test_boto3_signs_and_is_verified(strict):
    good = client_for(strict, "AKIACOMPATA", "compat-secret-a")
    api_id = good.create_api(Name="strict", ProtocolType="HTTP")["ApiId"]
    good.create_stage(ApiId=api_id, StageName="$default")
    session = client_for(strict, "ASIACOMPATS", "compat-secret-s", "compat-session-token")
    assert session.get_stage(ApiId=api_id, StageName="$default")["StageName"] == "$default"

    assert error_of(client_for(strict, "AKIACOMPATA", "wrong").get_apis) == \
        ("InvalidSignatureException", 403)
    assert error_of(client_for(strict, "AKIANOBODY", "x").get_apis) == \
        ("UnrecognizedClientException", 403)
    assert error_of(client_for(strict, "ASIACOMPATS", "compat-secret-s").get_apis) == \
        ("UnrecognizedClientException", 403)
    unsigned = client_for(strict, "x", "y", signature_version=botocore.UNSIGNED)
    assert error_of(unsigned.get_apis) == ("MissingAuthenticationTokenException", 403)
    assert [a["ApiId"] for a in good.get_apis()["Items"]] == [api_id]


def test_presigned_urls_from_boto3(strict):
    good = client_for(strict, "AKIACOMPATA", "compat-secret-a")
    api_id = good.create_api(Name="presign", ProtocolType="HTTP")["ApiId"]
    for c in (good, client_for(strict, "ASIACOMPATS", "compat-secret-s", "compat-session-token")):
        url = c.generate_presigned_url("get_api", Params={"ApiId": api_id}, ExpiresIn=300)
        assert "X-Amz-Signature=" in url
        with urllib.request.urlopen(url, timeout=30) as resp:
            assert resp.status == 200
            assert json.loads(resp.read())["apiId"] == api_id
    bad = client_for(strict, "AKIACOMPATA", "wrong").generate_presigned_url(
        "get_api", Params={"ApiId": api_id}, ExpiresIn=300)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(bad, timeout=30)
    assert info.value.code == 403
    assert info.value.headers["x-amzn-errortype"] == "InvalidSignatureException"


def test_the_cli_signs_and_is_verified(strict):
    cli = Cli(strict.endpoint)
    cli.env.update(AWS_ACCESS_KEY_ID="AKIACOMPATA", AWS_SECRET_ACCESS_KEY="compat-secret-a")
    api = cli.ok("create-api", "--name", "cli-strict", "--protocol-type", "HTTP")
    cli.ok("create-stage", "--api-id", api["ApiId"], "--stage-name", "$default")
    cli.env.update(AWS_ACCESS_KEY_ID="ASIACOMPATS", AWS_SECRET_ACCESS_KEY="compat-secret-s",
                   AWS_SESSION_TOKEN="compat-session-token")
    assert cli.ok("get-stages", "--api-id", api["ApiId"])["Items"][0]["StageName"] == "$default"
    cli.env.update(AWS_ACCESS_KEY_ID="AKIACOMPATA", AWS_SECRET_ACCESS_KEY="wrong")
    del cli.env["AWS_SESSION_TOKEN"]
    code, _, err = cli.run("get-apis")
    assert code != 0 and "InvalidSignatureException" in err


def test_boto3_standard_retries_recover_from_throttling():
    s = Server("--throttle", "--throttle-rate", "5", "--throttle-burst", "2")
    try:
        c = boto3.client("apigatewayv2", endpoint_url=s.endpoint, region_name="us-east-1",
                         aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                         config=botocore.config.Config(retries={"mode": "standard",
                                                                "max_attempts": 10}))
        retried = sum(c.get_apis()["ResponseMetadata"]["RetryAttempts"] for _ in range(12))
        assert retried > 0, "the burst of 2 must have been exceeded"
        throttled = boto3.client(  # a single attempt: sees the 429 itself
            "apigatewayv2", endpoint_url=s.endpoint, region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
            config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1}))
        codes = set()
        for _ in range(10):
            try:
                throttled.get_apis()
            except botocore.exceptions.ClientError as e:
                codes.add((e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"],
                           e.response["Error"]["Message"]))
        assert codes == {("TooManyRequestsException", 429, "Too Many Requests")}
    finally:
        s.stop()


def test_boto3_rides_out_injected_faults():
    s = Server("--fault", "GetApis=TooManyRequestsException#2")
    try:
        c = boto3.client("apigatewayv2", endpoint_url=s.endpoint, region_name="us-east-1",
                         aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                         config=botocore.config.Config(retries={"mode": "standard",
                                                                "max_attempts": 3}))
        assert c.get_apis()["ResponseMetadata"]["RetryAttempts"] == 2
    finally:
        s.stop()
