import { InfrastructureError, UnavailableError } from "../errors.ts";

/**
 * Maps a PostgreSQL driver error to the platform's typed infrastructure errors:
 * - lost connection, server shutting down, too many connections → UnavailableError (retry later);
 * - deadlock, serialization failure → InfrastructureError "conflict" (retry now);
 * anything else is returned as is (a bug or bad data, not a passing condition).
 */
export function asInfrastructureError(error: unknown): unknown {
  if (error instanceof InfrastructureError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : "";
  if (code === "40P01" || code === "40001") {
    return new InfrastructureError("conflict", "PostgreSQL aborted the transaction", { cause: error });
  }
  const connectionLost =
    (typeof code === "string" &&
      (code.startsWith("08") ||
        code.startsWith("57P") ||
        code === "53300" ||
        code === "ECONNREFUSED" ||
        code === "ECONNRESET" ||
        code === "ETIMEDOUT" ||
        code === "EPIPE" ||
        code === "ENOTFOUND")) ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/i.test(
      message,
    );
  return connectionLost ? new UnavailableError("PostgreSQL", { cause: error }) : error;
}
