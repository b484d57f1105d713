/**
 * The signed-in participant's points, connections and trophies (GET /v1/community/connections and
 * /trophies), reloaded whenever the page learns of a new connection or trophy (`version`).
 */
import { useEffect, useState } from "react";
import { Alert, Spinner } from "../components/form.tsx";
import { errorMessage, get } from "../lib/api.ts";
import type { Connection } from "../lib/community.ts";
import { ShareConnection } from "./community-share.tsx";

interface Trophy {
  readonly trophy: string;
  readonly connectionId: string;
  readonly atMs: number;
}

/** "first_connection" → "First connection", "connections_10" → "Connections 10". */
export const trophyName = (code: string) => {
  const words = code.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
};

const connectionsShownMax = 5;

export function CommunityPoints(props: { version: number }) {
  const [data, setData] = useState<{ connections: Connection[]; trophies: Trophy[] }>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    const abort = new AbortController();
    // The version only says "something changed": read again.
    void props.version;
    Promise.all([
      get<{ items: Connection[] }>("/v1/community/connections", abort.signal),
      get<{ items: Trophy[] }>("/v1/community/trophies", abort.signal),
    ])
      .then(([connections, trophies]) => {
        setData({ connections: connections.items, trophies: trophies.items });
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(errorMessage(e));
      });
    return () => abort.abort();
  }, [props.version]);
  if (error) return <Alert kind="error">{error}</Alert>;
  if (!data) return <Spinner label="Loading your points" />;
  const points = data.connections.reduce((sum, c) => sum + BigInt(c.pointsEach), 0n);
  return (
    <section className="card" aria-labelledby="points-heading">
      <h2 id="points-heading">Your points</h2>
      <dl className="details">
        <div>
          <dt>Points earned</dt>
          <dd data-testid="community-points">{points.toLocaleString()}</dd>
        </div>
        <div>
          <dt>Connections</dt>
          <dd data-testid="community-connections">{data.connections.length.toLocaleString()}</dd>
        </div>
      </dl>
      <h3 className="community-subheading">Trophies</h3>
      {data.trophies.length === 0 ? (
        <p className="muted small">No trophies yet: your first connection earns one.</p>
      ) : (
        <ul className="trophy-list" aria-label="Trophies">
          {data.trophies.map((t) => (
            <li key={`${t.trophy}-${t.connectionId}`} className="trophy">
              <span aria-hidden="true">🏆</span> {trophyName(t.trophy)}
            </li>
          ))}
        </ul>
      )}
      {data.connections.length > 0 && (
        <>
          <h3 className="community-subheading">Latest connections</h3>
          <ul className="community-list" aria-label="Latest connections">
            {data.connections.slice(0, connectionsShownMax).map((c) => (
              <li key={c.id} className="community-item">
                <span>{c.kind === "virtual" ? "Virtual" : "In person"}</span>
                <span className="muted small">{new Date(c.atMs).toLocaleString()}</span>
                <span className="numeric">+{c.pointsEach}</span>
                <ShareConnection connectionId={c.id} />
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
