/**
 * The screener the ledger's screening port is wired to (ledger/screening.ts). It matches each
 * party against the lists in force (in memory), and for determinism under redelivery answers a
 * command it has decided before with that first decision, whatever the lists say now: decisions
 * are written to the screening log before the ledger decides, and read back on every screening.
 *
 * Exact matches block (`fraudulent`). Similar names (the review threshold) are found by the
 * matcher but not yet held: holding needs the review queue, not built yet; they pass as clear.
 */
import type { CommandScreening, ScreeningRequest, ScreeningVerdict } from "../ledger/index.ts";
import { type ListMatch, screenParty } from "./domain/match.ts";
import type { ScreeningIndex } from "./screening-index.ts";

export type ScreeningDecision = "block" | "hold";

export interface ScreeningRecord {
  readonly commandId: string;
  readonly decidedAtMs: number;
  readonly decision: ScreeningDecision;
  readonly commandKind: string;
  readonly partyRole: string;
  readonly partyIban: string;
  readonly partyUserId: string;
  readonly actorId: string;
  readonly counterpartyIban: string;
  readonly amount: bigint;
  readonly asset: string;
  readonly list: string;
  readonly listVersion: number;
  readonly entryKind: string;
  readonly entryValue: string;
  readonly entryDisplay: string;
  readonly score: number;
  readonly explanation: string;
}

export interface ScreeningLog {
  find(commandIds: readonly string[]): Promise<ReadonlyMap<string, ScreeningRecord>>;
  /** Keeps the first record of a command (a second is ignored). */
  record(records: readonly ScreeningRecord[]): Promise<void>;
  latest(limit: number): Promise<readonly ScreeningRecord[]>;
}

export interface ScreenerDeps {
  readonly index: ScreeningIndex;
  readonly log: ScreeningLog;
  readonly reviewThreshold: number;
  readonly nowMs: () => number;
  readonly onDecision?: (record: ScreeningRecord) => void;
}

function recordOf(
  request: ScreeningRequest,
  match: ListMatch,
  decision: ScreeningDecision,
  atMs: number,
): ScreeningRecord {
  return {
    commandId: request.commandId,
    decidedAtMs: atMs,
    decision,
    commandKind: request.kind,
    partyRole: request.partyRole,
    partyIban: request.party.iban,
    partyUserId: request.party.userId,
    actorId: request.actorId,
    counterpartyIban: request.counterpartyIban,
    amount: request.amount,
    asset: request.asset,
    list: match.list,
    listVersion: match.version,
    entryKind: match.kind,
    entryValue: match.value,
    entryDisplay: match.display,
    score: match.score,
    explanation: match.explanation,
  };
}

const blocked: ScreeningVerdict = { decision: "block" };

export function createScreener(deps: ScreenerDeps): CommandScreening {
  return {
    async screen(requests) {
      const verdicts = new Map<string, ScreeningVerdict>();
      if (requests.length === 0) return verdicts;
      const snapshots = deps.index.snapshots();
      const decided = await deps.log.find(requests.map((request) => request.commandId));
      const fresh: ScreeningRecord[] = [];
      const nowMs = deps.nowMs();
      for (const request of requests) {
        const earlier = decided.get(request.commandId);
        if (earlier) {
          if (earlier.decision === "block") verdicts.set(request.commandId, blocked);
          continue;
        }
        const verdict = screenParty(snapshots, request.party, deps.reviewThreshold);
        if (verdict.decision !== "block") continue;
        fresh.push(recordOf(request, verdict.match, verdict.decision, nowMs));
        verdicts.set(request.commandId, blocked);
      }
      await deps.log.record(fresh);
      for (const record of fresh) deps.onDecision?.(record);
      return verdicts;
    },
  };
}
