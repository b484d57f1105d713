import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  apiClient,
  startTestPlatform,
  type TestPlatform,
  testAdmin,
} from "../../../test/support/platform.ts";

describe("profiles: own profile, admin users, officer verification, PII at rest", () => {
  let running: TestPlatform;
  let api: ReturnType<typeof apiClient>;
  let admin: string;

  before(async () => {
    running = await startTestPlatform();
    api = apiClient(running.url);
    admin = await api.signIn(testAdmin.username, testAdmin.password);
  });
  after(() => running?.stop());

  test("created at first sign-in with the username as display name; the owner edits it", async () => {
    const token = await api.signUp("profiled");
    const me = api.as(token);
    const first = await me.get("/v1/me/profile");
    assert.equal(first.status, 200);
    assert.equal(first.body.displayName, "profiled");
    assert.equal(first.body.zipCode, null);
    const edited = await me.call("PATCH", "/v1/me/profile", {
      displayName: "Pat Rofile",
      zipCode: "10001",
      avatarUrl: "https://example.com/a.png",
      email: "pat@example.com",
      legalName: "Patricia Rofile",
    });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    assert.equal(edited.body.displayName, "Pat Rofile");
    assert.equal(edited.body.email, "pat@example.com");
    const cleared = await me.call("PATCH", "/v1/me/profile", { avatarUrl: null });
    assert.equal(cleared.body.avatarUrl, null);
    assert.equal(cleared.body.zipCode, "10001", "absent fields stay");
  });

  test("personal data is encrypted at rest, and nameOf prefers the legal name", async () => {
    const token = await api.signUp("secretive");
    await api
      .as(token)
      .call("PATCH", "/v1/me/profile", { email: "sec@example.com", legalName: "Sécrète Person" });
    const { rows } = await running.platform.pool.query(
      "SELECT p.* FROM identity_profiles p JOIN users u ON u.id = p.user_id WHERE u.username = 'secretive'",
    );
    const row = rows[0];
    assert.ok(row);
    assert.doesNotMatch(JSON.stringify(row), /sec@example|Sécrète/);
    assert.match(row.email_enc, /^v1\.[A-Za-z0-9_-]{11}\./, "names the key that wrote it");
    const userId = row.user_id as string;
    const other = await api.signUp("plainname");
    const otherId = (await api.as(other).get("/v1/me/profile")).body.userId as string;
    const names = await running.platform.identity.nameOf([userId, otherId, "not-a-uuid"]);
    assert.equal(names.get(userId), "Sécrète Person");
    assert.equal(names.get(otherId), "plainname");
    assert.equal(names.size, 2);
  });

  test("bad input: too long, bad zip, http avatar, unknown field → 400 naming the field; nothing changed", async () => {
    const token = await api.signUp("careless");
    const me = api.as(token);
    const cases: [Record<string, unknown>, string][] = [
      [{ displayName: "x".repeat(65) }, "displayName"],
      [{ zipCode: "1234" }, "zipCode"],
      [{ zipCode: "ABCDE" }, "zipCode"],
      [{ avatarUrl: "http://example.com/a.png" }, "avatarUrl"],
      [{ legalName: "y".repeat(129) }, "legalName"],
      [{ officer: { agency: "NYPD 5th Precinct", badgeNumber: "12 34" } }, "officer/badgeNumber"],
      [{ nickname: "x" }, "nickname"],
    ];
    for (const [body, field] of cases) {
      const answer = await me.call("PATCH", "/v1/me/profile", body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.code, "validation_failed");
      assert.equal(answer.body.field, field, JSON.stringify(answer.body));
    }
    const after = await me.get("/v1/me/profile");
    assert.equal(after.body.displayName, "careless");
    assert.equal(after.body.zipCode, null);
    // An avatar on a port is an https URL too; a NUL in the admin search is refused, not a 500.
    const ported = await me.call("PATCH", "/v1/me/profile", { avatarUrl: "https://127.0.0.1:8443/a.png" });
    assert.equal(ported.status, 200, JSON.stringify(ported.body));
    for (const query of ["search=a%00b", "cursor=%00"]) {
      const listed = await api.as(admin).get(`/v1/admin/users?${query}`);
      assert.equal(listed.status, 400, `${query}: ${JSON.stringify(listed.body)}`);
    }
  });

  test("role escalation by a customer: PATCH with roles or verified, admin routes → 403, nothing changed", async () => {
    const token = await api.signUp("climber");
    const me = api.as(token);
    await me.call("PATCH", "/v1/me/profile", { officer: { agency: "Precinct 9", badgeNumber: "B-99" } });
    const withRoles = await me.call("PATCH", "/v1/me/profile", { displayName: "Boss", roles: ["admin"] });
    assert.equal(withRoles.status, 403);
    assert.equal(withRoles.body.field, "roles");
    const verifySelf = await me.call("PATCH", "/v1/me/profile", { verified: true });
    assert.equal(verifySelf.status, 403);
    const self = await me.get("/v1/me/profile");
    assert.equal(self.body.displayName, "climber");
    assert.equal(self.body.officer.verified, false);
    assert.equal((await me.get("/v1/admin/users")).status, 403);
    const userId = self.body.userId as string;
    const verify = await me.call("POST", `/v1/admin/users/${userId}/officer-verification`, {
      verified: true,
    });
    assert.equal(verify.status, 403);
    const grant = await me.call("PUT", `/v1/admin/users/${userId}/roles/admin`);
    assert.equal(grant.status, 403);
    const fresh = await api.signIn("climber", "correct horse battery staple");
    assert.equal(
      (await api.as(fresh).get("/v1/admin/users")).status,
      403,
      "still a customer after signing in again",
    );
    assert.equal((await api.as(fresh).get("/v1/me/profile")).body.officer.verified, false);
  });

  test("admins list users with roles (search, cursor) and verify officers; a change of badge unverifies", async () => {
    const token = await api.signUp("officer-kim");
    const me = api.as(token);
    const profile = await me.call("PATCH", "/v1/me/profile", {
      officer: { agency: "Precinct 12", badgeNumber: "4411" },
    });
    const userId = profile.body.userId as string;
    const boss = api.as(admin);
    const verified = await boss.call("POST", `/v1/admin/users/${userId}/officer-verification`, {
      verified: true,
    });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    assert.equal(verified.body.officer.verified, true);
    const found = await boss.get("/v1/admin/users?search=officer-");
    assert.deepEqual(
      found.body.items.map((u: { username: string }) => u.username),
      ["officer-kim"],
    );
    assert.deepEqual(found.body.items[0].roles, ["customer"]);
    assert.deepEqual(found.body.items[0].officer, { agency: "Precinct 12", verified: true });
    const moved = await me.call("PATCH", "/v1/me/profile", {
      officer: { agency: "Precinct 12", badgeNumber: "4412" },
    });
    assert.equal(moved.body.officer.verified, false);
    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await boss.get(
        `/v1/admin/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      assert.equal(page.status, 200);
      pages.push(...page.body.items.map((u: { username: string }) => u.username));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(
      pages,
      [...pages].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
    );
    assert.ok(pages.includes("admin") && pages.includes("officer-kim"));
    assert.equal(new Set(pages).size, pages.length, "no user twice across pages");
    const none = await boss.call(
      "POST",
      `/v1/admin/users/${admin === "" ? "" : "00000000-0000-4000-8000-000000000000"}/officer-verification`,
      { verified: true },
    );
    assert.equal(none.status, 404);
  });
});
