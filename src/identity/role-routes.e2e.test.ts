/**
 * Admins grant and revoke roles over HTTP against the whole platform: a customer made a teller can
 * run branch operations with the next token; refusals are problems and change nothing.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { apiClient, startTestPlatform, type TestPlatform, testAdmin } from "../../test/support/platform.ts";

let tp: TestPlatform;
let api: ReturnType<typeof apiClient>;
let admin: ReturnType<ReturnType<typeof apiClient>["as"]>;
let adminId: string;

const password = "correct horse battery staple";

async function register(username: string): Promise<string> {
  const response = await api.call("POST", "/v1/auth/register", { username, password });
  assert.equal(response.status, 201, JSON.stringify(response.body));
  return response.body.id as string;
}

function idOfToken(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
  return payload.sub as string;
}

before(async () => {
  tp = await startTestPlatform();
  api = apiClient(tp.url);
  const adminToken = await api.signIn(testAdmin.username, testAdmin.password);
  admin = api.as(adminToken);
  adminId = idOfToken(adminToken);
});

after(async () => {
  await tp?.stop();
});

describe("granting and revoking roles", () => {
  test("a customer made a teller runs a branch operation with the next token; revoked, cannot", async () => {
    const userId = await register("teller-to-be");
    const customerToken = await api.signIn("teller-to-be", password);
    const account = await api.as(customerToken).post("/v1/accounts", { id: randomUUID(), asset: "EUR" });
    assert.equal(account.status, 201);
    const operation = () => ({
      id: randomUUID(),
      type: "deposit",
      iban: account.body.iban,
      amount: "500",
      branch: "utrecht",
    });
    assert.equal((await api.as(customerToken).post("/v1/operations", operation())).status, 403);

    const granted = await admin.call("PUT", `/v1/admin/users/${userId}/roles/teller`);
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.deepEqual(granted.body, {
      userId,
      username: "teller-to-be",
      roles: ["customer", "teller"],
      changed: true,
    });
    const again = await admin.call("PUT", `/v1/admin/users/${userId}/roles/teller`);
    assert.equal(again.body.changed, false);

    const teller = api.as(await api.signIn("teller-to-be", password));
    const deposited = await teller.post("/v1/operations", operation());
    assert.equal(deposited.status, 201, JSON.stringify(deposited.body));

    const revoked = await admin.call("DELETE", `/v1/admin/users/${userId}/roles/teller`);
    assert.deepEqual(revoked.body.roles, ["customer"]);
    const former = api.as(await api.signIn("teller-to-be", password));
    assert.equal((await former.post("/v1/operations", operation())).status, 403);
  });

  test("refusals: last role, own admin role, unknown user, unknown role; a customer cannot grant", async () => {
    const userId = await register("only-customer");
    const last = await admin.call("DELETE", `/v1/admin/users/${userId}/roles/customer`);
    assert.equal(last.status, 409);
    assert.equal(last.body.code, "last_role");

    // With a second role, the admin role would not be the last one: the own-admin rule decides.
    assert.equal((await admin.call("PUT", `/v1/admin/users/${adminId}/roles/auditor`)).status, 200);
    const own = await admin.call("DELETE", `/v1/admin/users/${adminId}/roles/admin`);
    assert.equal(own.status, 409);
    assert.equal(own.body.code, "own_admin_role");

    const unknown = await admin.call("PUT", `/v1/admin/users/${randomUUID()}/roles/teller`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.field, "id");

    const badRole = await admin.call("PUT", `/v1/admin/users/${userId}/roles/overlord`);
    assert.equal(badRole.status, 400);
    assert.equal(badRole.body.code, "validation_failed");
    assert.match(String(badRole.body.field), /role/);

    const customer = api.as(await api.signIn("only-customer", password));
    const escalation = await customer.call("PUT", `/v1/admin/users/${userId}/roles/admin`);
    assert.equal(escalation.status, 403);
    const me = await admin.call("PUT", `/v1/admin/users/${userId}/roles/citizen`);
    assert.deepEqual(me.body.roles, ["customer", "citizen"], "the escalation changed nothing");
  });
});
