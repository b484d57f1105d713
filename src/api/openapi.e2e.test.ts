/**
 * The OpenAPI document tells every status an operation answers, and the answers schemathesis found
 * outside it are fixed: 405 with Allow for a known path, router errors as problem details, path
 * parameters up to their schema's limit, a NUL in a gateway secret refused (it was a 500).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";

let platform: TestPlatform;
let api: ReturnType<typeof apiClient>;
let adminToken: string;

before(async () => {
  platform = await startTestPlatform();
  api = apiClient(platform.url);
  adminToken = await api.signIn(testAdmin.username, testAdmin.password);
});
after(() => platform.stop());

type Operation = { responses: Record<string, { content?: Record<string, unknown>; links?: unknown }> };

async function operation(method: string, path: string): Promise<Operation> {
  const { body } = await api.call("GET", "/openapi.json");
  const found = body.paths?.[path]?.[method] as Operation | undefined;
  assert.ok(found, `${method} ${path} is documented`);
  return found;
}

describe("/openapi.json", () => {
  test("a command lists its successes and every problem, as problem+json", async () => {
    const open = await operation("post", "/v1/accounts");
    // 403: auditors and compliance, who change nothing, may not open accounts.
    assert.deepEqual(Object.keys(open.responses).sort(), [
      "201",
      "202",
      "400",
      "401",
      "403",
      "409",
      "413",
      "415",
      "422",
      "503",
    ]);
    assert.ok(open.responses["422"]?.content?.["application/problem+json"]);
    assert.ok(open.responses["201"]?.links, "201 links to the account");
  });

  test("every route that needs a caller declares the Bearer scheme and documents 401", async () => {
    const { body } = await api.call("GET", "/openapi.json");
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(body.paths as Record<string, Record<string, unknown>>))
      for (const [method, op] of Object.entries(operations)) {
        const operation = op as Operation & {
          security?: unknown[];
          "x-ledgerflow-access"?: { roles?: unknown };
        };
        if (operation["x-ledgerflow-access"]?.roles === undefined) continue;
        if (!operation.security?.length || !operation.responses["401"]) missing.push(`${method} ${path}`);
      }
    // A revoked session (logout) makes every such route answer 401: it must be in the contract.
    assert.deepEqual(missing, []);
  });

  test("role-checked routes document 403, identity routes their own problems", async () => {
    assert.ok((await operation("get", "/v1/admin/stats")).responses["403"]);
    assert.ok((await operation("post", "/v1/operations")).responses["403"]);
    assert.equal((await operation("get", "/v1/accounts")).responses["403"], undefined);
    const login = await operation("post", "/v1/auth/login");
    assert.ok(login.responses["401"] && login.responses["429"]);
    assert.ok((await operation("post", "/v1/auth/register")).responses["409"]);
  });

  test("gateway bodies are documented; IBANs and amounts carry their patterns", async () => {
    const { body } = await api.call("GET", "/openapi.json");
    const add = body.paths["/v1/admin/gateways"].post.requestBody.content["application/json"].schema;
    assert.ok(add.required.includes("callbackSecret"));
    const change =
      body.paths["/v1/admin/gateways/{name}"].patch.requestBody.content["application/json"].schema;
    assert.equal(change.properties.name, undefined);
    const transfer = body.paths["/v1/transfers"].post.requestBody.content["application/json"].schema;
    assert.equal(transfer.properties.from.format, "iban");
    assert.ok(transfer.properties.from.pattern);
    assert.ok(transfer.properties.amount.anyOf.some((s: { pattern?: string }) => s.pattern));
  });
});

describe("answers outside the document, fixed", () => {
  test("another method on a known path is 405 with Allow, not 404", async () => {
    const trace = await api.call("PUT", "/v1/chain/head");
    assert.equal(trace.status, 405);
    assert.equal(trace.body.code, "method_not_allowed");
    assert.equal(trace.headers.get("allow"), "GET, HEAD");
    const query = await api.call("QUERY", "/v1/accounts");
    assert.equal(query.status, 405);
    const getLogin = await api.call("GET", "/v1/auth/login");
    assert.equal(getLogin.status, 405);
    assert.equal(getLogin.headers.get("allow"), "POST");
    assert.equal((await api.call("DELETE", "/v1/no-such-thing")).status, 404);
    // A path a route names exactly is that resource, though DELETE /v1/me/passkeys/{id} would fit it.
    const options = await api.call("OPTIONS", "/v1/me/passkeys/options");
    assert.equal(options.status, 405);
    assert.equal(options.headers.get("allow"), "POST");
  });

  test("a path parameter past the router's default limit gets its schema's answer", async () => {
    const admin = api.as(adminToken);
    const topic = "t".repeat(249);
    const replay = await admin.call("POST", `/v1/admin/dlq/${topic}/0/0/replay`);
    assert.equal(replay.status, 404, JSON.stringify(replay.body));
    assert.equal(replay.body.code, "not_found");
    const gateway = await admin.get(`/v1/admin/gateways/${"g".repeat(150)}`);
    assert.equal(gateway.status, 400);
    assert.equal(gateway.body.field, "name");
  });

  test("a gateway secret holding NUL is refused with 400 naming it, not a 500", async () => {
    const added = await api.as(adminToken).post(
      "/v1/admin/gateways",
      {
        name: "nul-secret",
        url: "http://127.0.0.1:9/pay",
        regions: ["EU"],
        currencies: ["EUR"],
        methods: ["card"],
        callbackSecret: "0123456789abcdef\u0000",
      },
      false,
    );
    assert.equal(added.status, 400, JSON.stringify(added.body));
    assert.equal(added.body.field, "callbackSecret");
  });
});
