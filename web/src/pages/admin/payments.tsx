/**
 * Payments explorer (admin): search payments (IBAN, status, type, gateway, time range) through
 * GET /v1/payments with cursor pagination, or go straight to one by its id; a payment's page shows
 * every gateway attempt with the routing reason (why that gateway, which were passed over and why).
 * The search lives in the address (?iban=…&status=…), so results can be shared and reloaded.
 */
import { type FormEvent, useCallback, useEffect, useMemo, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { Icon } from "../../components/icons.tsx";
import { PaymentAttempts } from "../../components/payment-attempts.tsx";
import { errorMessage, get } from "../../lib/api.ts";
import { formatIban, isValidIban, normalizeIban } from "../../lib/iban.ts";
import { formatMoney } from "../../lib/money.ts";
import { fetchPayment, type Payment, stageInWords, statusInWords } from "../../lib/payments.ts";
import { reasonInWords } from "../../lib/reasons.ts";
import { Link, navigate, useSearchParam } from "../../lib/router.tsx";
import { itemsOf, type Page } from "../../lib/types.ts";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const pageSize = 25;
const filterNames = ["iban", "status", "type", "gateway", "from", "to"] as const;
type Filters = Record<(typeof filterNames)[number], string>;
function statusTone(status: string): string {
  if (status === "SUCCESS") return "pill-good";
  if (status === "PENDING") return "pill-warn";
  return "pill-bad";
}

function PaymentCard(props: { payment: Payment }) {
  const { payment } = props;
  return (
    <section className="card stack" aria-labelledby="explored-heading" data-testid="explored-payment">
      <div className="section-header">
        <h2 id="explored-heading">{statusInWords(payment)}</h2>
        <span className={`pill ${statusTone(payment.status)}`}>{payment.status}</span>
      </div>
      <dl className="details payment-fields">
        <div>
          <dt>Amount</dt>
          <dd>{formatMoney(payment.amount, payment.asset)}</dd>
        </div>
        <div>
          <dt>Account</dt>
          <dd className="iban">{formatIban(payment.iban)}</dd>
        </div>
        <div>
          <dt>Stage</dt>
          <dd>{stageInWords(payment.stage)}</dd>
        </div>
        <div>
          <dt>Gateway</dt>
          <dd>{payment.gateway ?? "—"}</dd>
        </div>
        <div>
          <dt>Method / region</dt>
          <dd>
            {(payment.method ?? "any").replaceAll("_", " ")} / {payment.region ?? "any"}
          </dd>
        </div>
        {payment.reason && (
          <div>
            <dt>Reason</dt>
            <dd>{reasonInWords(payment.reason)}</dd>
          </div>
        )}
        <div>
          <dt>Created</dt>
          <dd>{payment.createdAt ? new Date(payment.createdAt).toLocaleString() : "—"}</dd>
        </div>
        <div>
          <dt>Id</dt>
          <dd>
            <code className="wrap">{payment.id}</code>
          </dd>
        </div>
      </dl>
      <h3>Attempts</h3>
      <PaymentAttempts attempts={payment.attempts} status={payment.status} showSkipped />
      {payment.tokenId && (
        <Link href={`/receipts/${encodeURIComponent(payment.tokenId)}`} className="text-link">
          Receipt and proof
        </Link>
      )}
    </section>
  );
}

function useFilters(): Filters {
  const iban = useSearchParam("iban") ?? "";
  const status = useSearchParam("status") ?? "";
  const type = useSearchParam("type") ?? "";
  const gateway = useSearchParam("gateway") ?? "";
  const from = useSearchParam("from") ?? "";
  const to = useSearchParam("to") ?? "";
  return useMemo(() => ({ iban, status, type, gateway, from, to }), [iban, status, type, gateway, from, to]);
}

/** datetime-local (the user's time zone) → RFC 3339 for the API; "" stays "". */
function toIso(local: string): string {
  const date = new Date(local);
  return local === "" || Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

function searchUrl(filters: Filters, cursor: string | undefined): string {
  const params = new URLSearchParams({ limit: String(pageSize) });
  for (const name of filterNames) {
    const value = name === "from" || name === "to" ? toIso(filters[name]) : filters[name];
    if (value !== "") params.set(name, name === "iban" ? normalizeIban(value) : value);
  }
  if (cursor) params.set("cursor", cursor);
  return `/v1/payments?${params}`;
}

function useSearch(filters: Filters, enabled: boolean) {
  const [items, setItems] = useState<Payment[]>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const key = JSON.stringify(filters);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the filters
  const load = useCallback(
    async (after: string | undefined) => {
      setLoading(true);
      try {
        const page = await get<Page<Payment>>(searchUrl(filters, after));
        setItems((previous) => [...(after ? (previous ?? []) : []), ...itemsOf<Payment>(page)]);
        setCursor(page.nextCursor ?? null);
        setError(undefined);
      } catch (caught) {
        setError(errorMessage(caught));
      } finally {
        setLoading(false);
      }
    },
    [key],
  );
  useEffect(() => {
    if (enabled) void load(undefined);
  }, [load, enabled]);
  return { items, cursor, error, loading, more: () => void load(cursor ?? undefined) };
}

function when(iso: string | undefined): string {
  if (!iso) return "—";
  return new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

function SearchForm(props: { filters: Filters }) {
  const [draft, setDraft] = useState<Filters>(props.filters);
  useEffect(() => setDraft(props.filters), [props.filters]);
  const set = (name: keyof Filters) => (event: { target: { value: string } }) =>
    setDraft((previous) => ({ ...previous, [name]: event.target.value }));
  const term = draft.iban.trim();
  // The less used filters fold away (a phone shows the results without scrolling past them).
  const moreSet = ["type", "gateway", "from", "to"].some(
    (name) => props.filters[name as keyof Filters] !== "",
  );
  const ibanError = term !== "" && !uuidPattern.test(term) && !isValidIban(term);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (ibanError) return;
    if (uuidPattern.test(term)) {
      navigate(`/admin/payments?id=${encodeURIComponent(term.toLowerCase())}`);
      return;
    }
    const params = new URLSearchParams();
    for (const name of filterNames) if (draft[name].trim() !== "") params.set(name, draft[name].trim());
    navigate(`/admin/payments${params.size > 0 ? `?${params}` : ""}`);
  };
  return (
    <form className="card stack explorer-search" onSubmit={submit} aria-labelledby="search-heading">
      <h2 id="search-heading">Search payments</h2>
      <div className="filter-grid">
        <div className={`field span-all${ibanError ? " has-error" : ""}`}>
          <label htmlFor="payment-search">IBAN or payment id</label>
          <input
            id="payment-search"
            value={draft.iban}
            onChange={set("iban")}
            placeholder="NL39 OPEN 0000 0000 01, or a payment's UUID"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={ibanError ? true : undefined}
            aria-describedby="payment-search-hint"
          />
          <p className={ibanError ? "error-text" : "hint"} id="payment-search-hint">
            {ibanError
              ? "That is neither a valid IBAN nor a payment id."
              : "An IBAN lists its payments; a payment id opens it."}
          </p>
        </div>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select id="filter-status" value={draft.status} onChange={set("status")}>
            <option value="">Any</option>
            <option value="PENDING">Pending</option>
            <option value="SUCCESS">Succeeded</option>
            <option value="FAILURE">Failed</option>
            <option value="REVERSED">Reversed</option>
          </select>
        </div>
      </div>
      <details className="more-filters" open={moreSet}>
        <summary>More filters: type, gateway, time</summary>
        <div className="filter-grid">
          <div className="field">
            <label htmlFor="filter-type">Type</label>
            <select id="filter-type" value={draft.type} onChange={set("type")}>
              <option value="">Any</option>
              <option value="deposit">Deposits</option>
              <option value="withdrawal">Withdrawals</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="filter-gateway">Gateway</label>
            <input
              id="filter-gateway"
              value={draft.gateway}
              onChange={set("gateway")}
              placeholder="e.g. sepa-instant"
              autoComplete="off"
            />
          </div>
          <div className="field">
            <label htmlFor="filter-from">From</label>
            <input id="filter-from" type="datetime-local" value={draft.from} onChange={set("from")} />
          </div>
          <div className="field">
            <label htmlFor="filter-to">Until</label>
            <input id="filter-to" type="datetime-local" value={draft.to} onChange={set("to")} />
          </div>
        </div>
      </details>
      <div className="row">
        <button type="submit" className="button primary">
          <Icon name="search" size={18} /> Search
        </button>
        <Link href="/admin/payments" className="button secondary">
          Clear
        </Link>
      </div>
    </form>
  );
}

function Results(props: { search: ReturnType<typeof useSearch> }) {
  const { items, cursor, error, loading, more } = props.search;
  return (
    <section className="card" aria-labelledby="results-heading">
      <div className="section-header">
        <h2 id="results-heading">Payments</h2>
        <span className="muted small">Newest first · select a row for its attempts</span>
      </div>
      {error && <Alert kind="error">{error}</Alert>}
      {!items && !error && <Spinner label="Loading payments" />}
      {items && items.length === 0 && <p className="muted">No payment matches.</p>}
      {items && items.length > 0 && (
        <table className="table stacked clickable" data-testid="payment-results">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Payment</th>
              <th scope="col">Account</th>
              <th scope="col">Gateway</th>
              <th scope="col">Status</th>
              <th scope="col" className="numeric">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((payment) => (
              <tr key={payment.id}>
                <td data-label="When" className="nowrap">
                  {when(payment.createdAt)}
                </td>
                <td data-label="Payment" className="cell-title">
                  <Link href={`/admin/payments?id=${payment.id}`} className="row-link">
                    {payment.type === "withdrawal" ? "Withdrawal" : "Deposit"}
                  </Link>
                </td>
                <td data-label="Account" className="iban nowrap">
                  {formatIban(payment.iban)}
                </td>
                <td data-label="Gateway">{payment.gateway ?? "—"}</td>
                <td data-label="Status">
                  <span className={`pill ${statusTone(payment.status)}`}>{payment.status}</span>
                </td>
                <td data-label="Amount" className="numeric nowrap cell-amount">
                  {formatMoney(payment.amount, payment.asset)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {loading && items && <Spinner label="Loading more payments" />}
      {cursor && !loading && (
        <button type="button" className="button secondary block" onClick={more}>
          Load more
        </button>
      )}
    </section>
  );
}

function PaymentDetail(props: { id: string }) {
  const [payment, setPayment] = useState<Payment>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    setPayment(undefined);
    setError(undefined);
    const controller = new AbortController();
    fetchPayment(props.id, controller.signal).then(setPayment, (caught: unknown) => {
      if (!controller.signal.aborted) setError(errorMessage(caught));
    });
    return () => controller.abort();
  }, [props.id]);
  return (
    <>
      <Link href="/admin/payments" className="back-link">
        <Icon name="back" size={18} /> All payments
      </Link>
      {error && <Alert kind="error">{error}</Alert>}
      {!payment && !error && <Spinner label="Loading payment" />}
      {payment && <PaymentCard payment={payment} />}
    </>
  );
}

export function PaymentsExplorerPage() {
  const id = useSearchParam("id") ?? "";
  const filters = useFilters();
  const search = useSearch(filters, id === "");
  return (
    <div className="page wide explorer">
      {id !== "" ? (
        <PaymentDetail id={id} />
      ) : (
        <>
          <SearchForm filters={filters} />
          <Results search={search} />
        </>
      )}
    </div>
  );
}
