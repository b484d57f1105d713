/** The bank's latest transactions across all accounts (admin), refreshed every few seconds. */
import { useEffect, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { errorMessage, get } from "../../lib/api.ts";
import { formatIban } from "../../lib/iban.ts";
import { formatMoney } from "../../lib/money.ts";
import { itemsOf } from "../../lib/types.ts";

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

export function LatestTransactionsPage() {
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
          <div className="table-scroll">
            <table className="table" data-testid="latest-transactions">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Description</th>
                  <th scope="col" className="numeric">
                    Amount
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((item) => (
                  <tr key={item.id}>
                    <td className="nowrap">{when(item.at)}</td>
                    <td className="iban nowrap">{formatIban(item.from ?? item.iban ?? "—")}</td>
                    <td className="iban nowrap">{formatIban(item.to ?? item.counterparty ?? "—")}</td>
                    <td className="nowrap">
                      {item.kind ?? "transfer"}
                      {item.phase && item.phase !== "single" ? ` (${item.phase})` : ""}
                    </td>
                    <td>{item.description ?? ""}</td>
                    <td className="numeric nowrap">{formatMoney(item.amount, item.asset ?? "")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
