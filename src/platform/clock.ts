import { randomBytes, randomUUID } from "node:crypto";

/** Time, ids and randomness are injected so a seeded simulation can replay any run. */
export interface Clock {
  nowMs(): number;
}
export interface IdGenerator {
  uuid(): string;
}
export interface Random {
  /** Uniform float in [0, 1). */
  next(): number;
  bytes(length: number): Uint8Array;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
export const systemIds: IdGenerator = { uuid: () => randomUUID() };
export const systemRandom: Random = {
  next: () => Math.random(),
  bytes: (length) => new Uint8Array(randomBytes(length)),
};

/** Deterministic generator (mulberry32) for simulations and property tests. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    bytes: (length) => Uint8Array.from({ length }, () => Math.floor(next() * 256)),
  };
}

export function seededIds(random: Random): IdGenerator {
  return {
    uuid: () => {
      const b = random.bytes(16);
      b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
      b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
      const h = Buffer.from(b).toString("hex");
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    },
  };
}

export function manualClock(startMs = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let now = startMs;
  return {
    nowMs: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}
