/** What a started tokens module offers. */
import type pg from "pg";
import type { ChainKeys } from "./crypto.ts";

export interface RunningTokens {
  readonly keys: ChainKeys;
  readonly pool: pg.Pool;
  /** Seals every waiting receipt now (tests, shutdown). */
  sealAll(): Promise<void>;
  stop(): Promise<void>;
}
