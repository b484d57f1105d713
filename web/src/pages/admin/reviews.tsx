/**
 * The screening review queue (admin, compliance), backed by GET /v1/risk/reviews and
 * POST /v1/risk/reviews/{id}/approve|reject. Each held transfer shows why screening held it: the
 * party's name as screened, the listed entry it resembles, the similarity score against the
 * threshold, the list version the decision used, and any rule hits. Approving posts the hold,
 * rejecting voids it; both need a reason, kept with the decision.
 */
import { useCallback, useEffect, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { Icon } from "../../components/icons.tsx";
import { errorMessage, get, request } from "../../lib/api.ts";
import { formatMoney } from "../../lib/money.ts";

interface Screening {
  readonly decision: string;
  readonly partyRole: string;
  readonly partyName: string | null;
  readonly list: string | null;
  readonly listVersion: number | null;
  readonly entryDisplay: string | null;
  readonly entryValue: string | null;
  readonly score: number | null;
  readonly explanation: string;
  readonly ruleHits: readonly { readonly rule: string; readonly explanation: string }[];
}

interface Review {
  readonly id: string;
  readonly state: "open" | "approved" | "rejected" | "expired";
  readonly kind: string;
  readonly from: string;
  readonly to: string;
  readonly amount: string;
  readonly asset: string;
  readonly openedAt: string;
  readonly expiresAt: string;
  readonly decidedAt: string | null;
  readonly reason: string | null;
  readonly ledgerPhase: string | null;
  readonly screening: Screening | null;
}

interface ReviewPage {
  readonly items: readonly Review[];
  readonly nextCursor: string | null;
}

type Filter = "open" | "decided";

function when(iso: string): string {
  return new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

const ruleNames: Record<string, string> = {
  velocity: "Velocity",
  first_counterparty_amount: "Large amount to a first-time counterparty",
};

function MatchDetails(props: { screening: Screening | null }) {
  const s = props.screening;
  if (!s) return <p className="small muted">No screening record.</p>;
  return (
    <dl className="details compact">
      {s.list !== null && (
        <>
          <div>
            <dt>Screened name</dt>
            <dd data-testid="review-party-name">{s.partyName ?? "—"}</dd>
          </div>
          <div>
            <dt>Listed entry</dt>
            <dd data-testid="review-entry">{s.entryDisplay}</dd>
          </div>
          <div>
            <dt>Score</dt>
            <dd data-testid="review-score">{s.score === null ? "—" : s.score.toFixed(3)}</dd>
          </div>
          <div>
            <dt>List</dt>
            <dd data-testid="review-list">
              {s.list} v{s.listVersion}
            </dd>
          </div>
        </>
      )}
      {s.ruleHits.map((hit) => (
        <div key={hit.rule}>
          <dt>{ruleNames[hit.rule] ?? hit.rule}</dt>
          <dd data-testid="review-rule">{hit.explanation}</dd>
        </div>
      ))}
      <div>
        <dt>Why</dt>
        <dd className="small">{s.explanation}</dd>
      </div>
    </dl>
  );
}

function ReviewCard(props: { review: Review; onDecided: () => void }) {
  const { review } = props;
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const decide = async (verdict: "approve" | "reject") => {
    setBusy(true);
    setError(undefined);
    try {
      await request(`/v1/risk/reviews/${review.id}/${verdict}`, { method: "POST", body: { reason } });
      props.onDecided();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };
  const open = review.state === "open";
  return (
    <li className="card letter" data-testid="review" data-id={review.id} data-state={review.state}>
      <div className="letter-head">
        <div className="letter-title">
          <strong>{formatMoney(review.amount, review.asset)}</strong>
          <span className="pill">{review.kind}</span>
          <span className={`pill ${open ? "" : review.state === "approved" ? "pill-good" : "pill-bad"}`}>
            {review.state}
          </span>
        </div>
      </div>
      <dl className="details compact">
        <div>
          <dt>From</dt>
          <dd>
            <code className="wrap">{review.from}</code>
          </dd>
        </div>
        <div>
          <dt>To</dt>
          <dd>
            <code className="wrap">{review.to}</code>
          </dd>
        </div>
        <div>
          <dt>{open ? "Expires" : "Held"}</dt>
          <dd>{when(open ? review.expiresAt : review.openedAt)}</dd>
        </div>
        {review.reason && (
          <div>
            <dt>Reason</dt>
            <dd data-testid="review-reason">{review.reason}</dd>
          </div>
        )}
      </dl>
      <MatchDetails screening={review.screening} />
      {open && (
        <div className="stack">
          <label className="field">
            <span>Reason</span>
            <textarea
              value={reason}
              onChange={(event) => setReason(event.target.value)}
              maxLength={1000}
              rows={2}
              aria-label={`Reason for review ${review.id}`}
            />
          </label>
          {error && <Alert kind="error">{error}</Alert>}
          <div className="row">
            <button
              type="button"
              className="button primary small"
              disabled={busy || reason.trim() === ""}
              onClick={() => void decide("approve")}
            >
              <Icon name="check" size={16} /> Approve
            </button>
            <button
              type="button"
              className="button secondary small"
              disabled={busy || reason.trim() === ""}
              onClick={() => void decide("reject")}
            >
              <Icon name="x" size={16} /> Reject
            </button>
          </div>
        </div>
      )}
    </li>
  );
}

export function ReviewsPage() {
  const [filter, setFilter] = useState<Filter>("open");
  const [items, setItems] = useState<Review[]>();
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();

  const load = useCallback(async (state: Filter, cursor?: string) => {
    try {
      const query = `state=${state}&limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = await get<ReviewPage>(`/v1/risk/reviews?${query}`);
      setItems((before) => [...(cursor ? (before ?? []) : []), ...page.items]);
      setNext(page.nextCursor);
      setError(undefined);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, []);

  useEffect(() => {
    setItems(undefined);
    void load(filter);
  }, [filter, load]);

  return (
    <div className="page wide stack">
      <div className="intro-row">
        <p className="muted intro-text">
          Transfers screening held: the money is reserved, nothing has moved. Approve to post, reject to void;
          undecided holds expire and are voided.
        </p>
        <div className="row">
          {(["open", "decided"] as const).map((state) => (
            <button
              key={state}
              type="button"
              className={`button small ${filter === state ? "primary" : "secondary"}`}
              aria-pressed={filter === state}
              onClick={() => setFilter(state)}
            >
              {state === "open" ? "Open" : "Decided"}
            </button>
          ))}
          <button type="button" className="button secondary small" onClick={() => void load(filter)}>
            <Icon name="refresh" size={16} /> Refresh
          </button>
        </div>
      </div>
      <div aria-live="polite">{message && <Alert kind="success">{message}</Alert>}</div>
      {error && <Alert kind="error">{error}</Alert>}
      {!items && !error && <Spinner label="Loading reviews" />}
      {items && items.length === 0 && (
        <div className="card empty">
          <Icon name="shield" size={32} />
          <p>{filter === "open" ? "No transfers are waiting for review." : "No decided reviews yet."}</p>
        </div>
      )}
      {items && items.length > 0 && (
        <ul className="letters">
          {items.map((review) => (
            <ReviewCard
              key={review.id}
              review={review}
              onDecided={() => {
                setMessage("Decision recorded.");
                void load(filter);
              }}
            />
          ))}
        </ul>
      )}
      {next && (
        <button type="button" className="button secondary small" onClick={() => void load(filter, next)}>
          Load more
        </button>
      )}
    </div>
  );
}
