/**
 * App-wide state for a signed-in user: accounts with live balances, the live connection, the
 * notifications feed, and which optional features the server offers. Balances change only from
 * the server: the initial GET and then `balanceChanged` pushes (no polling).
 */
import type { Client } from "graphql-ws";
import {
  createContext,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { get } from "./lib/api.ts";
import { detectFeatures, type Features, noFeatures } from "./lib/features.ts";
import {
  type BalanceChange,
  createLiveClient,
  discoverDocuments,
  type LinkState,
  type LiveDocuments,
  normalizeBalanceChange,
  subscribeField,
} from "./lib/graphql.ts";
import { formatIban } from "./lib/iban.ts";
import {
  describeEntry,
  type InboxEntry,
  loadInbox,
  markRead,
  notificationAddedDocument,
} from "./lib/inbox.ts";
import { formatMoney, isNegative } from "./lib/money.ts";
import { getSession, isAdmin, type Session, subscribeSession } from "./lib/session.ts";
import { type Account, itemsOf } from "./lib/types.ts";

export interface AppNotification {
  readonly id: string;
  readonly kind: "received" | "sent" | "confirmed" | "failed" | "info";
  readonly title: string;
  readonly body: string;
  readonly atMs: number;
  readonly href?: string;
  /** The server inbox entry this shows (absent for notices of this page only). */
  readonly serverId?: string;
  readonly read?: boolean;
  /** The inbox entry itself: its link depends on features learnt later (receipts). */
  readonly entry?: InboxEntry;
}

interface AppState {
  readonly session: Session | undefined;
  readonly accounts: readonly Account[];
  readonly accountsLoaded: boolean;
  readonly accountsError: string | undefined;
  readonly refreshAccounts: () => Promise<void>;
  readonly link: LinkState;
  /** The live connection, once the subscription schema is known. */
  readonly live: Live | undefined;
  readonly notifications: readonly AppNotification[];
  readonly unread: number;
  readonly markAllRead: () => void;
  readonly notify: (notification: Omit<AppNotification, "id" | "atMs">) => void;
  /** Called for every balance change (history pages refresh from it). */
  readonly onBalanceChange: (listener: (change: BalanceChange) => void) => () => void;
  readonly features: Features;
}

export interface Live {
  readonly client: Client;
  readonly documents: LiveDocuments;
}

const AppContext = createContext<AppState | undefined>(undefined);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error("useApp outside AppProvider");
  return state;
}

export function useSession(): Session | undefined {
  return useSyncExternalStore(subscribeSession, getSession);
}

let notificationSeq = 0;
const notificationsMax = 100;

/** Notifications live as long as the session (sessionStorage), per user, so a reload keeps them. */
function notificationsKey(username: string): string {
  return `ledgerflow.notifications.${username}`;
}

function loadNotifications(username: string | undefined): AppNotification[] {
  if (!username) return [];
  try {
    const stored: unknown = JSON.parse(sessionStorage.getItem(notificationsKey(username)) ?? "[]");
    return Array.isArray(stored) ? (stored as AppNotification[]).slice(0, notificationsMax) : [];
  } catch {
    return [];
  }
}

function saveNotifications(username: string, notifications: readonly AppNotification[]): void {
  try {
    sessionStorage.setItem(notificationsKey(username), JSON.stringify(notifications));
  } catch {
    // Storage full or disabled: notifications still work for this page.
  }
}

/**
 * The one notification of a movement (the transfer page adds none of its own when it confirms):
 * it opens the movement's receipt when the server keeps receipts, else the account.
 */
function describeChange(
  change: BalanceChange,
  asset: string,
  receipts: boolean,
): Omit<AppNotification, "id" | "atMs"> {
  const outgoing = isNegative(change.change);
  const amount = formatMoney(change.change.replace(/^-/, ""), asset);
  const who = change.counterparty ? formatIban(change.counterparty) : "the bank";
  const note = change.description ? ` · “${change.description}”` : "";
  return {
    kind: outgoing ? "sent" : "received",
    title: outgoing ? `${amount} sent` : `${amount} received`,
    body: `${outgoing ? "To" : "From"} ${who}${note}. Balance ${formatMoney(change.balance, asset)}.`,
    href:
      receipts && change.commandId
        ? `/receipts/${encodeURIComponent(change.commandId)}`
        : `/accounts/${encodeURIComponent(change.iban)}`,
  };
}

function fromInbox(entry: InboxEntry, receipts: boolean): AppNotification {
  return {
    ...describeEntry(entry, receipts),
    id: `inbox-${entry.id}`,
    serverId: entry.id,
    entry,
    read: entry.read,
    atMs: Date.parse(entry.at),
  };
}

/** `incoming` before `current`, without the entries already shown. */
function merged(
  incoming: readonly AppNotification[],
  current: readonly AppNotification[],
): AppNotification[] {
  const known = new Set(current.map((n) => n.id));
  return [...incoming.filter((n) => !known.has(n.id)), ...current].slice(0, notificationsMax);
}

export function AppProvider(props: { children: ReactNode }) {
  const session = useSession();
  const token = session?.token;
  const [accounts, setAccounts] = useState<readonly Account[]>([]);
  const [accountsLoaded, setAccountsLoaded] = useState(false);
  const [accountsError, setAccountsError] = useState<string>();
  const [link, setLink] = useState<LinkState>("connecting");
  const [live, setLive] = useState<Live>();
  const [notifications, setNotifications] = useState<readonly AppNotification[]>([]);
  const [unread, setUnread] = useState(0);
  const [features, setFeatures] = useState<Features>(noFeatures);
  const changeListeners = useRef(new Set<(change: BalanceChange) => void>());
  const accountsRef = useRef<readonly Account[]>([]);
  accountsRef.current = accounts;
  const receiptsRef = useRef(false);
  receiptsRef.current = features.tokens;
  /** Whether the server keeps an inbox; without one, notifications are made here from balance pushes. */
  const [inbox, setInbox] = useState(false);
  const inboxRef = useRef(false);
  inboxRef.current = inbox;
  const notificationsRef = useRef(notifications);
  notificationsRef.current = notifications;

  const notify = useCallback((notification: Omit<AppNotification, "id" | "atMs">) => {
    notificationSeq += 1;
    const entry = { ...notification, id: `n${Date.now()}-${notificationSeq}`, atMs: Date.now() };
    setNotifications((previous) => [entry, ...previous].slice(0, notificationsMax));
    setUnread((count) => count + 1);
  }, []);

  const refreshAccounts = useCallback(async () => {
    if (!getSession()) return;
    try {
      const body = await get<unknown>("/v1/accounts");
      setAccounts(itemsOf<Account>(body));
      setAccountsError(undefined);
    } catch (error) {
      setAccountsError(error instanceof Error ? error.message : "Could not load accounts");
    } finally {
      setAccountsLoaded(true);
    }
  }, []);

  // A new session: reset per-user state, connect the live link, load accounts and features.
  useEffect(() => {
    setAccounts([]);
    setAccountsLoaded(false);
    setNotifications([]);
    setUnread(0);
    setInbox(false);
    setFeatures(noFeatures);
    setLive(undefined);
    if (!token) return;
    let cancelled = false;
    void loadInbox()
      .then((page) => {
        if (cancelled) return;
        if (!page) {
          setNotifications(loadNotifications(getSession()?.username));
          return;
        }
        setInbox(true);
        const entries = page.items.map((entry) => fromInbox(entry, receiptsRef.current));
        setNotifications((previous) => merged(previous, entries));
        setUnread(page.unread);
      })
      .catch(() => {});
    const client = createLiveClient(token, setLink);
    void discoverDocuments(client).then((documents) => {
      if (!cancelled) setLive({ client, documents });
    });
    void refreshAccounts();
    void detectFeatures(isAdmin(getSession())).then((found) => {
      if (!cancelled) setFeatures(found);
    });
    return () => {
      cancelled = true;
      void client.dispose();
    };
  }, [token, refreshAccounts]);

  // One balanceChanged subscription per account; balances and notifications follow the pushes.
  const ibanKey = accounts.map((account) => account.iban).join(",");
  useEffect(() => {
    if (!live || ibanKey === "") return;
    const stops = ibanKey.split(",").map((iban) =>
      subscribeField<Record<string, unknown>>(
        live.client,
        live.documents.balanceChanged,
        { iban },
        "balanceChanged",
        (raw) => {
          const change = normalizeBalanceChange(raw);
          const account = accountsRef.current.find((candidate) => candidate.iban === change.iban);
          setAccounts((previous) =>
            previous.map((candidate) =>
              candidate.iban === change.iban ? { ...candidate, balance: change.balance } : candidate,
            ),
          );
          if (!inboxRef.current) notify(describeChange(change, account?.asset ?? "", receiptsRef.current));
          for (const listener of changeListeners.current) listener(change);
        },
      ),
    );
    return () => {
      for (const stop of stops) stop();
    };
  }, [live, ibanKey, notify]);

  // The inbox's new entries, pushed as they are stored.
  useEffect(() => {
    if (!live || !inbox) return;
    return subscribeField<InboxEntry>(
      live.client,
      notificationAddedDocument,
      {},
      "notificationAdded",
      (entry) => {
        const notification = fromInbox(entry, receiptsRef.current);
        if (notificationsRef.current.some((n) => n.id === notification.id)) return;
        setUnread((count) => count + 1);
        setNotifications((previous) => merged([notification], previous));
      },
    );
  }, [live, inbox]);

  const username = session?.username;
  useEffect(() => {
    if (username && !inbox) saveNotifications(username, notifications);
  }, [username, notifications, inbox]);

  const onBalanceChange = useCallback((listener: (change: BalanceChange) => void) => {
    changeListeners.current.add(listener);
    return () => {
      changeListeners.current.delete(listener);
    };
  }, []);

  const markAllRead = useCallback(() => {
    setUnread(0);
    const ids = notificationsRef.current.flatMap((n) => (n.serverId && !n.read ? [n.serverId] : []));
    if (ids.length === 0) return;
    setNotifications((previous) => previous.map((n) => (n.serverId && !n.read ? { ...n, read: true } : n)));
    void markRead(ids).catch(() => {});
  }, []);

  // Inbox entries link to their receipt once the server is known to keep receipts.
  const receipts = features.tokens;
  const shown = useMemo(
    () => notifications.map((n) => (n.entry ? { ...n, href: describeEntry(n.entry, receipts).href } : n)),
    [notifications, receipts],
  );

  const value = useMemo<AppState>(
    () => ({
      session,
      accounts,
      accountsLoaded,
      accountsError,
      refreshAccounts,
      link,
      live,
      notifications: shown,
      unread,
      markAllRead,
      notify,
      onBalanceChange,
      features,
    }),
    [
      session,
      accounts,
      accountsLoaded,
      accountsError,
      refreshAccounts,
      link,
      live,
      shown,
      unread,
      markAllRead,
      notify,
      onBalanceChange,
      features,
    ],
  );
  return <AppContext.Provider value={value}>{props.children}</AppContext.Provider>;
}
