/**
 * Voids two-phase transfers whose timeout passed, by issuing VoidPendingTransfer commands through
 * the log like any other command (so the handler stays the only writer of ledger state).
 * The command id is derived from the transfer id, so every sweeper in every process issues the
 * same command and the handler applies it once.
 */

import type pg from "pg";
import { derivedUuid } from "../platform/derived-uuid.ts";
import type { CommandGateway } from "./command-gateway.ts";
import type { VoidPendingTransfer } from "./domain/types.ts";

export interface PendingSweeperOptions {
  readonly pool: pg.Pool;
  readonly gateway: CommandGateway;
  readonly nowMs: () => number;
  readonly intervalMs: number;
  readonly batchSizeMax: number;
  readonly onError: (error: unknown) => void;
}

export function expiryCommandId(pendingId: string): string {
  return derivedUuid(`expire:${pendingId}`);
}

export async function sweepExpiredPendingTransfers(options: PendingSweeperOptions): Promise<number> {
  const { rows } = await options.pool.query(
    `SELECT id FROM ledger_transfers WHERE phase = 'pending' AND expires_at_ms <= $1 ORDER BY expires_at_ms LIMIT $2`,
    [options.nowMs(), options.batchSizeMax],
  );
  const commands: VoidPendingTransfer[] = rows.map((row) => ({
    type: "VoidPendingTransfer",
    commandId: expiryCommandId(row.id),
    fingerprint: `expire:${row.id}`,
    pendingId: row.id,
    cause: "expired",
  }));
  await options.gateway.submitMany(commands);
  return commands.length;
}

export function startPendingSweeper(options: PendingSweeperOptions): { stop(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepExpiredPendingTransfers(options)
      .catch(options.onError)
      .finally(() => {
        running = false;
      });
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
