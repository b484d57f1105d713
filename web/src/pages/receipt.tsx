/**
 * A token's receipt and its proof, verified here in the browser: the receipt's and the block
 * header's Ed25519 signatures against the platform's published key, and the Merkle path from the
 * receipt's leaf to the root in the signed header (lib/proof.ts). The verdict is said in words.
 * While the receipt waits for the next block (202), the page checks again until it is sealed.
 */
import { useEffect, useState } from "react";
import { Alert, Spinner } from "../components/form.tsx";
import { Icon } from "../components/icons.tsx";
import { errorMessage, get, request } from "../lib/api.ts";
import { formatIban } from "../lib/iban.ts";
import { formatMoney } from "../lib/money.ts";
import {
  type ChainKey,
  type ProofDocument,
  parseHeader,
  type ReceiptData,
  type Verification,
  verifyProof,
} from "../lib/proof.ts";

const sealPollMs = 1000;
const sealWaitMsMax = 60_000;

type Loaded =
  | { readonly state: "loading" }
  | { readonly state: "failed"; readonly message: string }
  | { readonly state: "unsealed"; readonly doc: ProofDocument }
  | {
      readonly state: "ready";
      readonly doc: ProofDocument;
      readonly key: ChainKey;
      readonly verification: Verification;
    };

function useProof(id: string): Loaded {
  const [loaded, setLoaded] = useState<Loaded>({ state: "loading" });
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const startedMs = Date.now();
    const load = async (): Promise<void> => {
      try {
        const answer = await request<ProofDocument>(`/v1/tokens/${encodeURIComponent(id)}/proof`);
        if (stopped) return;
        const doc = answer.body;
        if (answer.status === 202 || !doc.sealed) {
          setLoaded({ state: "unsealed", doc });
          if (Date.now() - startedMs < sealWaitMsMax) timer = setTimeout(() => void load(), sealPollMs);
          return;
        }
        const key = await get<ChainKey>("/v1/chain/key");
        const verification = await verifyProof(doc, key).catch(
          (error: unknown): Verification => ({
            verified: false,
            checks: [{ label: "Verification", ok: false, detail: errorMessage(error) }],
          }),
        );
        if (!stopped) setLoaded({ state: "ready", doc, key, verification });
      } catch (caught) {
        if (!stopped) setLoaded({ state: "failed", message: errorMessage(caught) });
      }
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id]);
  return loaded;
}

const kindWords: Readonly<Record<ReceiptData["kind"], string>> = {
  mint: "Money in",
  burn: "Money out",
  move: "Transfer",
};

const kindDetails: Readonly<Record<ReceiptData["kind"], string>> = {
  mint: "Money in: tokens minted",
  burn: "Money out: tokens burned",
  move: "Transfer: tokens moved",
};

function short(hex: string, keep = 10): string {
  return hex.length <= keep * 2 + 1 ? hex : `${hex.slice(0, keep)}…${hex.slice(-keep)}`;
}

function ReceiptFields(props: { data: ReceiptData }) {
  const { data } = props;
  return (
    <dl className="details receipt-fields">
      <div>
        <dt>What</dt>
        <dd>{kindDetails[data.kind] ?? data.kind}</dd>
      </div>
      <div>
        <dt>Amount</dt>
        <dd data-testid="receipt-amount">{formatMoney(data.amount, data.asset)}</dd>
      </div>
      <div>
        <dt>From</dt>
        <dd className="iban">{formatIban(data.from)}</dd>
      </div>
      <div>
        <dt>To</dt>
        <dd className="iban">{formatIban(data.to)}</dd>
      </div>
      {data.description && (
        <div>
          <dt>Description</dt>
          <dd>{data.description}</dd>
        </div>
      )}
      <div>
        <dt>When</dt>
        <dd>{new Date(data.atMs).toLocaleString()}</dd>
      </div>
      <div>
        <dt>Token</dt>
        <dd>
          <code className="wrap">{data.tokenId}</code>
        </dd>
      </div>
    </dl>
  );
}

function Verdict(props: { verification: Verification }) {
  const { verified, checks } = props.verification;
  return (
    <section
      className={`card verdict receipt-wide ${verified ? "verdict-good" : "verdict-bad"}`}
      aria-labelledby="verdict-heading"
    >
      <div className="verdict-head">
        <span className="verdict-icon" aria-hidden="true">
          <Icon name={verified ? "check" : "x"} size={28} />
        </span>
        <div>
          <h2 id="verdict-heading" data-testid="verdict">
            {verified ? "Verified" : "Does not verify"}
          </h2>
          <p className="small">
            {verified
              ? "Checked in this browser: signed by Ledgerflow and sealed in the chain."
              : "This receipt failed at least one check below. Don't rely on it."}
          </p>
        </div>
      </div>
      <ul className="checks">
        {checks.map((check) => (
          <li key={check.label} className={`check-row ${check.ok ? "check-ok" : "check-bad"}`}>
            <Icon name={check.ok ? "check" : "x"} size={16} />
            <span>
              <strong>{check.label}</strong>
              <span className="muted"> · {check.detail}</span>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function BlockDetails(props: { doc: ProofDocument; keyId: string }) {
  const { doc } = props;
  const header = doc.block ? parseHeader(doc.block.header) : undefined;
  if (!doc.block || !doc.proof) return null;
  return (
    <section className="card stack" aria-labelledby="block-heading">
      <h2 id="block-heading">Proof</h2>
      <dl className="details proof-fields">
        <div>
          <dt>Block height</dt>
          <dd data-testid="block-height">{doc.block.height}</dd>
        </div>
        <div>
          <dt>Position in block</dt>
          <dd>
            {doc.proof.leafIndex + 1} of {doc.proof.treeSize}
          </dd>
        </div>
        <div>
          <dt>Merkle path length</dt>
          <dd data-testid="path-length">
            {doc.proof.path.length} hash{doc.proof.path.length === 1 ? "" : "es"}
          </dd>
        </div>
        {header && (
          <>
            <div>
              <dt>Merkle root</dt>
              <dd>
                <code title={header.merkleRoot}>{short(header.merkleRoot)}</code>
              </dd>
            </div>
            <div>
              <dt>Previous block</dt>
              <dd>
                <code title={header.previousHash}>{short(header.previousHash)}</code>
              </dd>
            </div>
            <div>
              <dt>Sealed</dt>
              <dd>{new Date(header.sealedAtMs).toLocaleString()}</dd>
            </div>
          </>
        )}
        <div>
          <dt>Header hash</dt>
          <dd>
            <code title={doc.block.headerHash}>{short(doc.block.headerHash)}</code>
          </dd>
        </div>
        <div>
          <dt>Signing key</dt>
          <dd>
            <code>{props.keyId}</code> (Ed25519)
          </dd>
        </div>
      </dl>
      <details>
        <summary>Signed block header</summary>
        <pre className="code-block" data-testid="signed-header">
          {doc.block.header}
        </pre>
        <p className="small muted">Signature</p>
        <pre className="code-block">{doc.block.signature}</pre>
      </details>
      <details>
        <summary>Signed receipt</summary>
        <pre className="code-block">{doc.receipt.body}</pre>
        <p className="small muted">Signature</p>
        <pre className="code-block">{doc.receipt.signature}</pre>
      </details>
    </section>
  );
}

export function ReceiptPage(props: { id: string }) {
  const loaded = useProof(props.id);
  if (loaded.state === "loading")
    return (
      <div className="page narrow center">
        <Spinner label="Loading receipt" />
      </div>
    );
  if (loaded.state === "failed")
    return (
      <div className="page narrow">
        <Alert kind="error">{loaded.message}</Alert>
      </div>
    );
  const data = loaded.doc.receipt.data ?? (JSON.parse(loaded.doc.receipt.body) as ReceiptData);
  return (
    <div className="page wide receipt-page">
      {loaded.state === "unsealed" ? (
        <section className="card stack receipt-wide" aria-live="polite">
          <div className="row">
            <Spinner label="Waiting for the block" />
            <h2>Waiting for the next block…</h2>
          </div>
          <p className="muted">
            The receipt is signed and will be sealed into the chain within seconds. This page checks it as
            soon as it is.
          </p>
        </section>
      ) : (
        <Verdict verification={loaded.verification} />
      )}
      <section className="card stack" aria-labelledby="receipt-heading">
        <div className="section-header">
          <h2 id="receipt-heading">Receipt</h2>
          <span className="pill pill-off">{kindWords[data.kind] ?? data.kind}</span>
        </div>
        <ReceiptFields data={data} />
      </section>
      {loaded.state === "ready" && <BlockDetails doc={loaded.doc} keyId={loaded.key.keyId} />}
    </div>
  );
}
