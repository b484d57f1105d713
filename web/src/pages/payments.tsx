/**
 * Deposits and withdrawals through external gateways (issue 4). Shown only when the server offers
 * /v1/deposits; the status is followed until it is final.
 */
import { type FormEvent, useEffect, useState } from "react";
import { Alert, Spinner } from "../components/form.tsx";
import { errorMessage, get, request } from "../lib/api.ts";
import { formatIban } from "../lib/iban.ts";
import { newCommandId } from "../lib/ids.ts";
import { assetInfo, formatMoney, parseAmountInput } from "../lib/money.ts";
import { reasonInWords } from "../lib/reasons.ts";
import { Link } from "../lib/router.tsx";
import { useApp } from "../state.tsx";

interface PaymentAttempt {
  readonly no?: number;
  readonly gateway?: string;
  readonly outcome?: string;
  readonly latencyMs?: number;
  /** Why the router chose (or skipped) this gateway. */
  readonly why?: string;
  readonly skipped?: boolean;
  readonly startedAt?: string;
}

interface Payment {
  readonly id: string;
  readonly status: string;
  readonly type?: string;
  readonly iban?: string;
  readonly amount?: string;
  readonly asset?: string;
  readonly reason?: string | null;
  readonly attempts?: readonly PaymentAttempt[];
  readonly tokenId?: string | null;
}

const finalStatuses = new Set(["SUCCESS", "FAILURE", "REVERSED"]);
const statusPollMs = 1000;
const statusPollMax = 60;

function PaymentStatus(props: { id: string }) {
  const [payment, setPayment] = useState<Payment>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let stopped = false;
    let polls = 0;
    const tick = async (): Promise<void> => {
      try {
        const current = await get<Payment>(`/v1/payments/${encodeURIComponent(props.id)}`);
        if (stopped) return;
        setPayment(current);
        if (finalStatuses.has(current.status)) return;
      } catch (caught) {
        if (!stopped) setError(errorMessage(caught));
      }
      polls += 1;
      if (!stopped && polls < statusPollMax) setTimeout(() => void tick(), statusPollMs);
    };
    void tick();
    return () => {
      stopped = true;
    };
  }, [props.id]);

  if (error && !payment) return <Alert kind="error">{error}</Alert>;
  if (!payment) return <Spinner label="Loading payment" />;
  return (
    <section className="card stack" aria-labelledby="payment-heading" data-testid="payment-status">
      <h2 id="payment-heading">
        {payment.type === "withdrawal" ? "Withdrawal" : "Deposit"}: {payment.status}
      </h2>
      {payment.amount && payment.asset && (
        <p className="result-amount">{formatMoney(payment.amount, payment.asset)}</p>
      )}
      {payment.status === "FAILURE" && (
        <Alert kind="error">{reasonInWords(payment.reason ?? undefined)}</Alert>
      )}
      {payment.attempts && payment.attempts.length > 0 && (
        <table className="table">
          <caption>Attempts</caption>
          <thead>
            <tr>
              <th scope="col">Gateway</th>
              <th scope="col">Outcome</th>
              <th scope="col">Latency</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {payment.attempts.map((attempt) => (
              <tr key={`${attempt.no}-${attempt.gateway}`}>
                <td>{attempt.gateway}</td>
                <td>{attempt.skipped ? "skipped" : attempt.outcome}</td>
                <td>{attempt.latencyMs !== undefined ? `${attempt.latencyMs} ms` : "—"}</td>
                <td>{attempt.why ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function PaymentsPage() {
  const { accounts, features } = useApp();
  const [kind, setKind] = useState<"deposit" | "withdrawal">("deposit");
  const [iban, setIban] = useState("");
  const [amount, setAmount] = useState("");
  const [error, setError] = useState<string>();
  const [paymentId, setPaymentId] = useState<string>();

  useEffect(() => {
    if (iban === "" && accounts[0]) setIban(accounts[0].iban);
  }, [accounts, iban]);

  if (!features.payments) {
    return (
      <div className="page narrow">
        <Alert kind="info">Deposits and withdrawals are not available on this server yet.</Alert>
      </div>
    );
  }

  const account = accounts.find((candidate) => candidate.iban === iban);
  const asset = account?.asset ?? "EUR";
  const parsed = parseAmountInput(amount, assetInfo(asset).scale);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!account || !parsed.ok) return;
    const id = newCommandId();
    setError(undefined);
    try {
      await request(kind === "deposit" ? "/v1/deposits" : "/v1/withdrawals", {
        body: { id, iban: account.iban, amount: parsed.minor, asset },
      });
      setPaymentId(id);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };

  return (
    <div className="page narrow stack">
      <form className="card stack" onSubmit={submit}>
        <h2>Add or withdraw money</h2>
        {error && <Alert kind="error">{error}</Alert>}
        <fieldset className="segmented">
          <legend className="visually-hidden">Kind of payment</legend>
          {(["deposit", "withdrawal"] as const).map((option) => (
            <label key={option} className={kind === option ? "selected" : ""}>
              <input
                type="radio"
                name="kind"
                value={option}
                checked={kind === option}
                onChange={() => setKind(option)}
              />
              {option === "deposit" ? "Deposit" : "Withdraw"}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="payment-account">Account</label>
          <select id="payment-account" value={iban} onChange={(event) => setIban(event.target.value)}>
            {accounts.map((candidate) => (
              <option key={candidate.iban} value={candidate.iban}>
                {formatIban(candidate.iban)} · {formatMoney(candidate.balance, candidate.asset)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="payment-amount">Amount ({asset})</label>
          <input
            id="payment-amount"
            inputMode="decimal"
            value={amount}
            onChange={(event) => setAmount(event.target.value)}
            aria-invalid={amount !== "" && !parsed.ok ? true : undefined}
          />
          {amount !== "" && !parsed.ok && <p className="error-text">{parsed.error}</p>}
        </div>
        <button type="submit" className="button primary block" disabled={!account || !parsed.ok}>
          {kind === "deposit" ? "Deposit" : "Withdraw"}
        </button>
        {accounts.length === 0 && (
          <p className="muted">
            <Link href="/accounts/new">Open an account</Link> first.
          </p>
        )}
      </form>
      {paymentId && <PaymentStatus id={paymentId} />}
    </div>
  );
}
