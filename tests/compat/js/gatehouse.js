// Starting the real gatehouse binary for the JavaScript suites: GATEHOUSE_BIN, else
// target/debug/gatehouse, on port 0, on the store GATEHOUSE_COMPAT_STORE names (memory,
// sqlite or postgres, like the Python suite); an SDK client pointed at it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

import { ApiGatewayV2Client } from "@aws-sdk/client-apigatewayv2";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const BIN = process.env.GATEHOUSE_BIN ?? path.join(ROOT, "target", "debug", "gatehouse");

export function storeUrl() {
  const kind = process.env.GATEHOUSE_COMPAT_STORE ?? "memory";
  if (kind === "sqlite") {
    return "sqlite:" + path.join(mkdtempSync(path.join(tmpdir(), "gh-js-")), "state.db");
  }
  if (kind === "postgres") {
    const base = process.env.GATEHOUSE_TEST_POSTGRES_URL;
    const sep = base.includes("?") ? "&" : "?";
    return `${base}${sep}schema=gh_test_${randomBytes(6).toString("hex")}`;
  }
  return "memory";
}

/** Starts gatehouse and resolves with { endpoint, stop } once it prints its ready line. */
export function startGatehouse(...extra) {
  const proc = spawn(BIN, ["serve", "--listen", "127.0.0.1:0", "--store", storeUrl(), ...extra], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    proc.on("exit", (code) => reject(new Error(`gatehouse exited with ${code} before it was ready`)));
    lines.once("line", (line) => {
      const prefix = "gatehouse listening on ";
      if (!line.startsWith(prefix)) {
        proc.kill();
        reject(new Error(`unexpected first line: ${line}`));
        return;
      }
      resolve({
        endpoint: line.slice(prefix.length),
        stop: () =>
          new Promise((done) => {
            proc.removeAllListeners("exit");
            proc.once("exit", done);
            proc.kill("SIGTERM");
          }),
      });
    });
  });
}

export function client(endpoint, accessKeyId = "AKIDEXAMPLE", secretAccessKey = "secret", region = "us-east-1") {
  return new ApiGatewayV2Client({
    endpoint,
    region,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

/** The error a call fails with: [name, HTTP status, message]. */
export async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return [e.name, e.$metadata?.httpStatusCode, e.message];
  }
  assert.fail("the call succeeded");
}

export async function withServer(fn, ...extra) {
  const gh = await startGatehouse(...extra);
  try {
    await fn(gh);
  } finally {
    await gh.stop();
  }
}

