/**
 * The screener the ledger's screening port is wired to (ledger/screening.ts). It matches each
 * party against the lists in force (in memory) by IBAN, user id and name (from the party-names
 * port), evaluates the configured rules (domain/rules.ts) on transfers, and writes each block or
 * hold to the screening log in the ledger batch's own transaction: recorded exactly when the
 * batch's outcomes are, so a command has one outcome and one decision under redelivery (see
 * ledger/screening.ts) and a cleared transfer costs no database round trip here. Nothing is read
 * back: the ledger never screens a command it has decided.
 *
 * Exact matches block (`fraudulent`). A similar name (the review threshold) or a rule hit holds the
 * transfer for review: the ledger books it as a pending transfer for `reviewTimeoutMs`, under a
 * review whose id is the command's.
 */
import type {
  CommandScreening,
  ScreeningRequest,
  ScreeningTransaction,
  ScreeningVerdict,
} from "../ledger/index.ts";
import { type ListMatch, screenParty } from "./domain/match.ts";
import {
  evaluateRules,
  factsNeeded,
  type RuleHit,
  type ScreeningOutcome,
  type ScreeningRule,
  screeningOutcome,
} from "./domain/rules.ts";
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
  /** The party's name as screened (from their profile), when known. */
  readonly partyName: string | null;
  readonly actorId: string;
  readonly counterpartyIban: string;
  readonly amount: bigint;
  readonly asset: string;
  /** The list entry matched; all null for a hold on rules alone. */
  readonly list: string | null;
  readonly listVersion: number | null;
  readonly entryKind: string | null;
  readonly entryValue: string | null;
  readonly entryDisplay: string | null;
  readonly score: number | null;
  readonly explanation: string;
  readonly ruleHits: readonly RuleHit[];
}

export interface ScreeningLog {
  find(commandIds: readonly string[]): Promise<ReadonlyMap<string, ScreeningRecord>>;
  /**
   * Records decisions within `within` (the ledger batch's transaction), one per command: a record
   * left by a batch that never committed (written before records moved into the batch) is replaced.
   */
  record(records: readonly ScreeningRecord[], within: ScreeningTransaction): Promise<void>;
  latest(limit: number): Promise<readonly ScreeningRecord[]>;
}

/** Names of users as their profiles give them (the identity context's, wired at the composition root). */
export interface PartyNames {
  /** Names by user id; users without a (named) profile are absent. */
  namesOf(userIds: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

export const noPartyNames: PartyNames = { namesOf: async () => new Map() };

/** What rules need to know, kept by the risk context (never read from the ledger's tables). */
export interface RuleFactsStore {
  /**
   * Records each transfer (idempotent per command) and returns, per command id, the issue times of
   * the sender's other transfers within `windowMs` before it, newest first, at most `limit`.
   */
  senderHistory(
    transfers: readonly { commandId: string; senderIban: string; issuedAtMs: number }[],
    windowMs: number,
    limit: number,
  ): Promise<ReadonlyMap<string, readonly number[]>>;
  /** Which of these sender→receiver pairs have moved money before (keys `sender receiver`). */
  knownPairs(pairs: readonly { senderIban: string; receiverIban: string }[]): Promise<ReadonlySet<string>>;
}

export interface ScreenerDeps {
  readonly index: ScreeningIndex;
  readonly log: ScreeningLog;
  readonly reviewThreshold: number;
  readonly nowMs: () => number;
  /** Told of each block or hold once it is written in the batch (before the batch commits). */
  readonly onDecision?: (record: ScreeningRecord) => void;
  /** Holds for review last this long (risk.reviewTimeoutMs); tools that only block may omit it. */
  readonly reviewTimeoutMs?: number;
  /** Rules and the facts they need; none when absent. */
  readonly rules?: readonly ScreeningRule[];
  readonly facts?: RuleFactsStore;
  /** Names of parties; none (names not screened) when absent. */
  readonly partyNames?: PartyNames;
}

type Screener = Required<Omit<ScreenerDeps, "onDecision">> & Pick<ScreenerDeps, "onDecision">;

const noFacts: RuleFactsStore = { senderHistory: async () => new Map(), knownPairs: async () => new Set() };

export const pairKey = (senderIban: string, receiverIban: string) => `${senderIban} ${receiverIban}`;

function recordOf(
  request: ScreeningRequest,
  outcome: Exclude<ScreeningOutcome, { decision: "clear" }>,
  partyName: string | undefined,
  atMs: number,
): ScreeningRecord {
  const match: ListMatch | undefined =
    outcome.verdict.decision === "clear" ? undefined : outcome.verdict.match;
  return {
    commandId: request.commandId,
    decidedAtMs: atMs,
    decision: outcome.decision,
    commandKind: request.kind,
    partyRole: request.partyRole,
    partyIban: request.party.iban,
    partyUserId: request.party.userId,
    partyName: partyName ?? null,
    actorId: request.actorId,
    counterpartyIban: request.counterpartyIban,
    amount: request.amount,
    asset: request.asset,
    list: match?.list ?? null,
    listVersion: match?.version ?? null,
    entryKind: match?.kind ?? null,
    entryValue: match?.value ?? null,
    entryDisplay: match?.display ?? null,
    score: match?.score ?? null,
    explanation: [match?.explanation, ...outcome.hits.map((hit) => hit.explanation)]
      .filter((part) => part !== undefined)
      .join("; "),
    ruleHits: outcome.hits,
  };
}

/** The facts rules need for this batch's transfers (none without rules). */
async function gatherFacts(deps: Screener, requests: readonly ScreeningRequest[]) {
  const needed = factsNeeded(deps.rules);
  const transfers = requests.filter((request) => request.kind === "transfer");
  const history =
    needed.windowMs > 0 && transfers.length > 0
      ? await deps.facts.senderHistory(
          transfers.map((r) => ({
            commandId: r.commandId,
            senderIban: r.counterpartyIban,
            issuedAtMs: r.issuedAtMs,
          })),
          needed.windowMs,
          needed.transfers,
        )
      : new Map<string, readonly number[]>();
  const pairs =
    needed.pairs && transfers.length > 0
      ? await deps.facts.knownPairs(
          transfers.map((r) => ({ senderIban: r.counterpartyIban, receiverIban: r.party.iban })),
        )
      : new Set<string>();
  return { history, pairs };
}

function verdictOf(deps: Screener, commandId: string, decision: ScreeningDecision): ScreeningVerdict {
  return decision === "block"
    ? { decision: "block" }
    : { decision: "hold", reviewId: commandId, timeoutMs: deps.reviewTimeoutMs };
}

export function createScreener(options: ScreenerDeps): CommandScreening {
  const deps: Screener = {
    reviewTimeoutMs: 86_400_000,
    rules: [],
    facts: noFacts,
    partyNames: noPartyNames,
    ...options,
  };
  return {
    async screen(requests, within) {
      const verdicts = new Map<string, ScreeningVerdict>();
      if (requests.length === 0) return verdicts;
      const snapshots = deps.index.snapshots();
      // Names and rule facts in parallel. No earlier decision is looked up: the ledger screens
      // only commands without an outcome, and a decision commits with its outcome or not at all.
      // Names cost identity a query per batch: asked only while some list in force holds names.
      const screensNames = snapshots.some((snapshot) => snapshot.names.size > 0);
      const [names, facts] = await Promise.all([
        screensNames
          ? deps.partyNames.namesOf([...new Set(requests.map((request) => request.party.userId))])
          : new Map<string, string>(),
        gatherFacts(deps, requests),
      ]);
      const fresh: ScreeningRecord[] = [];
      const nowMs = deps.nowMs();
      for (const request of requests) {
        const name = names.get(request.party.userId);
        const verdict = screenParty(
          snapshots,
          { ...request.party, ...(name ? { name } : {}) },
          deps.reviewThreshold,
        );
        const hits =
          request.kind === "transfer"
            ? evaluateRules(deps.rules, request, {
                senderEarlierIssuedAtMs: facts.history.get(request.commandId) ?? [],
                pairDealtBefore: facts.pairs.has(pairKey(request.counterpartyIban, request.party.iban)),
              })
            : [];
        const outcome = screeningOutcome(verdict, hits);
        if (outcome.decision === "clear") continue;
        fresh.push(recordOf(request, outcome, name, nowMs));
        verdicts.set(request.commandId, verdictOf(deps, request.commandId, outcome.decision));
      }
      await deps.log.record(fresh, within);
      for (const record of fresh) deps.onDecision?.(record);
      return verdicts;
    },
  };
}
