import { ExponentialBackoff, handleType, retry } from "cockatiel";
import { UnavailableError } from "./errors.ts";

/** Start-up waits out a dependency that is briefly unavailable: about a minute, then gives up. */
export const startupRetry = retry(handleType(UnavailableError), {
  maxAttempts: 12,
  backoff: new ExponentialBackoff({ initialDelay: 250, maxDelay: 8_000 }),
});
