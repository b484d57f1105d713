/**
 * IBANs per ISO 13616: country code, two mod-97 check digits, then the BBAN.
 * Ledgerflow's BBAN is a 4-letter bank code and a 10-digit account number (as Open Bank Mark's
 * `NLkk OPEN 0xxx xxxx xx`), so an IBAN is 18 characters.
 */

const ibanShape = /^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/;

/** ISO 7064 mod 97-10 over the rearranged IBAN with letters as numbers (A=10 … Z=35). */
function mod97(rearranged: string): number {
  let remainder = 0;
  for (const char of rearranged) {
    const code = char.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : char;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder;
}

export function normalizeIban(text: string): string {
  return text.replaceAll(" ", "").toUpperCase();
}

export function isValidIban(text: string): boolean {
  const iban = normalizeIban(text);
  if (!ibanShape.test(iban)) return false;
  return mod97(iban.slice(4) + iban.slice(0, 4)) === 1;
}

export function checkDigits(country: string, bban: string): string {
  const remainder = mod97(`${bban}${country}00`);
  return String(98 - remainder).padStart(2, "0");
}

export interface IbanFormat {
  /** ISO 3166 alpha-2, e.g. "NL". */
  readonly country: string;
  /** Four letters, e.g. "OPEN". */
  readonly bankCode: string;
}

/** Builds the IBAN of account number `serial` (0 ≤ serial < 10^10). */
export function ibanFor(format: IbanFormat, serial: bigint): string {
  const accountNumber = serial.toString().padStart(10, "0");
  const bban = `${format.bankCode}${accountNumber}`;
  return `${format.country}${checkDigits(format.country, bban)}${bban}`;
}

export function formatIbanForHumans(iban: string): string {
  return iban.replace(/(.{4})/g, "$1 ").trim();
}
