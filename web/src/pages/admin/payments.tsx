/**
 * Payments explorer (admin): look a payment up by id and see every gateway attempt with the
 * routing reason (why that gateway, which others were passed over and why). Payments looked at in
 * this session are kept in a short list for going back to.
 */
import { type FormEvent, useEffect, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { Icon } from "../../components/icons.tsx";
import { PaymentAttempts } from "../../components/payment-attempts.tsx";
import { errorMessage } from "../../lib/api.ts";
import { formatIban } from "../../lib/iban.ts";
import { formatMoney } from "../../lib/money.ts";
import { fetchPayment, type Payment, stageInWords, statusInWords } from "../../lib/payments.ts";
import { reasonInWords } from "../../lib/reasons.ts";
import { Link, navigate, useSearchParam } from "../../lib/router.tsx";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const recentKey = "ledgerflow.admin.recent-payments";
const recentMax = 8;

interface RecentPayment {
  readonly id: string;
  readonly label: string;
  readonly status: string;
}

function loadRecent(): RecentPayment[] {
  try {
    const stored: unknown = JSON.parse(sessionStorage.getItem(recentKey) ?? "[]");
    return Array.isArray(stored) ? (stored as RecentPayment[]) : [];
  } catch {
    return [];
  }
}

function remember(payment: Payment): RecentPayment[] {
  const entry = {
    id: payment.id,
    label: `${payment.type === "withdrawal" ? "Withdrawal" : "Deposit"} ${formatMoney(payment.amount, payment.asset)}`,
    status: payment.status,
  };
  const list = [entry, ...loadRecent().filter((item) => item.id !== payment.id)].slice(0, recentMax);
  try {
    sessionStorage.setItem(recentKey, JSON.stringify(list));
  } catch {
    // Storage disabled: the list is just not kept.
  }
  return list;
}

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
      <PaymentAttempts attempts={payment.attempts} showSkipped />
      {payment.tokenId && (
        <Link href={`/receipts/${encodeURIComponent(payment.tokenId)}`} className="text-link">
          Receipt and proof
        </Link>
      )}
    </section>
  );
}

export function PaymentsExplorerPage() {
  const id = useSearchParam("id") ?? "";
  const [input, setInput] = useState(id);
  const [payment, setPayment] = useState<Payment>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [recent, setRecent] = useState<RecentPayment[]>(loadRecent);

  useEffect(() => {
    setPayment(undefined);
    setError(undefined);
    if (id === "") return;
    const controller = new AbortController();
    setLoading(true);
    fetchPayment(id, controller.signal)
      .then((found) => {
        setPayment(found);
        setRecent(remember(found));
      })
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) setError(errorMessage(caught));
      })
      .finally(() => setLoading(false));
    return () => controller.abort();
  }, [id]);

  const valid = uuidPattern.test(input.trim());
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (valid) navigate(`/admin/payments?id=${encodeURIComponent(input.trim().toLowerCase())}`);
  };

  return (
    <div className="page wide explorer">
      <form className="card stack explorer-search" onSubmit={submit}>
        <h2>Find a payment</h2>
        <div className="field">
          <label htmlFor="payment-id">Payment id</label>
          <div className="row nowrap-row">
            <input
              id="payment-id"
              value={input}
              onChange={(event) => setInput(event.target.value)}
              placeholder="e.g. 3f0c2a6e-…"
              autoComplete="off"
              spellCheck={false}
              aria-invalid={input !== "" && !valid ? true : undefined}
              aria-describedby="payment-id-hint"
            />
            <button type="submit" className="button primary" disabled={!valid}>
              <Icon name="search" size={18} /> Look up
            </button>
          </div>
          <p className="hint" id="payment-id-hint">
            The UUID the client chose when creating the deposit or withdrawal.
          </p>
        </div>
      </form>
      <div className="explorer-result">
        {loading && <Spinner label="Loading payment" />}
        {error && <Alert kind="error">{error}</Alert>}
        {payment && <PaymentCard payment={payment} />}
        {!payment && !loading && !error && (
          <div className="card empty">
            <Icon name="card" size={32} />
            <p>Look a payment up to see each gateway attempt and why the router chose it.</p>
          </div>
        )}
      </div>
      {recent.length > 0 && (
        <section className="card explorer-recent" aria-labelledby="recent-heading">
          <h2 id="recent-heading">Looked at recently</h2>
          <ul className="plain-list">
            {recent.map((item) => (
              <li key={item.id}>
                <Link
                  href={`/admin/payments?id=${item.id}`}
                  aria-current={item.id === id ? "true" : undefined}
                >
                  {item.label}
                </Link>{" "}
                <span className={`pill ${statusTone(item.status)}`}>{item.status}</span>
                <code className="small muted block">{item.id}</code>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
