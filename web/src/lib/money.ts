/**
 * Money in the browser: amounts travel as decimal-integer strings of minor units and are handled
 * with BigInt only, so no value is ever rounded through a float.
 */

export interface AssetInfo {
  readonly code: string;
  /** Digits after the decimal point: EUR 2 → 1 EUR = 100 minor units. */
  readonly scale: number;
  readonly symbol: string;
  readonly name: string;
}

/** Mirrors src/ledger/domain/money.ts; an unknown asset is shown with scale 0 and its code. */
export const knownAssets: readonly AssetInfo[] = [
  { code: "EUR", scale: 2, symbol: "€", name: "Euro" },
  { code: "USD", scale: 2, symbol: "$", name: "US dollar" },
  { code: "GBP", scale: 2, symbol: "£", name: "Pound sterling" },
  { code: "PTS", scale: 0, symbol: "", name: "Points" },
];

export function assetInfo(code: string): AssetInfo {
  return knownAssets.find((asset) => asset.code === code) ?? { code, scale: 0, symbol: "", name: code };
}

const signedInteger = /^-?[0-9]+$/;
/** Signed 64-bit, as the ledger stores it. */
const amountMax = 2n ** 63n - 1n;

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** "123456" EUR → "1,234.56"; "-5" EUR → "-0.05". Invalid input is shown as-is rather than guessed. */
export function formatMinor(
  minor: string | bigint,
  scale: number,
  options: { sign?: "auto" | "always" } = {},
): string {
  const text = typeof minor === "bigint" ? minor.toString() : minor.trim();
  if (!signedInteger.test(text)) return text;
  const value = BigInt(text);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, "0");
  const whole = scale === 0 ? digits : digits.slice(0, -scale);
  const fraction = scale === 0 ? "" : `.${digits.slice(-scale)}`;
  const sign = negative ? "−" : options.sign === "always" && value > 0n ? "+" : "";
  return `${sign}${groupThousands(whole)}${fraction}`;
}

/** Amount with its currency: "€1,234.56", "−$3.00", "1,200 PTS". */
export function formatMoney(
  minor: string | bigint,
  assetCode: string,
  options: { sign?: "auto" | "always" } = {},
): string {
  const asset = assetInfo(assetCode);
  const formatted = formatMinor(minor, asset.scale, options);
  if (asset.symbol === "") return `${formatted} ${asset.code}`;
  const signMatch = /^[−+]/.exec(formatted);
  const sign = signMatch ? signMatch[0] : "";
  return `${sign}${asset.symbol}${formatted.slice(sign.length)}`;
}

export type ParsedAmount =
  | { readonly ok: true; readonly minor: string }
  | { readonly ok: false; readonly error: string };

/**
 * Parses what a person typed ("12.34", "12,34", "1,234.50", "1 000") into minor units, exactly.
 * With both separators present the last one is the decimal point; a lone comma is a decimal comma.
 */
export function parseAmountInput(input: string, scale: number): ParsedAmount {
  const compact = input.replace(/[\s_\u00a0']/g, "");
  if (compact === "") return { ok: false, error: "Enter an amount" };
  if (compact.startsWith("-")) return { ok: false, error: "The amount must be positive" };
  const lastDot = compact.lastIndexOf(".");
  const lastComma = compact.lastIndexOf(",");
  const decimalAt = Math.max(lastDot, lastComma);
  const wholeWritten = decimalAt === -1 ? compact : compact.slice(0, decimalAt);
  // Thousands separators are accepted only where they group three digits: "1.2.3" is a typo.
  if (/[.,]/.test(wholeWritten) && !/^[0-9]{1,3}([.,][0-9]{3})+$/.test(wholeWritten)) {
    return { ok: false, error: "Use digits and at most one decimal point" };
  }
  const whole = wholeWritten.replace(/[.,]/g, "");
  const fraction = decimalAt === -1 ? "" : compact.slice(decimalAt + 1);
  if (!/^[0-9]*$/.test(whole) || !/^[0-9]*$/.test(fraction) || whole + fraction === "") {
    return { ok: false, error: "Use digits and at most one decimal point" };
  }
  if (fraction.length > scale) {
    return { ok: false, error: scale === 0 ? "Whole numbers only" : `At most ${scale} decimals` };
  }
  const minor = BigInt((whole === "" ? "0" : whole) + fraction.padEnd(scale, "0"));
  if (minor <= 0n) return { ok: false, error: "The amount must be more than zero" };
  if (minor > amountMax) return { ok: false, error: "That amount is too large" };
  return { ok: true, minor: minor.toString() };
}

export function isNegative(minor: string): boolean {
  return minor.trim().startsWith("-");
}

/** Adds two minor-unit strings (for optimistic and live balance updates). */
export function addMinor(a: string, b: string): string {
  if (!signedInteger.test(a) || !signedInteger.test(b)) return a;
  return (BigInt(a) + BigInt(b)).toString();
}
