"""The Stage API scenarios through the AWS CLI (auto-pagination, encoded labels, errors)."""


def test_cli_stage_scenarios(cli):
    api = cli.ok("create-api", "--name", "cli-api", "--protocol-type", "HTTP")
    api_id = api["ApiId"]
    stage = cli.ok("create-stage", "--api-id", api_id, "--stage-name", "$default",
                   "--stage-variables", "backend=example.com")
    assert stage["StageName"] == "$default"
    assert stage["StageVariables"] == {"backend": "example.com"}
    got = cli.ok("get-stage", "--api-id", api_id, "--stage-name", "$default")
    assert got["DefaultRouteSettings"] == {"DetailedMetricsEnabled": False}
    # routeSettings keys must name routes of the API: unknown ones are 404, as on AWS.
    code, _, err = cli.run("update-stage", "--api-id", api_id, "--stage-name", "$default",
                           "--route-settings", '{"GET /pets":{"ThrottlingBurstLimit":1}}')
    assert code != 0 and "Unable to find Route by key GET /pets" in err
    cli.ok("create-route", "--api-id", api_id, "--route-key", "GET /pets")
    updated = cli.ok("update-stage", "--api-id", api_id, "--stage-name", "$default",
                     "--route-settings",
                     '{"GET /pets":{"ThrottlingBurstLimit":100,"ThrottlingRateLimit":2000}}')
    assert updated["RouteSettings"]["GET /pets"]["ThrottlingBurstLimit"] == 100
    code, out, _ = cli.run("delete-route-settings", "--api-id", api_id, "--stage-name",
                           "$default", "--route-key", "GET /pets")
    assert (code, out) == (0, None)

    for i in range(6):
        cli.ok("create-stage", "--api-id", api_id, "--stage-name", f"s{i}")
    # --page-size makes the CLI fetch 2 at a time and follow nextToken to the end.
    listed = cli.ok("get-stages", "--api-id", api_id, "--page-size", "2")
    assert [s["StageName"] for s in listed["Items"]] == ["$default"] + [f"s{i}" for i in range(6)]
    assert "NextToken" not in listed

    code, _, err = cli.run("get-stage", "--api-id", api_id, "--stage-name", "ghost")
    assert code != 0 and "NotFoundException" in err
    code, _, err = cli.run("create-stage", "--api-id", api_id, "--stage-name", "s1")
    assert code != 0 and "ConflictException" in err
    code, _, err = cli.run("create-stage", "--api-id", api_id, "--stage-name", "no way")
    assert code != 0 and "BadRequestException" in err
    code, _, err = cli.run("get-stages", "--api-id", "nosuchapi0")
    assert code != 0 and "Invalid API identifier specified 123456789012:nosuchapi0" in err
    code, out, _ = cli.run("delete-stage", "--api-id", api_id, "--stage-name", "$default")
    assert (code, out) == (0, None)
