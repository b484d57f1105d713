/**
 * Officers and citizens for the community browser tests: signed up through the API, granted their
 * role by the admin, then signed in through the UI in a browser context with geolocation granted.
 */
import assert from "node:assert/strict";
import type { BrowserContext, Page } from "playwright-core";
import { adminCredentials, login, signInThroughUi, testPassword, uniqueUsername } from "./browser.ts";

export interface Where {
  readonly latitude: number;
  readonly longitude: number;
  readonly accuracy: number;
}

export async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Signs a user up through the API and has the admin grant them a community role. */
export async function participant(
  base: string,
  prefix: string,
  role: "officer" | "citizen",
): Promise<string> {
  const username = uniqueUsername(prefix);
  await call(base, "POST", "/v1/auth/register", undefined, { username, password: testPassword });
  const admin = adminCredentials();
  const adminToken = await login(base, admin.username, admin.password);
  const found = await call(base, "GET", `/v1/admin/users?search=${username}`, adminToken);
  const id = (found.items as { id: string; username: string }[]).find((u) => u.username === username)?.id;
  assert.ok(id, `the admin finds ${username}`);
  await call(base, "PUT", `/v1/admin/users/${id}/roles/${role}`, adminToken);
  return username;
}

/** A context at `where`, with geolocation granted, signed in (after the grant: the token carries the role). */
export async function signedIn(
  context: BrowserContext,
  base: string,
  username: string,
  where: Where,
): Promise<Page> {
  await context.grantPermissions(["geolocation"], { origin: base });
  await context.setGeolocation(where);
  const page = await context.newPage();
  await signInThroughUi(page, base, username, testPassword);
  await page.getByRole("link", { name: "Community" }).first().click();
  await page.getByRole("heading", { name: "Your points" }).waitFor();
  return page;
}
