/**
 * The HTTP edge's error path and its operational endpoints over real HTTP (issue 11, points 6 and 7):
 * every error from every layer (router, body parser, web file server, 404) leaves as RFC 9457
 * problem details; the web file server never decodes a path twice nor serves outside its folder;
 * `/metrics` is for admins, or for anyone on the loopback listener when one is configured.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";
import { freePort } from "../../test/support/ports.ts";

let tp: TestPlatform;
let api: ReturnType<typeof apiClient>;
let webParent: string;

const stackTrace = /\n\s+at |node:internal|\.ts:\d+:\d+|URIError/;
const secretText = "secret next to the web folder";

/** A GET with the path sent exactly as written (fetch would normalise `..` and percent-encoding). */
function rawGet(path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(tp.url);
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method: "GET", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

function assertProblem(
  response: { status: number; type: string; body: string },
  status: number,
  what: string,
) {
  assert.equal(response.status, status, `${what}: ${response.status} ${response.body.slice(0, 200)}`);
  assert.match(response.type, /application\/problem\+json/, what);
  const body = JSON.parse(response.body);
  assert.equal(body.status, status, what);
  assert.equal(typeof body.code, "string", what);
  assert.doesNotMatch(response.body, stackTrace, what);
}

before(async () => {
  // The web folder `…/dist` and a sibling `…/dist-private` that shares its name as a prefix.
  webParent = await mkdtemp(join(tmpdir(), "ledgerflow-web-"));
  const webDir = join(webParent, "dist");
  await mkdir(join(webDir, "assets"), { recursive: true });
  await mkdir(join(webParent, "dist-private"));
  await writeFile(join(webDir, "index.html"), "<!doctype html><title>wallet</title>");
  await writeFile(join(webDir, "assets", "app.js"), "console.log('app')");
  await writeFile(join(webDir, "100%.txt"), "a file with a percent sign");
  await writeFile(join(webParent, "dist-private", "secret.txt"), secretText);
  await writeFile(join(webParent, "secret.txt"), secretText);
  tp = await startTestPlatform({ metrics: { port: await freePort() } }, { webDir });
  api = apiClient(tp.url);
});

after(async () => {
  await tp?.stop();
  if (webParent) await rm(webParent, { recursive: true, force: true });
});

describe("every error leaves as problem details", () => {
  test("a URL that is not valid percent-encoding is a 400 problem, not Fastify's own JSON", async () => {
    for (const path of ["/%ff", "/v1/accounts/%ff", "/%E0%A4%A", "/assets/%c0%af"]) {
      assertProblem(await rawGet(path), 400, path);
    }
  });

  test("a literal % in a web path is served or falls back to the app, never a 500", async () => {
    const percent = await rawGet("/%25");
    assert.equal(percent.status, 200, percent.body.slice(0, 200));
    assert.match(percent.body, /<title>wallet<\/title>/);
    const file = await rawGet("/100%25.txt");
    assert.equal(file.body, "a file with a percent sign");
  });

  test("the web server decodes once and never serves a file outside its folder", async () => {
    const attempts = [
      "/%252e%252e/secret.txt",
      "/%252e%252e/dist-private/secret.txt",
      "/..%2fdist-private/secret.txt",
      "/..%2fsecret.txt",
      "/assets/..%2f..%2fsecret.txt",
      "/%2e%2e/dist-private/secret.txt",
    ];
    for (const path of attempts) {
      const response = await rawGet(path);
      assert.doesNotMatch(response.body, new RegExp(secretText), path);
      assert.ok(response.status < 500, `${path}: ${response.status}`);
    }
    const inside = await rawGet("/assets/app.js");
    assert.equal(inside.status, 200);
    assert.match(inside.type, /javascript/);
  });

  test("API 404s, bad bodies and malformed HTTP are problems too", async () => {
    assertProblem(await rawGet("/v1/nothing-here"), 404, "unknown API route");
    assertProblem(await rawGet("/graphql/%ff"), 400, "bad encoding under an API prefix");
    const badJson = await fetch(`${tp.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    assertProblem(
      {
        status: badJson.status,
        type: String(badJson.headers.get("content-type")),
        body: await badJson.text(),
      },
      400,
      "invalid JSON",
    );
    // Node's HTTP parser refuses this request line before Fastify sees a request.
    const { hostname, port } = new URL(tp.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write("GET /\u0001 HTTP/1.1\r\nHost: x\r\n\r\n"),
      );
      let text = "";
      socket.on("data", (chunk) => {
        text += chunk.toString();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /content-type: application\/problem\+json/i);
    assert.match(answer, /"code":"validation_failed"/);
  });
});

describe("/metrics", () => {
  test("on the API listener only admins may read it", async () => {
    assertProblem(await rawGet("/metrics"), 401, "anonymous");
    const customer = await api.signUp("metrics-customer");
    assertProblem(await rawGet("/metrics", { authorization: `Bearer ${customer}` }), 403, "customer");
    const admin = await api.signIn(testAdmin.username, testAdmin.password);
    const scrape = await rawGet("/metrics", { authorization: `Bearer ${admin}` });
    assert.equal(scrape.status, 200);
    assert.match(scrape.body, /ledgerflow_/);
  });

  test("the configured loopback listener serves it without a token, and nothing else", async () => {
    const url = tp.platform.metricsUrl;
    assert.ok(url?.startsWith("http://127.0.0.1:"), String(url));
    const scrape = await fetch(`${url}/metrics`);
    assert.equal(scrape.status, 200);
    assert.match(await scrape.text(), /ledgerflow_/);
    const other = await fetch(`${url}/v1/accounts`);
    assert.equal(other.status, 404);
    assert.match(other.headers.get("content-type") ?? "", /application\/problem\+json/);
  });
});
