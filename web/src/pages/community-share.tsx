/**
 * Sharing one connection (PUT/DELETE/GET /v1/community/connections/{id}/share): both participants
 * must agree; until then the button says whose agreement is missing. Once shared, the card is shown
 * from its public URL (an <img> cannot send the bearer token; both agreed to it being public).
 */
import { useEffect, useState } from "react";
import { errorMessage, get, request } from "../lib/api.ts";

interface ShareView {
  readonly you: "officer" | "citizen";
  readonly officerAgreed: boolean;
  readonly citizenAgreed: boolean;
  readonly shared: boolean;
  readonly postings: readonly { target: string; status: "pending" | "delivered" | "failed" }[];
}

/** What became of the posting to the social networks (none configured: nothing to say). */
function postingText(postings: ShareView["postings"]): string {
  if (postings.length === 0) return "";
  if (postings.some((p) => p.status === "failed")) return " · posting failed";
  if (postings.some((p) => p.status === "pending")) return " · posting…";
  return " · posted";
}

function stateText(view: ShareView): string {
  const mine = view.you === "officer" ? view.officerAgreed : view.citizenAgreed;
  const theirs = view.you === "officer" ? view.citizenAgreed : view.officerAgreed;
  if (view.shared) return `Shared${postingText(view.postings)}`;
  if (mine) return "Waiting for the other side to agree";
  return theirs ? "The other side wants to share this" : "Not shared";
}

export function ShareConnection(props: { connectionId: string }) {
  const path = `/v1/community/connections/${props.connectionId}/share`;
  const [view, setView] = useState<ShareView>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  useEffect(() => {
    const abort = new AbortController();
    get<ShareView>(path, abort.signal)
      .then(setView)
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(errorMessage(e));
      });
    return () => abort.abort();
  }, [path]);
  const act = async (method: "PUT" | "DELETE") => {
    setBusy(true);
    try {
      setView((await request<ShareView>(path, { method })).body);
      setError(undefined);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  if (view === undefined) return error ? <span className="muted small">{error}</span> : null;
  const mine = view.you === "officer" ? view.officerAgreed : view.citizenAgreed;
  return (
    <div className="community-item-note community-share" data-testid={`share-${props.connectionId}`}>
      <span className="muted small" role="status">
        {stateText(view)}
      </span>{" "}
      {!view.shared && !mine && (
        <button type="button" className="button secondary small" onClick={() => act("PUT")} disabled={busy}>
          Share
        </button>
      )}
      {!view.shared && mine && (
        <button
          type="button"
          className="button secondary small"
          onClick={() => act("DELETE")}
          disabled={busy}
        >
          Don't share
        </button>
      )}
      {error && <span className="muted small"> {error}</span>}
      {view.shared && (
        <img
          className="share-card"
          src={`/v1/community/shared/${props.connectionId}/card`}
          alt="Share card of this connection"
          width={300}
          height={158}
        />
      )}
    </div>
  );
}
