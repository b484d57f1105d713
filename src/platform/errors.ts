/**
 * The three failure channels (see README "Design notes"):
 * 1. Business rejections are returned values with a stable `code` (never thrown).
 * 2. Infrastructure failures throw one of the typed errors below; callers retry or surface them.
 * 3. A broken invariant is an `assert` failure: the process crashes without acknowledging work.
 */

export class InfrastructureError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InfrastructureError";
    this.code = code;
  }
}

/** A dependency (database, broker, gateway) did not answer in time or refused the connection. */
export class UnavailableError extends InfrastructureError {
  constructor(what: string, options?: { cause?: unknown }) {
    super("unavailable", `${what} is unavailable`, options);
    this.name = "UnavailableError";
  }
}

/**
 * This process has no capacity left for the work (a bounded queue is full): the client should retry
 * shortly. Unlike UnavailableError no dependency is at fault; HTTP 503 `busy` with Retry-After.
 */
export class BusyError extends InfrastructureError {
  constructor(what: string, options?: { cause?: unknown }) {
    super("busy", `${what} is busy`, options);
    this.name = "BusyError";
  }
}

/** A message could not be decoded or violates its schema: retrying will not help, dead-letter it. */
export class PoisonMessageError extends InfrastructureError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("poison_message", message, options);
    this.name = "PoisonMessageError";
  }
}

export class InvariantViolation extends Error {
  constructor(message: string) {
    super(`invariant violated: ${message}`);
    this.name = "InvariantViolation";
  }
}

/** TigerBeetle-style assertion: a false condition is a bug, never a user error. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}
