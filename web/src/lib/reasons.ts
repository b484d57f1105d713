/** Outcome reason codes from the ledger and payments, said in words a customer understands. */
const reasonWords: Readonly<Record<string, string>> = {
  insufficient_funds: "Not enough money in the account",
  invalid_token: "The account's secret token is wrong",
  same_account: "You can't transfer money to the same account",
  system_account: "That IBAN belongs to one of the bank's own system accounts, which can't receive transfers",
  unknown_account: "That account doesn't exist",
  asset_mismatch: "The two accounts hold different currencies",
  account_closed: "The account is closed",
  amount_too_large: "That amount is too large",
  limit_exceeded: "The amount is over your limit",
  overdraft_limit: "That would go over the account's overdraft limit",
  expired: "The transfer expired before it completed",
  duplicate: "This request was already made",
  conflict: "This request was already made with different details",
  forbidden: "You're not allowed to do that",
  not_found: "That account doesn't exist",
  rate_limited: "Too many attempts. Wait a moment and try again",
  unavailable: "The bank is busy right now. Try again in a moment",
  timeout: "No answer yet. It may still complete; check your history",
  gateway_declined: "The payment provider declined the payment",
  no_gateway_available: "No payment provider is available right now",
};

export function reasonInWords(code: string | undefined, fallback?: string): string {
  if (code !== undefined && Object.hasOwn(reasonWords, code)) return reasonWords[code] as string;
  if (fallback) return fallback;
  if (!code) return "Something went wrong";
  const spaced = code.replaceAll("_", " ");
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}
