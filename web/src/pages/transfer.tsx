import { type FormEvent, useEffect, useState } from "react";
import { Alert, Field } from "../components/form.tsx";
import { Icon } from "../components/icons.tsx";
import { type ProgressStep, ProgressSteps } from "../components/progress-steps.tsx";
import { ApiError, errorMessage } from "../lib/api.ts";
import { type LiveLink, sendCommand } from "../lib/commands.ts";
import { formatIban, isValidIban, normalizeIban } from "../lib/iban.ts";
import { newCommandId } from "../lib/ids.ts";
import { assetInfo, formatMoney, parseAmountInput } from "../lib/money.ts";
import { confirmTransferWithPasskey } from "../lib/passkeys.ts";
import { reasonInWords } from "../lib/reasons.ts";
import { Link, useSearchParam } from "../lib/router.tsx";
import { useApp } from "../state.tsx";

type Stage =
  | { readonly step: "form" }
  | { readonly step: "sending" | "pending"; readonly summary: Summary }
  | { readonly step: "confirmed"; readonly summary: Summary }
  /** Screening held it for review: booked as pending (money reserved, not moved) until decided. */
  | { readonly step: "held"; readonly summary: Summary }
  | { readonly step: "failed"; readonly summary: Summary; readonly reason: string }
  | { readonly step: "unknown"; readonly summary: Summary };

interface Summary {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly minor: string;
  readonly asset: string;
  readonly description: string;
}

function Timeline(props: { stage: Exclude<Stage, { step: "form" }> }) {
  const { stage } = props;
  const done = stage.step === "confirmed" || stage.step === "failed" || stage.step === "held";
  const steps: ProgressStep[] = [
    { label: "Sent", state: "done" },
    { label: "Pending", state: done ? "done" : "current" },
    {
      label: stage.step === "failed" ? "Failed" : stage.step === "held" ? "In review" : "Confirmed",
      state: stage.step === "confirmed" ? "done" : stage.step === "failed" ? "failed" : "todo",
    },
  ];
  return <ProgressSteps label="Transfer progress" steps={steps} />;
}

function Result(props: { stage: Exclude<Stage, { step: "form" }>; onAgain: () => void }) {
  const { stage } = props;
  const { features } = useApp();
  const { summary } = stage;
  const amount = formatMoney(summary.minor, summary.asset);
  return (
    <section className="card stack result-card" aria-labelledby="result-heading">
      <Timeline stage={stage} />
      <div className="result-amount">{amount}</div>
      <p className="muted center">
        to <span className="iban">{formatIban(summary.to)}</span>
        {summary.description && <span className="block">“{summary.description}”</span>}
      </p>
      <div role="status" aria-live="polite" data-testid="transfer-status" data-status={stage.step}>
        {stage.step === "sending" && <h2 id="result-heading">Sending…</h2>}
        {stage.step === "pending" && (
          <>
            <h2 id="result-heading">Pending</h2>
            <p className="muted">The bank accepted your transfer and is processing it.</p>
          </>
        )}
        {stage.step === "confirmed" && (
          <Alert kind="success">
            <h2 id="result-heading">Transfer confirmed</h2>
            <p>The money has arrived.</p>
          </Alert>
        )}
        {stage.step === "held" && (
          <Alert kind="info">
            <h2 id="result-heading">Held for review</h2>
            <p>
              The money is reserved on your account but has not moved yet. Our compliance team reviews the
              transfer; if it is not approved, the reservation is released.
            </p>
          </Alert>
        )}
        {stage.step === "failed" && (
          <Alert kind="error">
            <h2 id="result-heading">Transfer failed</h2>
            <p data-testid="failure-reason">{stage.reason}</p>
          </Alert>
        )}
        {stage.step === "unknown" && (
          <Alert kind="warning">
            <h2 id="result-heading">Still processing</h2>
            <p>There's no outcome yet. You'll get a notification when it completes.</p>
          </Alert>
        )}
      </div>
      {stage.step !== "sending" && stage.step !== "pending" && (
        <div className="row">
          <button type="button" className="button primary" onClick={props.onAgain}>
            New transfer
          </button>
          <Link href={`/accounts/${encodeURIComponent(summary.from)}`} className="button secondary">
            View account
          </Link>
          {stage.step === "confirmed" && features.tokens && (
            <Link href={`/receipts/${encodeURIComponent(summary.id)}`} className="button secondary">
              Receipt
            </Link>
          )}
        </div>
      )}
    </section>
  );
}

export function TransferPage() {
  const { accounts, accountsLoaded, live, notify } = useApp();
  const requestedFrom = useSearchParam("from");
  // "Pay again" (People you paid) opens the form with the counterparty filled in.
  const requestedTo = useSearchParam("to");
  const [from, setFrom] = useState(requestedFrom ?? "");
  const [to, setTo] = useState(requestedTo ?? "");
  const [amount, setAmount] = useState("");
  const [description, setDescription] = useState("");
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<string>();
  const [stage, setStage] = useState<Stage>({ step: "form" });

  useEffect(() => {
    if (from === "" && accounts[0]) setFrom(accounts[0].iban);
  }, [accounts, from]);

  const source = accounts.find((account) => account.iban === from);
  const asset = source?.asset ?? "EUR";
  const scale = assetInfo(asset).scale;
  const parsed = parseAmountInput(amount, scale);
  const toValid = isValidIban(to);
  const toError =
    touched && to !== "" && !toValid ? "That IBAN doesn't look right. Check the digits." : undefined;
  const sameAccount = toValid && normalizeIban(to) === from;
  // More than the balance would only come back as "insufficient funds": say so before sending.
  const overBalance = parsed.ok && source !== undefined && BigInt(parsed.minor) > BigInt(source.balance);
  const amountError =
    touched && amount !== "" && !parsed.ok
      ? parsed.error
      : overBalance && source
        ? `That's more than the ${formatMoney(source.balance, source.asset)} available in this account`
        : undefined;
  // Suggest the user's own other accounts in the same currency (never the bank's system accounts).
  const ownTargets = accounts.filter((account) => account.iban !== from && account.asset === asset);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setTouched(true);
    if (!source || !toValid || !parsed.ok || sameAccount || overBalance) return;
    const summary: Summary = {
      id: newCommandId(),
      from: source.iban,
      to: normalizeIban(to),
      minor: parsed.minor,
      asset: source.asset,
      description: description.trim(),
    };
    setError(undefined);
    setStage({ step: "sending", summary });
    try {
      const outcome = await sendTransfer(summary, live, () => setStage({ step: "pending", summary }));
      const money = formatMoney(summary.minor, summary.asset);
      // A confirmed transfer is announced once, by its balance change (which opens its receipt).
      if (outcome.status === "confirmed") {
        setStage({ step: outcome.body?.heldForReview ? "held" : "confirmed", summary });
      } else if (outcome.status === "failed") {
        const reason = reasonInWords(outcome.reason, outcome.detail);
        setStage({ step: "failed", summary, reason });
        notify({
          kind: "failed",
          title: "Transfer failed",
          body: `${money} to ${formatIban(summary.to)}: ${reason}`,
        });
      } else {
        setStage({ step: "unknown", summary });
      }
    } catch (caught) {
      setStage({ step: "form" });
      setError(errorMessage(caught));
    }
  };

  if (stage.step !== "form") {
    return (
      <div className="page narrow">
        <Result
          stage={stage}
          onAgain={() => {
            setStage({ step: "form" });
            setAmount("");
            setDescription("");
            setTouched(false);
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
          <p>Open an account first to send money.</p>
          <Link href="/accounts/new" className="button primary">
            Open account
          </Link>
        </div>
      </div>
    );
  }

  return (
    <div className="page narrow">
      <form className="card stack" onSubmit={submit} noValidate>
        <div>
          <h2>Send money</h2>
          <p className="muted">Transfers between Ledgerflow accounts arrive in seconds.</p>
        </div>
        {error && <Alert kind="error">{error}</Alert>}
        <div className="field">
          <label htmlFor="from">From</label>
          <select
            id="from"
            name="from"
            value={from}
            onChange={(event) => setFrom(event.target.value)}
            required
          >
            {accounts.map((account) => (
              <option key={account.iban} value={account.iban}>
                {assetInfo(account.asset).name} ···· {account.iban.slice(-4)} ·{" "}
                {formatMoney(account.balance, account.asset)}
              </option>
            ))}
          </select>
        </div>
        <Field
          label="To (IBAN)"
          name="to"
          inputMode="text"
          autoCapitalize="characters"
          autoComplete="off"
          spellCheck={false}
          placeholder="NL00 OPEN 0000 0000 00"
          {...(ownTargets.length > 0 ? { list: "own-accounts" } : {})}
          value={to}
          onChange={(event) => setTo(event.target.value)}
          onBlur={() => setTouched(true)}
          error={toError ?? (sameAccount ? "You can't transfer money to the same account" : undefined)}
          required
        />
        {ownTargets.length > 0 && (
          <datalist id="own-accounts">
            {ownTargets.map((account) => (
              <option key={account.iban} value={account.iban}>
                Your {assetInfo(account.asset).name} account ···· {account.iban.slice(-4)}
              </option>
            ))}
          </datalist>
        )}
        <div className={`field amount-field${amountError ? " has-error" : ""}`}>
          <label htmlFor="amount">Amount</label>
          <div className="input-affix">
            <span aria-hidden="true">{assetInfo(asset).symbol || asset}</span>
            <input
              id="amount"
              name="amount"
              inputMode="decimal"
              autoComplete="off"
              placeholder={scale === 0 ? "0" : `0.${"0".repeat(scale)}`}
              value={amount}
              onChange={(event) => setAmount(event.target.value)}
              onBlur={() => setTouched(true)}
              aria-invalid={amountError ? true : undefined}
              aria-describedby={amountError ? "amount-error" : "amount-hint"}
              required
            />
          </div>
          {amountError ? (
            <p className="error-text" id="amount-error" role="alert">
              {amountError}
            </p>
          ) : (
            <p className="hint" id="amount-hint">
              Available: {source ? formatMoney(source.balance, source.asset) : "—"}
            </p>
          )}
        </div>
        <Field
          label="Description (optional)"
          name="description"
          maxLength={140}
          value={description}
          onChange={(event) => setDescription(event.target.value)}
        />
        <button type="submit" className="button primary block" disabled={!source || overBalance}>
          <Icon name="send" /> Send {parsed.ok ? formatMoney(parsed.minor, asset) : ""}
        </button>
      </form>
    </div>
  );
}

/**
 * Sends the transfer; when the server asks for a step-up (a large amount), confirms it with a
 * passkey (the browser's own prompt) and sends it again with the assertion, under the same id.
 */
async function sendTransfer(
  summary: { id: string; from: string; to: string; minor: string; asset: string; description: string },
  live: LiveLink | undefined,
  onPending: () => void,
) {
  const send = (headers?: Record<string, string>) =>
    sendCommand<{ heldForReview?: boolean }>({
      path: "/v1/transfers",
      id: summary.id,
      body: {
        from: summary.from,
        to: summary.to,
        amount: summary.minor,
        asset: summary.asset,
        ...(summary.description ? { description: summary.description } : {}),
      },
      live,
      onPending,
      ...(headers ? { headers } : {}),
    });
  try {
    return await send();
  } catch (error) {
    if (!(error instanceof ApiError && error.problem.code === "step_up_required")) throw error;
    const transfer = { transferId: summary.id, to: summary.to, amount: summary.minor, asset: summary.asset };
    let assertion: string;
    try {
      assertion = await confirmTransferWithPasskey(transfer);
    } catch {
      throw new Error(
        "Transfers of this size need a confirmation with a passkey. Add one on the Sessions page, then try again.",
      );
    }
    return send({ "passkey-assertion": assertion });
  }
}
