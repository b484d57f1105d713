/**
 * Deposits and withdrawals through external gateways. The payment is created without waiting and
 * its status followed as it changes (PENDING, with the stage in words, then SUCCESS or FAILURE);
 * the account's balance beside it moves by the live balanceChanged subscription, and every balance
 * push for the account asks for the status at once rather than at the next tick.
 */
import { type FormEvent, useEffect, useRef, useState } from "react";
import { Alert, Spinner } from "../components/form.tsx";
import { Icon } from "../components/icons.tsx";
import { PaymentAttempts } from "../components/payment-attempts.tsx";
import { type ProgressStep, ProgressSteps } from "../components/progress-steps.tsx";
import { errorMessage } from "../lib/api.ts";
import { formatIban } from "../lib/iban.ts";
import { newCommandId } from "../lib/ids.ts";
import { assetInfo, formatMoney, parseAmountInput } from "../lib/money.ts";
import {
  createPayment,
  creationOf,
  fetchPayment,
  isFinal,
  type Payment,
  paymentMethods,
  stageInWords,
  statusInWords,
} from "../lib/payments.ts";
import { reasonInWords } from "../lib/reasons.ts";
import { Link, navigate, useSearchParam } from "../lib/router.tsx";
import { useApp } from "../state.tsx";

/** Status checks while a payment is pending: quick at first, then calmer, for at most ~2 minutes. */
const pollDelaysMs = [250, 250, 500, 500, 1000];
const pollDelayMaxMs = 2000;
const followMsMax = 120_000;

function usePayment(id: string): {
  payment: Payment | undefined;
  error: string | undefined;
  gaveUp: boolean;
} {
  const { onBalanceChange, notify } = useApp();
  const [payment, setPayment] = useState<Payment>();
  const [error, setError] = useState<string>();
  const [gaveUp, setGaveUp] = useState(false);
  const notifyRef = useRef(notify);
  notifyRef.current = notify;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let polls = 0;
    const startedMs = Date.now();
    let iban: string | undefined;
    let sawPending = false;
    let final = false;
    const announce = (done: Payment): void => {
      const money = formatMoney(done.amount, done.asset);
      notifyRef.current({
        kind: done.status === "SUCCESS" ? "confirmed" : "failed",
        title: statusInWords(done),
        body:
          done.status === "SUCCESS"
            ? `${money} ${done.type === "withdrawal" ? "paid out from" : "added to"} ${formatIban(done.iban)}`
            : `${money}: ${reasonInWords(done.reason)}`,
        href: `/payments?id=${encodeURIComponent(done.id)}`,
      });
    };
    /** Shows a state; answers whether to keep following. */
    const show = (current: Payment): boolean => {
      iban = current.iban;
      setPayment(current);
      setError(undefined);
      if (!isFinal(current)) {
        sawPending = true;
        return true;
      }
      if (!final && sawPending) announce(current);
      final = true;
      return false;
    };
    const schedule = (): void => {
      polls += 1;
      if (Date.now() - startedMs > followMsMax) {
        setGaveUp(true);
        return;
      }
      timer = setTimeout(() => void check(), pollDelaysMs[polls - 1] ?? pollDelayMaxMs);
    };
    const check = async (): Promise<void> => {
      clearTimeout(timer);
      try {
        const current = await fetchPayment(id);
        if (stopped || !show(current)) return;
      } catch (caught) {
        if (stopped) return;
        setError(errorMessage(caught));
      }
      schedule();
    };
    const stopListening = onBalanceChange((change) => {
      if (!final && change.iban === iban) void check();
    });
    const creation = creationOf(id);
    if (creation) {
      show(creation.draft);
      creation.answer.then(
        (answer) => {
          if (!stopped && show(answer)) schedule();
        },
        (caught: unknown) => {
          if (stopped) return;
          // Not created (e.g. the account holds another currency): nothing to follow.
          setPayment(undefined);
          setError(errorMessage(caught));
        },
      );
    } else {
      void check();
    }
    return () => {
      stopped = true;
      clearTimeout(timer);
      stopListening();
    };
  }, [id, onBalanceChange]);

  return { payment, error, gaveUp };
}

function PaymentTimeline(props: { payment: Payment }) {
  const { status } = props.payment;
  const final = status !== "PENDING";
  const failed = status === "FAILURE";
  const steps: ProgressStep[] = [
    { label: "Requested", state: "done" },
    { label: "Processing", state: final ? "done" : "current" },
    {
      label: failed ? "Failed" : status === "REVERSED" ? "Reversed" : "Completed",
      state: status === "SUCCESS" ? "done" : failed || status === "REVERSED" ? "failed" : "todo",
    },
  ];
  return <ProgressSteps label="Payment progress" steps={steps} />;
}

function PaymentProgress(props: { id: string; onAgain: () => void }) {
  const { accounts, features } = useApp();
  const { payment, error, gaveUp } = usePayment(props.id);
  if (!payment) {
    return (
      <section className="card stack center" aria-busy={error ? undefined : true}>
        {error ? (
          <>
            <Alert kind="error">{error}</Alert>
            <button type="button" className="button secondary" onClick={props.onAgain}>
              Back
            </button>
          </>
        ) : (
          <Spinner label="Loading payment" />
        )}
      </section>
    );
  }
  const account = accounts.find((candidate) => candidate.iban === payment.iban);
  const withdrawal = payment.type === "withdrawal";
  return (
    <section className="card stack result-card" aria-labelledby="payment-heading">
      <PaymentTimeline payment={payment} />
      <div className="result-amount">
        {withdrawal ? "−" : "+"}
        {formatMoney(payment.amount, payment.asset)}
      </div>
      <p className="muted center">
        {withdrawal ? "from" : "to"} <span className="iban">{formatIban(payment.iban)}</span>
        {payment.gateway && <span className="block small">via {payment.gateway}</span>}
      </p>
      <div role="status" aria-live="polite" data-testid="payment-status" data-status={payment.status}>
        {payment.status === "PENDING" && (
          <>
            <h2 id="payment-heading">{statusInWords(payment)}</h2>
            <p className="muted">
              {gaveUp
                ? "This is taking longer than usual. You'll get a notification when it completes."
                : `${stageInWords(payment.stage)}…`}
            </p>
          </>
        )}
        {payment.status === "SUCCESS" && (
          <Alert kind="success">
            <h2 id="payment-heading">{statusInWords(payment)}</h2>
            <p>{withdrawal ? "The money is on its way to you." : "The money is in your account."}</p>
          </Alert>
        )}
        {payment.status === "FAILURE" && (
          <Alert kind="error">
            <h2 id="payment-heading">{statusInWords(payment)}</h2>
            <p data-testid="payment-failure-reason">{reasonInWords(payment.reason)}</p>
          </Alert>
        )}
        {payment.status === "REVERSED" && (
          <Alert kind="warning">
            <h2 id="payment-heading">{statusInWords(payment)}</h2>
            <p>{reasonInWords(payment.reason)}</p>
          </Alert>
        )}
      </div>
      {error && <Alert kind="warning">Live status interrupted: {error}</Alert>}
      {account && (
        <p className="balance-line">
          <span className="muted">Balance</span>{" "}
          <strong data-testid="payment-balance">{formatMoney(account.balance, account.asset)}</strong>
        </p>
      )}
      <details className="attempts-disclosure">
        <summary>How it was routed</summary>
        <PaymentAttempts attempts={payment.attempts} status={payment.status} />
      </details>
      {payment.status !== "PENDING" && (
        <div className="row center-row">
          {payment.tokenId && features.tokens && (
            <Link href={`/receipts/${encodeURIComponent(payment.tokenId)}`} className="button primary">
              <Icon name="check" /> View receipt
            </Link>
          )}
          <button type="button" className="button secondary" onClick={props.onAgain}>
            New payment
          </button>
        </div>
      )}
    </section>
  );
}

export function PaymentsPage() {
  const { accounts, accountsLoaded, features } = useApp();
  const shownId = useSearchParam("id");
  const requestedIban = useSearchParam("iban");
  const [kind, setKind] = useState<"deposit" | "withdrawal">("deposit");
  const [iban, setIban] = useState(requestedIban ?? "");
  const [amount, setAmount] = useState("");
  const [method, setMethod] = useState("");
  const [touched, setTouched] = useState(false);

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
  if (shownId) {
    return (
      <div className="page narrow">
        <PaymentProgress
          key={shownId}
          id={shownId}
          onAgain={() => {
            setAmount("");
            setTouched(false);
            navigate("/payments");
          }}
        />
      </div>
    );
  }
  if (accountsLoaded && accounts.length === 0) {
    return (
      <div className="page narrow">
        <div className="card empty">
          <Icon name="wallet" size={32} />
          <p>Open an account first to add money.</p>
          <Link href="/accounts/new" className="button primary">
            Open account
          </Link>
        </div>
      </div>
    );
  }

  const account = accounts.find((candidate) => candidate.iban === iban);
  const asset = account?.asset ?? "EUR";
  const scale = assetInfo(asset).scale;
  const parsed = parseAmountInput(amount, scale);
  const amountError = touched && amount !== "" && !parsed.ok ? parsed.error : undefined;

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setTouched(true);
    if (!account || !parsed.ok) return;
    const id = newCommandId();
    createPayment({
      id,
      type: kind,
      iban: account.iban,
      amount: parsed.minor,
      asset: account.asset,
      ...(method ? { method } : {}),
    });
    navigate(`/payments?id=${encodeURIComponent(id)}`);
  };

  return (
    <div className="page narrow">
      <form className="card stack" onSubmit={submit} noValidate>
        <div>
          <h2>Add or withdraw money</h2>
          <p className="muted">
            Through a payment provider: card, SEPA Instant, e-wallet or bank transfer. The best available
            provider is chosen for you.
          </p>
        </div>
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
              <Icon name={option === "deposit" ? "arrowDown" : "arrowUp"} size={18} />
              {option === "deposit" ? "Deposit" : "Withdraw"}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor="payment-account">Account</label>
          <select id="payment-account" value={iban} onChange={(event) => setIban(event.target.value)}>
            {accounts.map((candidate) => (
              <option key={candidate.iban} value={candidate.iban}>
                {assetInfo(candidate.asset).name} ···· {candidate.iban.slice(-4)} ·{" "}
                {formatMoney(candidate.balance, candidate.asset)}
              </option>
            ))}
          </select>
        </div>
        <div className={`field amount-field${amountError ? " has-error" : ""}`}>
          <label htmlFor="payment-amount">Amount</label>
          <div className="input-affix">
            <span aria-hidden="true">{assetInfo(asset).symbol || asset}</span>
            <input
              id="payment-amount"
              inputMode="decimal"
              autoComplete="off"
              placeholder={scale === 0 ? "0" : `0.${"0".repeat(scale)}`}
              value={amount}
              onChange={(event) => setAmount(event.target.value)}
              onBlur={() => setTouched(true)}
              aria-invalid={amountError ? true : undefined}
              aria-describedby={amountError ? "payment-amount-error" : "payment-amount-hint"}
            />
          </div>
          {amountError ? (
            <p className="error-text" id="payment-amount-error">
              {amountError}
            </p>
          ) : (
            <p className="hint" id="payment-amount-hint">
              Balance: {account ? formatMoney(account.balance, account.asset) : "—"}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor="payment-method">Method</label>
          <select id="payment-method" value={method} onChange={(event) => setMethod(event.target.value)}>
            {paymentMethods.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button primary block" disabled={!account}>
          {kind === "deposit" ? "Deposit" : "Withdraw"}
          {parsed.ok ? ` ${formatMoney(parsed.minor, asset)}` : ""}
        </button>
      </form>
    </div>
  );
}
