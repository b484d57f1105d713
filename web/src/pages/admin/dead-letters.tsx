/**
 * Dead-letter viewer with replay (admin), backed by GET /v1/admin/dlq and
 * POST /v1/admin/dlq/{topic}/{partition}/{offset}/replay. Each record shows where it came from, the
 * error that stopped it and a preview of its value; a replay sends it back to its original topic
 * (handlers are idempotent, so replaying again is harmless) and the list marks it replayed.
 */
import { useCallback, useEffect, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { Icon } from "../../components/icons.tsx";
import { errorMessage, get, request } from "../../lib/api.ts";

interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly original: { readonly topic: string; readonly partition: number; readonly offset: string } | null;
  readonly errorCode: string;
  readonly error: string;
  readonly attempts: number | null;
  readonly at: string;
  readonly key: string;
  readonly value: {
    readonly decoded: boolean;
    readonly preview: string;
    readonly truncated: boolean;
    readonly bytes: number;
    readonly note?: string;
  };
  readonly replays: number;
  readonly replayed: boolean;
  readonly lastReplayedAt: string | null;
}

interface DeadLetterList {
  readonly topics: readonly string[];
  readonly items: readonly DeadLetter[];
}

function letterKey(letter: DeadLetter): string {
  return `${letter.topic}/${letter.partition}/${letter.offset}`;
}

function when(iso: string): string {
  return new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "medium" });
}

function LetterCard(props: { letter: DeadLetter; busy: boolean; disabled: boolean; onReplay: () => void }) {
  const { letter } = props;
  const origin = letter.original
    ? `${letter.original.topic} · partition ${letter.original.partition} · offset ${letter.original.offset}`
    : "unknown origin";
  return (
    <li className="card letter" data-testid="dead-letter" data-key={letter.key}>
      <div className="letter-head">
        <div className="letter-title">
          <strong>{letter.original?.topic ?? letter.topic}</strong>
          <span className="pill pill-bad">{letter.errorCode || "error"}</span>
          {letter.replayed && (
            <span className="pill pill-good" data-testid="replayed">
              Replayed{letter.replays > 1 ? ` ×${letter.replays}` : ""}
            </span>
          )}
        </div>
        <button
          type="button"
          className="button secondary small"
          disabled={props.disabled || letter.original === null}
          onClick={props.onReplay}
          aria-label={`${letter.replayed ? "Replay again" : "Replay"} ${letterKey(letter)}`}
        >
          <Icon name="replay" size={16} />
          {props.busy ? "Replaying…" : letter.replayed ? "Replay again" : "Replay"}
        </button>
      </div>
      <p className="letter-error">{letter.error || "No error message"}</p>
      <dl className="details compact letter-meta">
        <div>
          <dt>From</dt>
          <dd>{origin}</dd>
        </div>
        <div>
          <dt>Dead-lettered</dt>
          <dd>
            {when(letter.at)}
            {letter.attempts !== null &&
              ` after ${letter.attempts} attempt${letter.attempts === 1 ? "" : "s"}`}
          </dd>
        </div>
        <div>
          <dt>Key</dt>
          <dd>
            <code className="wrap">{letter.key || "—"}</code>
          </dd>
        </div>
        <div>
          <dt>Position</dt>
          <dd>
            <code className="wrap">{letterKey(letter)}</code>
          </dd>
        </div>
        {letter.lastReplayedAt && (
          <div>
            <dt>Last replayed</dt>
            <dd>{when(letter.lastReplayedAt)}</dd>
          </div>
        )}
      </dl>
      <details>
        <summary>
          Value · {letter.value.bytes} bytes{letter.value.decoded ? "" : ", not decodable"}
        </summary>
        {letter.value.note && <p className="small muted">{letter.value.note}</p>}
        <pre className="code-block" data-testid="dead-letter-value">
          {letter.value.preview}
          {letter.value.truncated ? " …" : ""}
        </pre>
      </details>
    </li>
  );
}

export function DeadLettersPage() {
  const [list, setList] = useState<DeadLetterList>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [busyKey, setBusyKey] = useState<string>();
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setList(await get<DeadLetterList>("/v1/admin/dlq"));
      setError(undefined);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const replay = async (letter: DeadLetter): Promise<void> => {
    const key = letterKey(letter);
    setBusyKey(key);
    setMessage(undefined);
    try {
      const answer = await request<{ to: { topic: string; partition: number; offset: string } }>(
        `/v1/admin/dlq/${encodeURIComponent(letter.topic)}/${letter.partition}/${encodeURIComponent(letter.offset)}/replay`,
        { method: "POST", body: {} },
      );
      const to = answer.body.to;
      setMessage(`Replayed to ${to.topic}, partition ${to.partition}, offset ${to.offset}.`);
      await load();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusyKey(undefined);
    }
  };

  const items = list?.items ?? [];
  return (
    <div className="page wide stack">
      <div className="intro-row">
        <p className="muted intro-text">
          Records that failed for good, from every topic. Replay sends one back where it came from; processing
          is idempotent, so nothing is applied twice.
        </p>
        <button
          type="button"
          className="button secondary small"
          onClick={() => void load()}
          disabled={loading}
        >
          <Icon name="refresh" size={16} /> Refresh
        </button>
      </div>
      <div aria-live="polite">{message && <Alert kind="success">{message}</Alert>}</div>
      {error && <Alert kind="error">{error}</Alert>}
      {!list && !error && <Spinner label="Loading dead letters" />}
      {list && items.length === 0 && (
        <div className="card empty">
          <Icon name="inbox" size={32} />
          <p>Nothing has been dead-lettered. All {list.topics.length} dead-letter topics are empty.</p>
        </div>
      )}
      {items.length > 0 && (
        <>
          <p className="small muted" data-testid="dead-letter-count">
            {items.length} dead-lettered record{items.length === 1 ? "" : "s"},{" "}
            {items.filter((letter) => letter.replayed).length} replayed
          </p>
          <ul className="letters">
            {items.map((letter) => (
              <LetterCard
                key={letterKey(letter)}
                letter={letter}
                busy={busyKey === letterKey(letter)}
                disabled={busyKey !== undefined}
                onReplay={() => void replay(letter)}
              />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
