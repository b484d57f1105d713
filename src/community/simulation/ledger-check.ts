/**
 * After a run: do the participants hold their points on the ledger? Reads a sample of them back over
 * HTTP (GET /v1/accounts as each participant: the PTS account's balance), waiting a bounded time for
 * minting, which follows the connection through the log. A reused user holds earlier runs' points
 * too, so "paid" means at least what this run earned.
 */
import type { Clock } from "../../platform/clock.ts";
import type { JsonClient } from "../../tools/load/http.ts";
import { type SimUser, signInAs } from "./participants.ts";

const sampleMax = 10;
const waitMaxMs = 20_000;
const pollIntervalMs = 250;

async function ptsBalance(client: JsonClient, accessToken: string): Promise<bigint> {
  const answer = await client.request("GET", "/v1/accounts", undefined, {
    authorization: `Bearer ${accessToken}`,
  });
  const items = (answer.body as { items?: { asset: string; balance: string }[] } | undefined)?.items ?? [];
  return items.filter((a) => a.asset === "PTS").reduce((sum, a) => sum + BigInt(a.balance), 0n);
}

export async function checkLedger(
  client: JsonClient,
  earned: ReadonlyMap<string, bigint>,
  users: readonly SimUser[],
  password: string,
  clock: Clock,
): Promise<{ checked: number; paid: number; waitedMs: number }> {
  const byId = new Map(users.map((u) => [u.id, u]));
  const sample = [...earned].filter(([, points]) => points > 0n).slice(0, sampleMax);
  const tokens = new Map<string, string>();
  for (const [id] of sample) {
    const user = byId.get(id);
    if (user) tokens.set(id, await signInAs(client, user.username, password));
  }
  const startMs = clock.nowMs();
  const unpaid = new Set(tokens.keys());
  while (unpaid.size > 0 && clock.nowMs() - startMs < waitMaxMs) {
    for (const id of [...unpaid])
      if ((await ptsBalance(client, tokens.get(id) as string)) >= (earned.get(id) ?? 0n)) unpaid.delete(id);
    if (unpaid.size > 0) await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
  return {
    checked: tokens.size,
    paid: tokens.size - unpaid.size,
    waitedMs: Math.round(clock.nowMs() - startMs),
  };
}
