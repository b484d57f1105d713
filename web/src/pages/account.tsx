import { useCallback, useEffect, useRef, useState } from "react";
import { LiveBalance } from "../components/balance.tsx";
import { Alert, Spinner } from "../components/form.tsx";
import { Icon } from "../components/icons.tsx";
import { ApiError, errorMessage, get } from "../lib/api.ts";
import { formatIban } from "../lib/iban.ts";
import { assetInfo, formatMoney, isNegative } from "../lib/money.ts";
import { Link } from "../lib/router.tsx";
import { itemsOf, type Page, type Transaction } from "../lib/types.ts";
import { useApp } from "../state.tsx";

const pageSize = 25;

function dayLabel(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const today = new Date();
  const yesterday = new Date(today.getTime() - 86_400_000);
  if (date.toDateString() === today.toDateString()) return "Today";
  if (date.toDateString() === yesterday.toDateString()) return "Yesterday";
  return date.toLocaleDateString([], { weekday: "short", day: "numeric", month: "long", year: "numeric" });
}

function timeLabel(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? ""
    : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function mergeById(first: readonly Transaction[], rest: readonly Transaction[]): Transaction[] {
  const seen = new Set(first.map((item) => item.id));
  return [...first, ...rest.filter((item) => !seen.has(item.id))];
}

function historyUrl(iban: string, cursor: string | undefined): string {
  const params = new URLSearchParams({ limit: String(pageSize) });
  if (cursor) params.set("cursor", cursor);
  return `/v1/accounts/${encodeURIComponent(iban)}/transactions?${params}`;
}

/** Pages through history as the end of the list scrolls into view; live changes refresh the top. */
function useHistory(iban: string) {
  const { onBalanceChange } = useApp();
  const [items, setItems] = useState<Transaction[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const busy = useRef(false);

  const loadMore = useCallback(async () => {
    if (busy.current || done) return;
    busy.current = true;
    setLoading(true);
    try {
      const page = await get<Page<Transaction>>(historyUrl(iban, cursor));
      setItems((previous) => mergeById(previous, itemsOf<Transaction>(page)));
      setCursor(page.nextCursor ?? undefined);
      setDone(!page.nextCursor);
      setError(undefined);
    } catch (caught) {
      setError(errorMessage(caught));
      setDone(true);
    } finally {
      busy.current = false;
      setLoading(false);
    }
  }, [iban, cursor, done]);

  useEffect(
    () =>
      onBalanceChange((change) => {
        if (change.iban !== iban) return;
        void get<Page<Transaction>>(historyUrl(iban, undefined)).then(
          (page) => setItems((previous) => mergeById(itemsOf<Transaction>(page), previous)),
          () => {},
        );
      }),
    [iban, onBalanceChange],
  );

  return { items, done, loading, error, loadMore };
}

function History(props: { iban: string; asset: string; receipts: boolean }) {
  const { items, done, loading, error, loadMore } = useHistory(props.iban);
  const sentinel = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = sentinel.current;
    if (!element || done) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) void loadMore();
      },
      { rootMargin: "400px" },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [loadMore, done]);

  const groups: { day: string; items: Transaction[] }[] = [];
  for (const item of items) {
    const day = dayLabel(item.at);
    const last = groups.at(-1);
    if (last && last.day === day) last.items.push(item);
    else groups.push({ day, items: [item] });
  }

  return (
    <section className="card history" aria-labelledby="history-heading">
      <h2 id="history-heading">Transactions</h2>
      {error && <Alert kind="error">Couldn't load transactions: {error}</Alert>}
      {done && items.length === 0 && !error && (
        <div className="empty">
          <Icon name="list" size={28} />
          <p>No transactions yet.</p>
          <p className="muted">Share your IBAN to receive money.</p>
        </div>
      )}
      {groups.map((group) => (
        <div key={group.day} className="history-group">
          <h3 className="history-day">{group.day}</h3>
          <ul className="transactions" data-testid="transactions">
            {group.items.map((item) => {
              const outgoing = isNegative(item.amount);
              const content = (
                <>
                  <span className={`bubble ${outgoing ? "kind-sent" : "kind-received"}`} aria-hidden="true">
                    <Icon name={outgoing ? "arrowUp" : "arrowDown"} size={18} />
                  </span>
                  <span className="transaction-text">
                    <strong>{item.description || (outgoing ? "Transfer sent" : "Transfer received")}</strong>
                    <span className="muted small">
                      {timeLabel(item.at)}
                      {item.counterparty
                        ? ` · ${outgoing ? "To" : "From"} ${formatIban(item.counterparty)}`
                        : ""}
                    </span>
                  </span>
                  <span className="transaction-amounts">
                    <span className={`amount ${outgoing ? "negative" : "positive"}`}>
                      {formatMoney(item.amount, item.asset ?? props.asset, { sign: "always" })}
                    </span>
                    {item.balanceAfter != null && (
                      <span className="muted small">
                        Balance {formatMoney(item.balanceAfter, item.asset ?? props.asset)}
                      </span>
                    )}
                  </span>
                </>
              );
              return (
                <li key={item.id} data-transaction-id={item.id}>
                  {props.receipts && item.receiptId ? (
                    <Link
                      href={`/receipts/${encodeURIComponent(item.receiptId)}`}
                      className="transaction transaction-link"
                    >
                      {content}
                      <span className="visually-hidden">Open its receipt</span>
                    </Link>
                  ) : (
                    <div className="transaction">{content}</div>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      ))}
      <div ref={sentinel} className="sentinel" aria-hidden="true" />
      {loading && <Spinner label="Loading more transactions" />}
      {!done && !loading && (
        <button type="button" className="button secondary block" onClick={() => void loadMore()}>
          Load more
        </button>
      )}
      {done && items.length > 0 && <p className="muted center small">That's everything.</p>}
    </section>
  );
}

export function AccountPage(props: { iban: string }) {
  const { accounts, accountsLoaded, features } = useApp();
  const mine = accounts.find((account) => account.iban === props.iban);
  const [fetched, setFetched] = useState<{ iban: string; asset: string; balance: string }>();
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    if (mine || !accountsLoaded) return;
    get<{ iban: string; asset: string; balance: string }>(
      `/v1/accounts/${encodeURIComponent(props.iban)}`,
    ).then(setFetched, (error) => setMissing(error instanceof ApiError && error.status === 404));
  }, [mine, accountsLoaded, props.iban]);

  const account = mine ?? fetched;
  if (missing) {
    return (
      <div className="page narrow">
        <Alert kind="error">That account doesn't exist or isn't yours.</Alert>
        <Link href="/" className="button secondary">
          Back to accounts
        </Link>
      </div>
    );
  }
  if (!account) return <Spinner label="Loading account" />;

  return (
    <div className="page">
      <Link href="/" className="back-link">
        <Icon name="back" size={18} /> Accounts
      </Link>
      <section className="hero-card compact" aria-labelledby="account-heading">
        <h2 id="account-heading" className="hero-label">
          {assetInfo(account.asset).name} account
        </h2>
        <p className="iban on-dark">{formatIban(account.iban)}</p>
        <LiveBalance balance={account.balance} asset={account.asset} className="hero-amount" />
        <div className="hero-actions">
          <Link href={`/transfer?from=${encodeURIComponent(account.iban)}`} className="button on-dark">
            <Icon name="send" /> Transfer
          </Link>
          <button
            type="button"
            className="button on-dark-ghost"
            onClick={() => void navigator.clipboard?.writeText(account.iban)}
          >
            <Icon name="copy" /> Copy IBAN
          </button>
        </div>
      </section>
      <History iban={account.iban} asset={account.asset} receipts={features.tokens} />
    </div>
  );
}
