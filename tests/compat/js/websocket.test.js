// WebSocket APIs through the AWS SDK for JavaScript v3 and the `ws` client (both pinned in
// package.json): a client connects on the stage's invoke URL, and the SDK's
// ApiGatewayManagementApiClient — unchanged, its endpoint the stage URL — posts to, reads
// and closes the connection; a closed one is GoneException (410).

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  CreateApiCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
} from "@aws-sdk/client-apigatewayv2";
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { createServer } from "node:http";
import WebSocket from "ws";

import { client, failure, withServer } from "./gatehouse.js";

/** A Lambda Invoke-API stub answering 200 to every event; resolves with its URL and the
 * connection ids of the `$connect` events it received. */
function lambdaStub() {
  const connected = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const event = JSON.parse(body);
      if (event.requestContext.routeKey === "$connect") connected.push(event.requestContext.connectionId);
      res.end(JSON.stringify({ statusCode: 200 }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, connected, close: () => server.close() }),
    ),
  );
}

/** A WebSocket API whose `$connect` and `$default` routes call the stub's function. */
async function chatApi(c) {
  const { ApiId } = await c.send(
    new CreateApiCommand({ Name: "chat", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" }),
  );
  const { IntegrationId } = await c.send(
    new CreateIntegrationCommand({
      ApiId,
      IntegrationType: "AWS_PROXY",
      IntegrationUri: "arn:aws:lambda:us-east-1:123456789012:function:chat",
    }),
  );
  for (const RouteKey of ["$connect", "$default"]) {
    await c.send(new CreateRouteCommand({ ApiId, RouteKey, Target: `integrations/${IntegrationId}` }));
  }
  await c.send(new CreateStageCommand({ ApiId, StageName: "prod", AutoDeploy: true }));
  return ApiId;
}

/** Opens a connection; resolves with the socket and a queue of the messages it receives. */
function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const received = [];
    const waiting = [];
    ws.on("message", (data) => {
      const next = waiting.shift();
      if (next) next(data.toString());
      else received.push(data.toString());
    });
    ws.on("open", () =>
      resolve({
        ws,
        next: () => (received.length ? Promise.resolve(received.shift()) : new Promise((r) => waiting.push(r))),
        closed: new Promise((r) => ws.on("close", (code) => r(code))),
      }),
    );
    ws.on("error", reject);
  });
}

test("ApiGatewayManagementApiClient reaches a connection through the stage URL", async () => {
  const stub = await lambdaStub();
  try {
    await withServer(async ({ endpoint }) => {
      await reachConnection(endpoint, stub);
    }, "--lambda-endpoint", stub.url);
  } finally {
    stub.close();
  }
});

async function reachConnection(endpoint, stub) {
  {
    const api = await chatApi(client(endpoint));
    const stageUrl = `${endpoint}/_aws/execute-api/${api}/prod`;
    const socket = await open(stageUrl.replace("http://", "ws://"));
    const m = new ApiGatewayManagementApiClient({
      endpoint: stageUrl,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
      maxAttempts: 1,
    });
    const metrics = await (await fetch(`${endpoint}/_gatehouse/metrics`)).text();
    assert.match(metrics, /gatehouse_websocket_connections 1/);
    const posted = new Promise((r) => socket.ws.once("message", (d) => r(d.toString())));
    assert.equal(stub.connected.length, 1);
    const connectionId = stub.connected[0];
    await m.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: "hello from the SDK" }));
    assert.equal(await posted, "hello from the SDK");
    const got = await m.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    assert.equal(got.Identity.SourceIp, "127.0.0.1");
    assert.ok(got.ConnectedAt instanceof Date && got.LastActiveAt >= got.ConnectedAt);
    await m.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    assert.equal(await socket.closed, 1000);
    const [name, status] = await failure(m.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: "late" })));
    assert.deepEqual([name, status], ["GoneException", 410]);
  }
}
