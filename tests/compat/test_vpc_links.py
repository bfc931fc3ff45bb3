"""VPC links through boto3 and the AWS CLI: a link, an HTTP API integration through it,
refusals while it is in use, tags, and export → import."""

import json
import subprocess

import pytest

from conftest import BIN, Server, make_client


def test_vpc_link_with_an_integration(client):
    link = client.create_vpc_link(Name="nlb", SubnetIds=["subnet-0a1b2c3d", "subnet-0b2c3d4e"],
                                  SecurityGroupIds=["sg-0a1b2c3d"], Tags={"team": "core"})
    lid = link["VpcLinkId"]
    assert (link["VpcLinkStatus"], link["VpcLinkVersion"]) == ("PENDING", "V2")
    got = client.get_vpc_link(VpcLinkId=lid)
    assert (got["VpcLinkStatus"], got["VpcLinkStatusMessage"]) == (
        "AVAILABLE", "VPC link is ready to route traffic")
    api = client.create_api(Name="private", ProtocolType="HTTP")["ApiId"]
    with pytest.raises(client.exceptions.BadRequestException):
        client.create_integration(ApiId=api, IntegrationType="HTTP_PROXY",
                                  IntegrationMethod="ANY", ConnectionType="VPC_LINK",
                                  ConnectionId="nolink", PayloadFormatVersion="1.0",
                                  IntegrationUri="arn:aws:elasticloadbalancing:us-east-1:"
                                                 "123456789012:listener/app/lb/1/2")
    integ = client.create_integration(
        ApiId=api, IntegrationType="HTTP_PROXY", IntegrationMethod="ANY",
        ConnectionType="VPC_LINK", ConnectionId=lid, PayloadFormatVersion="1.0",
        IntegrationUri="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/lb/1/2")
    route = client.create_route(ApiId=api, RouteKey="ANY /{proxy+}",
                                Target=f"integrations/{integ['IntegrationId']}")
    with pytest.raises(client.exceptions.BadRequestException) as e:
        client.delete_vpc_link(VpcLinkId=lid)
    assert f"[ANY:{route['RouteId']}]" in str(e.value)
    arn = f"arn:aws:apigateway:us-east-1::/vpclinks/{lid}"
    client.tag_resource(ResourceArn=arn, Tags={"env": "dev"})
    assert client.get_tags(ResourceArn=arn)["Tags"] == {"team": "core", "env": "dev"}
    client.delete_route(ApiId=api, RouteId=route["RouteId"])
    client.delete_integration(ApiId=api, IntegrationId=integ["IntegrationId"])
    resp = client.delete_vpc_link(VpcLinkId=lid)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 202
    with pytest.raises(client.exceptions.NotFoundException):
        client.get_vpc_link(VpcLinkId=lid)


def test_vpc_links_through_the_cli(cli):
    link = cli.ok("create-vpc-link", "--name", "cli-link", "--subnet-ids", "subnet-0a1b2c3d",
                  "--security-group-ids", "sg-0a1b2c3d")
    renamed = cli.ok("update-vpc-link", "--vpc-link-id", link["VpcLinkId"], "--name", "renamed")
    assert renamed["Name"] == "renamed"
    for i in range(3):
        cli.ok("create-vpc-link", "--name", f"l{i}", "--subnet-ids", "subnet-0a1b2c3d")
    # GetVpcLinks has no paginator in the CLI: follow nextToken by hand.
    first = cli.ok("get-vpc-links", "--max-results", "2")
    rest = cli.ok("get-vpc-links", "--next-token", first["NextToken"])
    assert [x["Name"] for x in first["Items"] + rest["Items"]] == ["renamed", "l0", "l1", "l2"]
    assert "NextToken" not in rest
    code, _, err = cli.run("create-vpc-link", "--name", "bad", "--subnet-ids", "sid1")
    assert code != 0 and "BadRequestException" in err
    code, _, err = cli.run("get-vpc-link", "--vpc-link-id", "nolink")
    assert code != 0 and "NotFoundException" in err


def test_vpc_links_are_exported_and_imported(tmp_path):
    store = "sqlite:" + str(tmp_path / "a.db")
    s = Server(store=store)
    try:
        c = make_client(s.endpoint)
        lid = c.create_vpc_link(Name="kept", SubnetIds=["subnet-0a1b2c3d"],
                                Tags={"k": "v"})["VpcLinkId"]
        before = c.get_vpc_link(VpcLinkId=lid)
        before.pop("ResponseMetadata")
    finally:
        s.stop()
    state = tmp_path / "state.json"
    done = subprocess.run([BIN, "export", "--store", store, "-o", str(state)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    doc = json.loads(state.read_text())
    assert [v["vpcLink"]["vpcLinkId"] for v in doc["vpcLinks"]] == [lid]
    s = Server("--seed", str(state), store="memory")
    try:
        after = make_client(s.endpoint).get_vpc_link(VpcLinkId=lid)
        after.pop("ResponseMetadata")
        assert after == before
    finally:
        s.stop()
