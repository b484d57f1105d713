import { type FormEvent, useEffect, useState } from "react";
import { Alert, Spinner } from "../components/form.tsx";
import { Icon } from "../components/icons.tsx";
import { errorMessage, get } from "../lib/api.ts";
import { sendCommand } from "../lib/commands.ts";
import { formatIban } from "../lib/iban.ts";
import { newCommandId } from "../lib/ids.ts";
import { type AssetInfo, assetInfo } from "../lib/money.ts";
import { reasonInWords } from "../lib/reasons.ts";
import { Link } from "../lib/router.tsx";
import { type Account, itemsOf } from "../lib/types.ts";
import { useApp } from "../state.tsx";

/** The assets the server is configured with (GET /v1/assets), named and shown as this app knows them. */
function useOfferedAssets(): { assets: readonly AssetInfo[] | undefined; error: string | undefined } {
  const [assets, setAssets] = useState<readonly AssetInfo[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    get<unknown>("/v1/assets").then(
      (body) =>
        setAssets(
          itemsOf<{ code: string; scale: number }>(body).map((asset) => ({
            ...assetInfo(asset.code),
            scale: asset.scale,
          })),
        ),
      (caught: unknown) => setError(errorMessage(caught)),
    );
  }, []);
  return { assets, error };
}

function SecretToken(props: { account: Account }) {
  const [copied, setCopied] = useState(false);
  const copy = async (): Promise<void> => {
    if (!props.account.token) return;
    try {
      await navigator.clipboard.writeText(props.account.token);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <section className="card success-card" aria-labelledby="opened-heading">
      <span className="bubble kind-confirmed big" aria-hidden="true">
        <Icon name="check" size={26} />
      </span>
      <h2 id="opened-heading">Your account is open</h2>
      <dl className="details">
        <div>
          <dt>IBAN</dt>
          <dd className="iban" data-testid="new-iban">
            {formatIban(props.account.iban)}
          </dd>
        </div>
        <div>
          <dt>Currency</dt>
          <dd>{props.account.asset}</dd>
        </div>
      </dl>
      {props.account.token ? (
        <div className="token-box">
          <p className="token-title" id="token-title">
            <Icon name="shield" /> Secret token — shown only this once
          </p>
          <p className="small" data-testid="token-explanation">
            What it is for: the token lets a program or another person send money from this account without
            your password, e.g. a script or an app you connect to the API (it goes in the transfer's{" "}
            <code>token</code> field). You don't need it to use this wallet.
          </p>
          <p className="muted small">
            Anyone who has it can move money out of the account, so keep it like a password. Ledgerflow stores
            only a fingerprint of it and can't show it again; if you don't plan to use the API, you can ignore
            it.
          </p>
          <div className="token-row">
            <code data-testid="account-token">{props.account.token}</code>
            <button type="button" className="button secondary small" onClick={copy}>
              <Icon name="copy" size={16} /> {copied ? "Copied" : "Copy"}
            </button>
          </div>
        </div>
      ) : (
        <Alert kind="info">
          The secret token was delivered with an earlier answer and can't be shown again.
        </Alert>
      )}
      <div className="row">
        <Link href={`/accounts/${encodeURIComponent(props.account.iban)}`} className="button primary">
          Go to account
        </Link>
        <Link href="/" className="button secondary">
          Back to accounts
        </Link>
      </div>
    </section>
  );
}

export function OpenAccountPage() {
  const { live, refreshAccounts, notify } = useApp();
  const [asset, setAsset] = useState("EUR");
  const [phase, setPhase] = useState<"idle" | "sending" | "pending">("idle");
  const [error, setError] = useState<string>();
  const [opened, setOpened] = useState<Account>();
  const offered = useOfferedAssets();

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setPhase("sending");
    setError(undefined);
    try {
      const outcome = await sendCommand<Account>({
        path: "/v1/accounts",
        id: newCommandId(),
        body: { asset },
        live,
        onPending: () => setPhase("pending"),
      });
      if (outcome.status === "confirmed" && outcome.body?.iban) {
        setOpened(outcome.body);
        notify({
          kind: "confirmed",
          title: "Account opened",
          body: `${asset} account ${formatIban(outcome.body.iban)}`,
        });
        await refreshAccounts();
      } else if (outcome.status === "failed") {
        setError(reasonInWords(outcome.reason, outcome.detail));
      } else {
        setError("The bank hasn't confirmed yet. Your new account will appear in your list shortly.");
        void refreshAccounts();
      }
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setPhase("idle");
    }
  };

  if (opened) {
    return (
      <div className="page narrow">
        <SecretToken account={opened} />
      </div>
    );
  }

  return (
    <div className="page narrow">
      <form className="card stack" onSubmit={submit}>
        <div>
          <h2>Open an account</h2>
          <p className="muted">Choose the currency. You get an IBAN at once and can start receiving money.</p>
        </div>
        {error && <Alert kind="error">{error}</Alert>}
        {offered.error && <Alert kind="error">Couldn't load the currencies: {offered.error}</Alert>}
        {!offered.assets && !offered.error && <Spinner label="Loading currencies" />}
        <fieldset className="choice-group">
          <legend>Currency</legend>
          {(offered.assets ?? []).map((option) => (
            <label key={option.code} className={`choice${asset === option.code ? " selected" : ""}`}>
              <input
                type="radio"
                name="asset"
                value={option.code}
                checked={asset === option.code}
                onChange={() => setAsset(option.code)}
              />
              <span className={`asset-badge asset-${option.code.toLowerCase()}`} aria-hidden="true">
                {option.symbol || option.code}
              </span>
              <span>
                <strong>{option.name}</strong>
                <span className="muted small block">{option.code}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <button type="submit" className="button primary block" disabled={phase !== "idle" || !offered.assets}>
          {phase === "idle" ? "Open account" : phase === "sending" ? "Opening…" : "Waiting for the bank…"}
        </button>
      </form>
    </div>
  );
}
