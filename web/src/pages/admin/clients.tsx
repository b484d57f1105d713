/**
 * Client insight (back office: teller, compliance, auditor, admin): find a client by id or username
 * (GET /v1/clients/{id}), then their accounts, the people they dealt with (count and totals per
 * asset each way), the branches they used and their recent cash operations.
 */
import { type FormEvent, useEffect, useState } from "react";
import { Alert, Field, Spinner } from "../../components/form.tsx";
import { errorMessage, get } from "../../lib/api.ts";
import { formatIban } from "../../lib/iban.ts";
import { formatMoney } from "../../lib/money.ts";
import { navigate, useSearchParam } from "../../lib/router.tsx";

interface Totals {
  readonly asset: string;
  readonly sentCount: number;
  readonly sent: string;
  readonly receivedCount: number;
  readonly received: string;
}

interface Overview {
  readonly client: { id: string; username: string; roles: string[] };
  readonly accounts: { iban: string; asset: string; balance: string }[];
  readonly interactions: {
    items: {
      counterpartyClientId: string;
      counterpartyUsername: string | null;
      count: number;
      totals: Totals[];
      lastAt: string;
    }[];
  };
  readonly branches: {
    items: { id: string; name: string; deposits: number; withdrawals: number; lastAt: string }[];
  };
  readonly operations: {
    items: { id: string; type: string; branch: string; amount: string; asset: string; at: string }[];
  };
}

const when = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" });

function Interactions(props: { overview: Overview }) {
  const items = props.overview.interactions.items;
  return (
    <section className="card" aria-labelledby="interactions-heading">
      <h2 id="interactions-heading">Interactions</h2>
      {items.length === 0 ? (
        <p className="muted">No transfers with other clients.</p>
      ) : (
        <table className="table stacked" data-testid="client-interactions">
          <thead>
            <tr>
              <th scope="col">Client</th>
              <th scope="col">Transfers</th>
              <th scope="col">Sent</th>
              <th scope="col">Received</th>
              <th scope="col">Last</th>
            </tr>
          </thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.counterpartyClientId}>
                <td data-label="Client">
                  <a href={`/admin/clients?q=${encodeURIComponent(item.counterpartyClientId)}`}>
                    {item.counterpartyUsername ?? item.counterpartyClientId}
                  </a>
                </td>
                <td data-label="Transfers">{item.count}</td>
                <td data-label="Sent" className="nowrap">
                  {item.totals.map((t) => formatMoney(t.sent, t.asset)).join(", ")}
                </td>
                <td data-label="Received" className="nowrap">
                  {item.totals.map((t) => formatMoney(t.received, t.asset)).join(", ")}
                </td>
                <td data-label="Last" className="nowrap">
                  {when(item.lastAt)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function BranchesAndOperations(props: { overview: Overview }) {
  const { branches, operations } = props.overview;
  return (
    <section className="card" aria-labelledby="client-branches-heading">
      <h2 id="client-branches-heading">Branches</h2>
      {branches.items.length === 0 && <p className="muted">No cash operations at a branch.</p>}
      <ul data-testid="client-branches">
        {branches.items.map((b) => (
          <li key={b.id}>
            <strong>{b.name}</strong>: {b.deposits} deposits, {b.withdrawals} withdrawals, last{" "}
            {when(b.lastAt)}
          </li>
        ))}
      </ul>
      <h3>Recent operations</h3>
      <ul data-testid="client-operations">
        {operations.items.map((o) => (
          <li key={o.id}>
            {when(o.at)} · {o.type} of {formatMoney(o.amount, o.asset)} at {o.branch}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ClientInsightPage() {
  const query = useSearchParam("q") ?? "";
  const [text, setText] = useState(query);
  const [overview, setOverview] = useState<Overview>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  useEffect(() => {
    setText(query);
    if (!query) return;
    const abort = new AbortController();
    setLoading(true);
    get<Overview>(`/v1/clients/${encodeURIComponent(query)}?limit=10`, abort.signal)
      .then((body) => {
        setOverview(body);
        setError(undefined);
      })
      .catch((caught: unknown) => {
        if (abort.signal.aborted) return;
        setOverview(undefined);
        setError(errorMessage(caught));
      })
      .finally(() => setLoading(false));
    return () => abort.abort();
  }, [query]);
  const search = (event: FormEvent) => {
    event.preventDefault();
    navigate(`/admin/clients?q=${encodeURIComponent(text.trim())}`);
  };
  return (
    <div className="page wide stack">
      <form className="card row" onSubmit={search} aria-label="Find a client">
        <Field
          label="Client id or username"
          name="client"
          value={text}
          onChange={(event) => setText(event.target.value)}
          autoComplete="off"
          spellCheck={false}
          required
        />
        <button type="submit" className="button primary">
          Look up
        </button>
      </form>
      {loading && <Spinner label="Loading client" />}
      {error && <Alert kind="error">{error}</Alert>}
      {overview && !error && (
        <>
          <section className="card" aria-labelledby="client-heading" data-testid="client-profile">
            <h2 id="client-heading">{overview.client.username}</h2>
            <p className="muted small">
              {overview.client.id} · {overview.client.roles.join(", ")}
            </p>
            <ul>
              {overview.accounts.map((a) => (
                <li key={a.iban}>
                  <span className="iban">{formatIban(a.iban)}</span> · {formatMoney(a.balance, a.asset)}
                </li>
              ))}
            </ul>
          </section>
          <Interactions overview={overview} />
          <BranchesAndOperations overview={overview} />
        </>
      )}
    </div>
  );
}
