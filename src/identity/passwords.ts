import { randomBytes } from "node:crypto";
import { hash as argon2Hash, verify as argon2Verify, type Options } from "@node-rs/argon2";

/**
 * Password hashing with argon2id (RFC 9106) via @node-rs/argon2 (Rust, prebuilt N-API; runs on the
 * libuv thread pool, so hashing never blocks the event loop).
 *
 * Parameters (OWASP Password Storage Cheat Sheet, first argon2id option):
 * - memory 19 MiB: large enough that GPU/ASIC attackers pay per guess in memory, small enough that
 *   the libuv pool (4 threads by default) hashing at once stays under 80 MiB.
 * - 2 passes: OWASP pairs t=2 with m=19 MiB. Measured p50 ≈ 6 ms per hash and ≈ 110 hashes/s
 *   per 2-CPU node (`node src/identity/bench.ts`): cheap for one login, and the rate limiter keeps
 *   online guessing far below that. These are a floor; raise them when hardware allows.
 * - 1 lane: parallelism inside one hash would only take threads from concurrent logins.
 * - 16-byte salt from the OS CSPRNG (the library's own; deliberately not the injected `Random`,
 *   which may be a seeded PRNG in simulations), 32-byte output.
 * The PHC string stores its parameters, so raising them later keeps old hashes verifiable.
 */
export interface Argon2Params {
  readonly memoryCostKiB: number;
  readonly timeCost: number;
  readonly parallelism: number;
  readonly outputLenBytes: number;
}

export const owaspArgon2Params: Argon2Params = {
  memoryCostKiB: 19_456,
  timeCost: 2,
  parallelism: 1,
  outputLenBytes: 32,
};

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Constant-time comparison (the Rust `argon2` crate compares digests with `subtle`). With no stored
   * hash (unknown user) it verifies against a dummy hash made with the same parameters and returns
   * false, so "no such user" costs as much time as "wrong password".
   */
  verify(storedHash: string | undefined, password: string): Promise<boolean>;
}

// `Algorithm` is a const enum in the typings, which type stripping cannot inline; 2 is Argon2id.
const argon2id = 2;

export function createArgon2Hasher(params: Argon2Params = owaspArgon2Params): PasswordHasher {
  const options: Options = {
    algorithm: argon2id,
    memoryCost: params.memoryCostKiB,
    timeCost: params.timeCost,
    parallelism: params.parallelism,
    outputLen: params.outputLenBytes,
  };
  const hash = (password: string): Promise<string> => argon2Hash(normalize(password), options);
  // Made once, eagerly, so that the first unknown-user login is not slower than later ones.
  const dummyHash = hash(randomBytes(32).toString("base64url"));
  dummyHash.catch(() => {}); // surfaced by the verify that awaits it
  return {
    hash,
    async verify(storedHash, password) {
      if (storedHash === undefined) {
        await argon2Verify(await dummyHash, normalize(password));
        return false;
      }
      return argon2Verify(storedHash, normalize(password));
    },
  };
}

/**
 * NFKC, as NIST SP 800-63B §5.1.1.2 suggests, so that the same password typed on keyboards that
 * produce different Unicode forms (composed é vs e + U+0301) still matches.
 */
function normalize(password: string): string {
  return password.normalize("NFKC");
}
