/**
 * Points on the ledger: when a connection is established, each participant gets its PTS minted from
 * the programme treasury (a system account, double-entry), following ConnectionEstablished on
 * community.events. Each leg's ledger command id is derived from the connection id, so a redelivered
 * event (or a second process) is answered with the first outcome and never pays twice.
 */
import type pg from "pg";
import type pino from "pino";
import { fingerprintOf, type LedgerApi, type LedgerCommand } from "../ledger/index.ts";
import type { IdGenerator } from "../platform/clock.ts";
import { derivedUuid } from "../platform/derived-uuid.ts";
import { UnavailableError } from "../platform/errors.ts";
import type { ConnectionEstablished } from "./events.ts";

export const pointsAsset = "PTS";
export const treasuryAccountName = "community-treasury";

/** The ledger command id of one participant's points for a connection. */
export const pointsCommandId = (connectionId: string, leg: "officer" | "citizen") =>
  derivedUuid(`community-points:${connectionId}:${leg}`);

const actor = { kind: "operator", actorId: "community-points" } as const;

export interface PointsMinter {
  mint(event: ConnectionEstablished): Promise<void>;
  /** The user's PTS account id, if opened. */
  accountOf(userId: string): Promise<string | undefined>;
}

interface MinterDeps {
  readonly pool: pg.Pool;
  readonly ledger: Pick<LedgerApi, "submit" | "systemAccountIban" | "queries">;
  readonly ids: IdGenerator;
  readonly waitMs: number;
  readonly logger: pino.Logger;
}

/** A decided outcome, or UnavailableError (the consumer retries; the command id keeps it once). */
async function decided(deps: MinterDeps, command: LedgerCommand) {
  const submission = await deps.ledger.submit(command, deps.waitMs);
  if (submission.kind === "decided") return submission.result;
  if (submission.kind === "conflict") throw new Error(`ledger command ${command.commandId}: id conflict`);
  throw new UnavailableError(`ledger outcome of ${command.commandId}`);
}

async function accountIdOf(deps: MinterDeps, userId: string): Promise<string> {
  await deps.pool.query(
    "INSERT INTO community_points_accounts (user_id, account_id) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
    [userId, deps.ids.uuid()],
  );
  const { rows } = await deps.pool.query(
    "SELECT account_id FROM community_points_accounts WHERE user_id = $1",
    [userId],
  );
  return rows[0].account_id as string;
}

/** The participant's PTS account IBAN, opened on first need (the account id is its command id). */
async function pointsIbanOf(deps: MinterDeps, userId: string): Promise<string> {
  const accountId = await accountIdOf(deps, userId);
  const existing = await deps.ledger.queries.accountById(accountId);
  if (existing) return existing.iban;
  const result = await decided(deps, {
    type: "CreateAccount",
    commandId: accountId,
    fingerprint: fingerprintOf({ type: "CreateAccount", owner: userId, asset: pointsAsset }),
    accountId,
    ownerId: userId,
    asset: pointsAsset,
    overdraftLimit: 0n,
    system: false,
    tokenHash: "",
  });
  const iban = result.status === "CONFIRMED" ? result.result.iban : undefined;
  if (!iban) throw new Error(`points account of ${userId}: ${result.reason ?? "not opened"}`);
  return iban;
}

async function mintLeg(
  deps: MinterDeps,
  event: ConnectionEstablished,
  leg: "officer" | "citizen",
  treasury: string,
) {
  const userId = leg === "officer" ? event.officerId : event.citizenId;
  const commandId = pointsCommandId(event.connectionId, leg);
  const result = await decided(deps, {
    type: "TransferMoney",
    commandId,
    fingerprint: fingerprintOf({ type: "CommunityPoints", connection: event.connectionId, leg }),
    kind: "deposit",
    debitIban: treasury,
    creditIban: await pointsIbanOf(deps, userId),
    amount: BigInt(event.pointsEach),
    asset: pointsAsset,
    description: `Hey Blue! ${event.kind === "virtual" ? "virtual " : ""}connection ${event.connectionId}`,
    authorization: actor,
  });
  if (result.status !== "CONFIRMED")
    deps.logger.error({ commandId, reason: result.reason }, "community points not minted");
}

export function createPointsMinter(deps: MinterDeps): PointsMinter {
  return {
    async mint(event) {
      if (!event.rewarded || BigInt(event.pointsEach) <= 0n) return;
      const treasury = await deps.ledger.systemAccountIban(treasuryAccountName, pointsAsset);
      await mintLeg(deps, event, "officer", treasury);
      await mintLeg(deps, event, "citizen", treasury);
    },
    async accountOf(userId) {
      const { rows } = await deps.pool.query(
        "SELECT account_id FROM community_points_accounts WHERE user_id = $1",
        [userId],
      );
      return rows[0]?.account_id;
    },
  };
}
