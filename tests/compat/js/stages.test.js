// The Stage API scenarios through the AWS SDK for JavaScript v3 (pinned in package.json;
// .ci/run installs it with `npm ci`). Each test starts the real gatehouse binary on port 0:
// GATEHOUSE_BIN, else target/debug/gatehouse; the store follows GATEHOUSE_COMPAT_STORE like
// the Python suite (memory, sqlite or postgres).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import {
  CreateApiCommand,
  CreateRouteCommand,
  CreateStageCommand,
  DeleteApiCommand,
  DeleteRouteSettingsCommand,
  DeleteStageCommand,
  GetStageCommand,
  GetStagesCommand,
  GetTagsCommand,
  TagResourceCommand,
  UpdateStageCommand,
} from "@aws-sdk/client-apigatewayv2";

import { client, failure, withServer } from "./gatehouse.js";

test("stage lifecycle", () =>
  withServer(async ({ endpoint }) => {
    const c = client(endpoint);
    const api = await c.send(new CreateApiCommand({ Name: "pets", ProtocolType: "HTTP", Tags: { team: "core" } }));
    assert.equal(api.$metadata.httpStatusCode, 201);
    assert.match(api.ApiId, /^[a-z0-9]{10}$/);
    assert.equal(api.ApiEndpoint, `https://${api.ApiId}.execute-api.us-east-1.amazonaws.com`);

    const stage = await c.send(
      new CreateStageCommand({ ApiId: api.ApiId, StageName: "dev", StageVariables: { a: "1" }, Tags: { env: "dev" } }),
    );
    assert.equal(stage.$metadata.httpStatusCode, 201);
    assert.equal(stage.StageName, "dev");
    assert.deepEqual(stage.StageVariables, { a: "1" });
    assert.deepEqual(stage.DefaultRouteSettings, { DetailedMetricsEnabled: false });
    assert.deepEqual(stage.RouteSettings, {});
    assert.ok(stage.CreatedDate instanceof Date);
    assert.equal(stage.DeploymentId, undefined);
    assert.equal(stage.AutoDeploy, undefined);

    const got = await c.send(new GetStageCommand({ ApiId: api.ApiId, StageName: "dev" }));
    assert.deepEqual(got.Tags, { env: "dev" });
    assert.equal(got.CreatedDate.getTime(), stage.CreatedDate.getTime());

    // routeSettings keys must name routes of the API.
    await c.send(new CreateRouteCommand({ ApiId: api.ApiId, RouteKey: "GET /pets" }));
    const updated = await c.send(
      new UpdateStageCommand({
        ApiId: api.ApiId,
        StageName: "dev",
        Description: "d",
        StageVariables: { b: "2" },
        RouteSettings: { "GET /pets": { ThrottlingBurstLimit: 100, ThrottlingRateLimit: 2000 } },
      }),
    );
    assert.equal(updated.Description, "d");
    assert.deepEqual(updated.StageVariables, { a: "1", b: "2" });
    assert.deepEqual(updated.RouteSettings, { "GET /pets": { ThrottlingBurstLimit: 100, ThrottlingRateLimit: 2000 } });

    const deleted = await c.send(new DeleteRouteSettingsCommand({ ApiId: api.ApiId, StageName: "dev", RouteKey: "GET /pets" }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);

    const arn = `arn:aws:apigateway:us-east-1::/apis/${api.ApiId}/stages/dev`;
    await c.send(new TagResourceCommand({ ResourceArn: arn, Tags: { owner: "js" } }));
    const tags = await c.send(new GetTagsCommand({ ResourceArn: arn }));
    assert.deepEqual(tags.Tags, { env: "dev", owner: "js" });

    const gone = await c.send(new DeleteStageCommand({ ApiId: api.ApiId, StageName: "dev" }));
    assert.equal(gone.$metadata.httpStatusCode, 204);
    const [name, status] = await failure(c.send(new GetStageCommand({ ApiId: api.ApiId, StageName: "dev" })));
    assert.deepEqual([name, status], ["NotFoundException", 404]);
    await c.send(new DeleteApiCommand({ ApiId: api.ApiId }));
  }));

test("errors carry AWS's names, statuses and messages", () =>
  withServer(async ({ endpoint }) => {
    const c = client(endpoint);
    let [name, status, message] = await failure(c.send(new GetStagesCommand({ ApiId: "nosuchapi0" })));
    assert.deepEqual([name, status, message], [
      "NotFoundException",
      404,
      "Invalid API identifier specified 123456789012:nosuchapi0",
    ]);
    const { ApiId } = await c.send(new CreateApiCommand({ Name: "e", ProtocolType: "HTTP" }));
    await c.send(new CreateStageCommand({ ApiId, StageName: "dev" }));
    [name, status] = await failure(c.send(new CreateStageCommand({ ApiId, StageName: "dev" })));
    assert.deepEqual([name, status], ["ConflictException", 409]);
    for (const input of [
      { StageName: "bad name" },
      { StageName: "ok", StageVariables: { "bad-name": "x" } },
      { StageName: "ok", Description: "x".repeat(1025) },
    ]) {
      [name, status] = await failure(c.send(new CreateStageCommand({ ApiId, ...input })));
      assert.deepEqual([name, status], ["BadRequestException", 400], JSON.stringify(input));
    }
    [name, status, message] = await failure(
      c.send(new CreateStageCommand({ ApiId, StageName: "x", DefaultRouteSettings: { LoggingLevel: "ERROR" } })),
    );
    assert.equal(message, "Execution logs are not supported on protocolType HTTP");
    [name, status] = await failure(c.send(new GetStagesCommand({ ApiId, NextToken: "forged" })));
    assert.deepEqual([name, status], ["BadRequestException", 400]);
    for (let i = 1; i < 10; i++) {
      await c.send(new CreateStageCommand({ ApiId, StageName: `s${i}` }));
    }
    // Per-API quotas: status 429, type ConflictException, AWS's text (the SDK retries 429s first).
    [name, status, message] = await failure(c.send(new CreateStageCommand({ ApiId, StageName: "s10" })));
    assert.deepEqual([name, status], ["ConflictException", 429]);
    assert.match(message, /^Maximum number of Stages for this API has been reached\./);
  }));

test("GetStages pages with MaxResults and NextToken", () =>
  withServer(async ({ endpoint }) => {
    const c = client(endpoint);
    const { ApiId } = await c.send(new CreateApiCommand({ Name: "p", ProtocolType: "HTTP" }));
    const names = Array.from({ length: 9 }, (_, i) => `stage${i}`);
    for (const StageName of names) {
      await c.send(new CreateStageCommand({ ApiId, StageName }));
    }
    const pages = [];
    // The JavaScript SDK ships no paginator for GetStages (AWS's model lists none), so walk
    // the tokens as its users do.
    let NextToken;
    do {
      const page = await c.send(new GetStagesCommand({ ApiId, MaxResults: "2", NextToken }));
      pages.push(page);
      NextToken = page.NextToken;
    } while (NextToken);
    assert.equal(pages.length, 5);
    assert.equal(pages.at(-1).NextToken, undefined);
    assert.deepEqual(pages.flatMap((p) => p.Items.map((s) => s.StageName)), names);
  }));

test("accounts and regions are isolated", () =>
  withServer(async ({ endpoint }) => {
    const a = client(endpoint, "111111111111");
    const b = client(endpoint, "222222222222");
    const west = client(endpoint, "111111111111", "secret", "eu-west-1");
    const { ApiId } = await a.send(new CreateApiCommand({ Name: "mine", ProtocolType: "HTTP" }));
    await a.send(new CreateStageCommand({ ApiId, StageName: "dev" }));
    let [name, status, message] = await failure(b.send(new GetStageCommand({ ApiId, StageName: "dev" })));
    assert.deepEqual([name, status], ["NotFoundException", 404]);
    assert.equal(message, `Invalid API identifier specified 222222222222:${ApiId}`);
    [name, status] = await failure(west.send(new GetStagesCommand({ ApiId })));
    assert.deepEqual([name, status], ["NotFoundException", 404]);
  }));

test("strict mode verifies the SDK's SigV4 signatures", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gh-js-"));
  const creds = path.join(dir, "credentials.toml");
  writeFileSync(
    creds,
    '[[credentials]]\naccess_key_id = "AKIAJSCLIENT"\nsecret_access_key = "js-secret"\naccount_id = "444444444444"\n',
  );
  return withServer(
    async ({ endpoint }) => {
      const good = client(endpoint, "AKIAJSCLIENT", "js-secret");
      const { ApiId } = await good.send(new CreateApiCommand({ Name: "signed", ProtocolType: "HTTP" }));
      const stage = await good.send(new CreateStageCommand({ ApiId, StageName: "prod" }));
      assert.equal(stage.StageName, "prod");
      let [name, status] = await failure(
        client(endpoint, "AKIAJSCLIENT", "wrong").send(new GetStageCommand({ ApiId, StageName: "prod" })),
      );
      assert.deepEqual([name, status], ["InvalidSignatureException", 403]);
      [name, status] = await failure(
        client(endpoint, "AKIAUNKNOWN", "js-secret").send(new GetStageCommand({ ApiId, StageName: "prod" })),
      );
      assert.deepEqual([name, status], ["UnrecognizedClientException", 403]);
    },
    "--auth",
    "strict",
    "--credentials",
    creds,
  );
});
