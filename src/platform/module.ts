/**
 * The module contract: how a context plugs into Ledgerflow. Each context folder exports one module
 * from its `index.ts` (its only door). The composition root (`src/app/platform.ts`) assembles the
 * one configuration schema, the migrations and the topology from the modules, builds the platform
 * (database, log, schema registry, clock, metrics), starts every module for the process's role,
 * and mounts the modules' routes only where HTTP is served. docs/architecture.md shows how to add
 * a context.
 */
import type { FastifyInstance } from "fastify";
import type { z } from "zod";
import type { TopicDeclaration } from "./topology.ts";

export const roles = ["api", "handler", "projector", "notifier", "worker", "all"] as const;
export type Role = (typeof roles)[number];

/**
 * What a role runs. Several processes may run any role at once (consumer groups share partitions,
 * relays and sealers take turns by advisory lock, sweepers issue idempotent commands):
 * - `http`: the HTTP/GraphQL/WebSocket edge (routes of every module);
 * - `notifier`: follows outcomes and balance changes, for waiting callers and subscribers;
 * - `commands`: the ledger's command handler (consumer group `ledger-handler`);
 * - `projections`: event-side background work (outbox relays, pending-transfer sweeper);
 * - `processors`: the other contexts' consumers (payment processor, tokenizer).
 */
export interface RoleAbilities {
  readonly http: boolean;
  readonly notifier: boolean;
  readonly commands: boolean;
  readonly projections: boolean;
  readonly processors: boolean;
}

export const roleAbilities: Readonly<Record<Role, RoleAbilities>> = {
  // API processes also run the processors (as before modules): a deployment of api + handler
  // processes moves payments and issues receipts; `worker` processes add capacity without HTTP.
  api: { http: true, notifier: true, commands: false, projections: false, processors: true },
  handler: { http: false, notifier: false, commands: true, projections: true, processors: false },
  projector: { http: false, notifier: false, commands: false, projections: true, processors: false },
  notifier: { http: false, notifier: true, commands: false, projections: false, processors: false },
  worker: { http: false, notifier: true, commands: false, projections: true, processors: true },
  all: { http: true, notifier: true, commands: true, projections: true, processors: true },
};

/** A route plugin for the HTTP edge (REST, or GraphQL over HTTP and WebSocket). */
export type RoutePlugin = (app: FastifyInstance) => Promise<void>;

/**
 * A module's part of the one configuration schema: top-level sections (each a zod object whose
 * fields all have defaults or are optional) and the `LEDGERFLOW_*` variables that map onto them.
 */
export interface ConfigSection {
  readonly sections: Readonly<Record<string, z.ZodObject>>;
  /** `LEDGERFLOW_NAME` → [section, field]. */
  readonly env: Readonly<Record<string, readonly [string, string]>>;
}

/** What a started module hands back. */
export interface StartedModule<Published> {
  /** What other modules and edges may use (the module's published interface). */
  readonly published: Published;
  /** Routes for the edge; mounted only in processes that serve HTTP. */
  readonly routes: readonly RoutePlugin[];
  /** Names of the components running in this process (logged at start; role tests read them). */
  readonly running: readonly string[];
  stop(): Promise<void>;
}

/** What every module's `start` gets besides its own narrow dependencies. */
export interface ModuleRun {
  readonly role: Role;
  readonly abilities: RoleAbilities;
  /** A broken invariant: log, stop without acknowledging, exit for a supervisor to restart. */
  crash(error: unknown): void;
}

export interface LedgerflowModule<Deps, Published> {
  readonly name: string;
  readonly config?: ConfigSection;
  /** Directories of `NNNN_name.sql` files; names are unique across modules and applied in order. */
  readonly migrations: readonly string[];
  /** The topics this module owns (declared once; the topology is their union). */
  readonly topics: Readonly<Record<string, TopicDeclaration>>;
  start(deps: Deps, run: ModuleRun): Promise<StartedModule<Published>>;
}

/** Runs `stops` in reverse order, each once, logging (not throwing) failures. */
export function stopper(onError: (error: unknown) => void) {
  const stops: (() => Promise<unknown> | unknown)[] = [];
  return {
    add(step: () => Promise<unknown> | unknown) {
      stops.push(step);
    },
    async stop() {
      for (const step of stops.splice(0).reverse()) await Promise.resolve().then(step).catch(onError);
    },
  };
}
