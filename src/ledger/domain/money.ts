/** Amounts are integer minor units (bigint). JSON carries them as decimal-integer strings. */

export interface Asset {
  readonly code: string;
  /** Digits after the decimal point of the major unit: EUR 2 → 1 EUR = 100 minor units. */
  readonly scale: number;
}

export const assets: Readonly<Record<string, Asset>> = Object.freeze({
  EUR: { code: "EUR", scale: 2 },
  USD: { code: "USD", scale: 2 },
  GBP: { code: "GBP", scale: 2 },
  PTS: { code: "PTS", scale: 0 },
});

export function isKnownAsset(code: string): boolean {
  return Object.hasOwn(assets, code);
}

/** Largest amount or balance magnitude: PostgreSQL bigint / Avro long (signed 64-bit). */
export const amountMax = 2n ** 63n - 1n;

const decimalInteger = /^(0|[1-9][0-9]{0,18})$/;

/** Parses a positive amount in minor units from its JSON form; undefined when malformed or out of range. */
export function parsePositiveAmount(text: string): bigint | undefined {
  if (!decimalInteger.test(text)) return undefined;
  const value = BigInt(text);
  if (value <= 0n || value > amountMax) return undefined;
  return value;
}

/** Human form with the asset's scale, for descriptions and logs: 12345n EUR → "123.45". */
export function formatAmount(amount: bigint, asset: Asset): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(asset.scale + 1, "0");
  const whole = asset.scale === 0 ? digits : digits.slice(0, -asset.scale);
  const fraction = asset.scale === 0 ? "" : `.${digits.slice(-asset.scale)}`;
  return `${negative ? "-" : ""}${whole}${fraction}`;
}
