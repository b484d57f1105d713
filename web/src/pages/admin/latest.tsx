/**
 * The bank's latest transactions across all accounts (admin), refreshed every few seconds. A row
 * opens its detail (?id=…): every field, and its receipt or the payment search for its account.
 */
import { useEffect, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { Icon } from "../../components/icons.tsx";
import { errorMessage, get } from "../../lib/api.ts";
import { formatIban } from "../../lib/iban.ts";
import { formatMoney } from "../../lib/money.ts";
import { Link, useSearchParam } from "../../lib/router.tsx";
import { itemsOf } from "../../lib/types.ts";
import { useApp } from "../../state.tsx";

interface BankTransaction {
  readonly id: string;
  readonly from?: string | null;
  readonly to?: string | null;
  readonly iban?: string | null;
  readonly counterparty?: string | null;
  readonly amount: string;
  readonly asset?: string;
  readonly description?: string | null;
  readonly kind?: string;
  readonly phase?: string;
  readonly at?: string;
}

const refreshMs = 3000;

function when(iso: string | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString([], { dateStyle: "short", timeStyle: "medium" });
}

function kindLabel(item: BankTransaction): string {
  const kind = item.kind ?? "transfer";
  const phase = item.phase && item.phase !== "single" ? ` (${item.phase})` : "";
  return `${kind.charAt(0).toUpperCase()}${kind.slice(1)}${phase}`;
}

function TransactionDetail(props: { item: BankTransaction }) {
  const { item } = props;
  const { features } = useApp();
  // A single-phase movement's id is its receipt's; a two-phase one is found through its payment.
  const receipt = features.tokens && (item.phase ?? "single") === "single";
  const customer = item.kind === "withdrawal" ? item.from : item.to;
  return (
    <section className="card stack" aria-labelledby="detail-heading" data-testid="transaction-detail">
      <Link href="/admin/transactions" className="back-link">
        <Icon name="back" size={18} /> All transactions
      </Link>
      <div className="section-header">
        <h2 id="detail-heading">{kindLabel(item)}</h2>
        <span className="detail-amount">{formatMoney(item.amount, item.asset ?? "")}</span>
      </div>
      <dl className="details">
        <div>
          <dt>When</dt>
          <dd>{when(item.at)}</dd>
        </div>
        <div>
          <dt>From</dt>
          <dd className="iban">{formatIban(item.from ?? "—")}</dd>
        </div>
        <div>
          <dt>To</dt>
          <dd className="iban">{formatIban(item.to ?? "—")}</dd>
        </div>
        <div>
          <dt>Description</dt>
          <dd>{item.description || "—"}</dd>
        </div>
        <div>
          <dt>Transfer id</dt>
          <dd>
            <code className="wrap">{item.id}</code>
          </dd>
        </div>
      </dl>
      <div className="row">
        {receipt && (
          <Link href={`/receipts/${encodeURIComponent(item.id)}`} className="button secondary">
            Receipt and proof
          </Link>
        )}
        {features.payments && (item.kind === "deposit" || item.kind === "withdrawal") && customer && (
          <Link href={`/admin/payments?iban=${encodeURIComponent(customer)}`} className="button secondary">
            Payments of this account
          </Link>
        )}
      </div>
    </section>
  );
}

export function LatestTransactionsPage() {
  const selectedId = useSearchParam("id");
  const [items, setItems] = useState<BankTransaction[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<void> => {
      try {
        const body = await get<unknown>("/v1/transactions/latest");
        if (!stopped) {
          setItems(itemsOf<BankTransaction>(body));
          setError(undefined);
        }
      } catch (caught) {
        if (!stopped) setError(errorMessage(caught));
      }
      if (!stopped) timer = setTimeout(() => void load(), refreshMs);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  const selected = selectedId ? items?.find((item) => item.id === selectedId) : undefined;
  if (selected) {
    return (
      <div className="page narrow">
        <TransactionDetail item={selected} />
      </div>
    );
  }

  return (
    <div className="page wide">
      <section className="card" aria-labelledby="latest-heading">
        <div className="section-header">
          <h2 id="latest-heading">Latest transactions</h2>
          <span className="muted small">Across the bank, refreshed every {refreshMs / 1000} s</span>
        </div>
        {error && <Alert kind="error">{error}</Alert>}
        {!items && !error && <Spinner label="Loading transactions" />}
        {items && items.length === 0 && <p className="muted">No transactions yet.</p>}
        {items && items.length > 0 && (
          <table className="table stacked clickable" data-testid="latest-transactions">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Description</th>
                <th scope="col" className="numeric">
                  Amount
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id}>
                  <td data-label="When" className="nowrap">
                    {when(item.at)}
                  </td>
                  <td data-label="Kind" className="cell-title">
                    <Link href={`/admin/transactions?id=${item.id}`} className="row-link">
                      {kindLabel(item)}
                    </Link>
                  </td>
                  <td data-label="From" className="iban nowrap">
                    {formatIban(item.from ?? item.iban ?? "—")}
                  </td>
                  <td data-label="To" className="iban nowrap">
                    {formatIban(item.to ?? item.counterparty ?? "—")}
                  </td>
                  <td data-label="Description">{item.description || "—"}</td>
                  <td data-label="Amount" className="numeric nowrap cell-amount">
                    {formatMoney(item.amount, item.asset ?? "")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
