import type { ServicesConfig } from "./config.ts";

/** One local engine managed by up/down/status. */
export interface Service {
  readonly name: string;
  /** Idempotent: a running instance is left alone (and reported). Resolves once it answers. */
  start(config: ServicesConfig): Promise<void>;
  /** Stops what the scripts started (pid files); fine when it is already gone. */
  stop(config: ServicesConfig): Promise<void>;
  /** One line: running/stopped, pid, address. */
  status(config: ServicesConfig): Promise<string>;
}
