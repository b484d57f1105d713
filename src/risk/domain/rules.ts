/**
 * Screening rules beyond lists, declared in configuration (risk.rules) and evaluated by a pure
 * decider: no I/O, no clock. The facts a rule needs (how many transfers the sender asked for in the
 * window before this one, whether the pair has dealt before) are gathered by the screener from the
 * risk context's own records and passed in, so the same facts give the same hits on every delivery.
 *
 * Rules apply to transfers between customers only: a cash deposit or withdrawal has the branch's
 * cash account as its counterparty, so "first-time counterparty" and per-account velocity say
 * nothing there (cash operations are screened against the lists only).
 */
import type { PartyVerdict } from "./match.ts";

export interface VelocityRule {
  readonly kind: "velocity";
  /** Held when the sender asked for more than this many transfers within `windowMs` (this one included). */
  readonly transfersMax: number;
  readonly windowMs: number;
}

export interface FirstCounterpartyRule {
  readonly kind: "first_counterparty_amount";
  /** Per asset, in minor units: held when a transfer to a first-time counterparty is above it. */
  readonly amountsOver: Readonly<Record<string, bigint>>;
}

export type ScreeningRule = VelocityRule | FirstCounterpartyRule;

/** What the rules see of one transfer. */
export interface RuleSubject {
  readonly amount: bigint;
  readonly asset: string;
  /** When the command was accepted (the same on every delivery). */
  readonly issuedAtMs: number;
}

export interface RuleFacts {
  /**
   * When the sender's earlier transfers were asked for, newest first: at least the latest
   * `factsNeeded(rules).transfers` within the longest window before this one (more do no harm).
   */
  readonly senderEarlierIssuedAtMs: readonly number[];
  /** Whether money has moved from the sender to this receiver before (a confirmed transfer). */
  readonly pairDealtBefore: boolean;
}

export interface RuleHit {
  readonly rule: ScreeningRule["kind"];
  /** Why, for the reviewer: the numbers compared. */
  readonly explanation: string;
}

/** The rules `subject` hits, in configuration order. */
export function evaluateRules(
  rules: readonly ScreeningRule[],
  subject: RuleSubject,
  facts: RuleFacts,
): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const rule of rules) {
    const hit =
      rule.kind === "velocity"
        ? velocityHit(rule, subject, facts)
        : firstCounterpartyHit(rule, subject, facts);
    if (hit) hits.push(hit);
  }
  return hits;
}

function velocityHit(rule: VelocityRule, subject: RuleSubject, facts: RuleFacts): RuleHit | undefined {
  const since = subject.issuedAtMs - rule.windowMs;
  const earlier = facts.senderEarlierIssuedAtMs.filter((atMs) => atMs > since && atMs <= subject.issuedAtMs);
  const count = earlier.length + 1;
  if (count <= rule.transfersMax) return undefined;
  return {
    rule: "velocity",
    explanation: `${count} transfers from the sender within ${rule.windowMs} ms (more than ${rule.transfersMax})`,
  };
}

function firstCounterpartyHit(
  rule: FirstCounterpartyRule,
  subject: RuleSubject,
  facts: RuleFacts,
): RuleHit | undefined {
  const over = rule.amountsOver[subject.asset];
  if (over === undefined || facts.pairDealtBefore || subject.amount <= over) return undefined;
  return {
    rule: "first_counterparty_amount",
    explanation: `${subject.amount} ${subject.asset} (minor units) to a first-time counterparty, above ${over}`,
  };
}

/** Which facts the rules need: how far back and how many of the sender's transfers, and pairs. */
export function factsNeeded(rules: readonly ScreeningRule[]): {
  readonly windowMs: number;
  readonly transfers: number;
  readonly pairs: boolean;
} {
  const velocity = rules.filter((rule) => rule.kind === "velocity");
  return {
    windowMs: Math.max(0, ...velocity.map((rule) => rule.windowMs)),
    transfers: Math.max(0, ...velocity.map((rule) => rule.transfersMax)),
    pairs: rules.some((rule) => rule.kind === "first_counterparty_amount"),
  };
}

export type ScreeningOutcome =
  | { readonly decision: "clear" }
  | { readonly decision: "block"; readonly verdict: PartyVerdict; readonly hits: readonly RuleHit[] }
  | { readonly decision: "hold"; readonly verdict: PartyVerdict; readonly hits: readonly RuleHit[] };

/** An exact list match blocks; a similar name or any rule hit holds for review; else clear. */
export function screeningOutcome(verdict: PartyVerdict, hits: readonly RuleHit[]): ScreeningOutcome {
  if (verdict.decision === "block") return { decision: "block", verdict, hits };
  if (verdict.decision === "hold" || hits.length > 0) return { decision: "hold", verdict, hits };
  return { decision: "clear" };
}
