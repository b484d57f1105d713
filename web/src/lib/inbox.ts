/**
 * The server's notification inbox (GET /v1/notifications): what the "Activity" feed and the bell
 * show, so they survive signing out and in. New entries arrive over the `notificationAdded`
 * subscription; reading the feed marks them read on the server.
 */
import { request } from "./api.ts";
import { formatIban } from "./iban.ts";
import { formatMoney } from "./money.ts";

export type InboxKind =
  | "sent"
  | "received"
  | "deposit"
  | "withdrawal"
  | "withdrawal_cancelled"
  | "hold_placed"
  | "hold_released";

export interface InboxEntry {
  readonly id: string;
  readonly kind: InboxKind;
  readonly iban: string;
  readonly counterparty: string;
  readonly amount: string;
  readonly asset: string;
  readonly description: string;
  readonly transferId: string;
  readonly commandId: string;
  readonly at: string;
  readonly read: boolean;
}

export interface InboxPage {
  readonly items: readonly InboxEntry[];
  readonly nextCursor: string | null;
  readonly unread: number;
}

export const notificationAddedDocument = `subscription NotificationAdded {
  notificationAdded { id kind iban counterparty amount asset description transferId commandId at read }
}`;

/** The newest page, or undefined when this server keeps no inbox (404). */
export async function loadInbox(limit = 50): Promise<InboxPage | undefined> {
  const response = await request<InboxPage>(`/v1/notifications?limit=${limit}`).catch((error: unknown) => {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  });
  return response?.body;
}

const markReadIdsMax = 100;

export async function markRead(ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += markReadIdsMax) {
    await request("/v1/notifications/read", { body: { ids: ids.slice(i, i + markReadIdsMax) } });
  }
}

type Feed = "received" | "sent" | "info";

/** Title, text and link of an entry, in the wallet's words. */
export function describeEntry(
  entry: InboxEntry,
  receipts: boolean,
): { kind: Feed; title: string; body: string; href: string } {
  const amount = formatMoney(entry.amount, entry.asset);
  const other = entry.counterparty ? formatIban(entry.counterparty) : "the bank";
  const mine = formatIban(entry.iban);
  const note = entry.description ? ` · “${entry.description}”` : "";
  const receipt = receipts ? `/receipts/${encodeURIComponent(entry.commandId)}` : undefined;
  const account = `/accounts/${encodeURIComponent(entry.iban)}`;
  switch (entry.kind) {
    case "sent":
      return { kind: "sent", title: `${amount} sent`, body: `To ${other}${note}.`, href: receipt ?? account };
    case "received":
      return {
        kind: "received",
        title: `${amount} received`,
        body: `From ${other}${note}.`,
        href: receipt ?? account,
      };
    case "deposit":
      return {
        kind: "received",
        title: `${amount} deposited`,
        body: `Into ${mine}${note}.`,
        href: receipt ?? account,
      };
    case "withdrawal":
      return {
        kind: "sent",
        title: `${amount} withdrawn`,
        body: `From ${mine}${note}.`,
        href: receipt ?? account,
      };
    case "withdrawal_cancelled":
      return {
        kind: "info",
        title: `Withdrawal of ${amount} cancelled`,
        body: `The money is available again in ${mine}.`,
        href: account,
      };
    case "hold_placed":
      return {
        kind: "info",
        title: `${amount} on hold`,
        body: `Reserved in ${mine} for ${other}${note}.`,
        href: account,
      };
    case "hold_released":
      return {
        kind: "info",
        title: `Hold of ${amount} released`,
        body: `Available again in ${mine}${note}.`,
        href: account,
      };
  }
}
