/** Dead-letter viewer with replay (admin). Shown only when the server offers /v1/admin/dlq. */
import { useCallback, useEffect, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { Icon } from "../../components/icons.tsx";
import { errorMessage, get, request } from "../../lib/api.ts";
import { itemsOf } from "../../lib/types.ts";

interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string | number;
  readonly key?: string;
  readonly error?: string;
  readonly reason?: string;
  readonly sourceTopic?: string;
  readonly attempts?: number;
  readonly at?: string;
  readonly timestampMs?: number;
  readonly replayed?: boolean;
}

function letterKey(letter: DeadLetter): string {
  return `${letter.topic}/${letter.partition}/${letter.offset}`;
}

export function DeadLettersPage() {
  const [letters, setLetters] = useState<DeadLetter[]>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [busyKey, setBusyKey] = useState<string>();

  const load = useCallback(async () => {
    try {
      setLetters(itemsOf<DeadLetter>(await get<unknown>("/v1/admin/dlq")));
      setError(undefined);
    } catch (caught) {
      setError(errorMessage(caught));
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
      await request(
        `/v1/admin/dlq/${encodeURIComponent(letter.topic)}/${letter.partition}/${encodeURIComponent(String(letter.offset))}/replay`,
        { method: "POST", body: {} },
      );
      setMessage(`Replayed ${key}.`);
      await load();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusyKey(undefined);
    }
  };

  return (
    <div className="page wide">
      <section className="card" aria-labelledby="dlq-heading">
        <div className="section-header">
          <h2 id="dlq-heading">Dead letters</h2>
          <button type="button" className="button secondary small" onClick={() => void load()}>
            <Icon name="refresh" size={16} /> Refresh
          </button>
        </div>
        <p className="muted">
          Messages that failed after every retry. Replay sends one back to its original topic.
        </p>
        {message && <Alert kind="success">{message}</Alert>}
        {error && <Alert kind="error">{error}</Alert>}
        {!letters && !error && <Spinner label="Loading dead letters" />}
        {letters && letters.length === 0 && <p className="muted">The dead-letter topics are empty.</p>}
        {letters && letters.length > 0 && (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Message</th>
                  <th scope="col">Key</th>
                  <th scope="col">Error</th>
                  <th scope="col">When</th>
                  <th scope="col">
                    <span className="visually-hidden">Action</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {letters.map((letter) => (
                  <tr key={letterKey(letter)}>
                    <td className="nowrap">
                      <code>{letterKey(letter)}</code>
                    </td>
                    <td>
                      <code>{letter.key ?? "—"}</code>
                    </td>
                    <td>{letter.error ?? letter.reason ?? "—"}</td>
                    <td className="nowrap">
                      {letter.at ??
                        (letter.timestampMs ? new Date(letter.timestampMs).toLocaleString() : "—")}
                    </td>
                    <td>
                      <button
                        type="button"
                        className="button secondary small"
                        disabled={busyKey !== undefined || letter.replayed === true}
                        onClick={() => void replay(letter)}
                        aria-label={`Replay ${letterKey(letter)}`}
                      >
                        {letter.replayed
                          ? "Replayed"
                          : busyKey === letterKey(letter)
                            ? "Replaying…"
                            : "Replay"}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
