/**
 * A payment's gateway attempts, in order: which gateway, how it ended, how long it took, why the
 * router picked it, and which gateways it passed over and why (explainable routing).
 */
import { attemptResult, type Payment, type PaymentAttempt } from "../lib/payments.ts";

function time(iso: string | undefined): string {
  return iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : "—";
}

export function PaymentAttempts(props: {
  attempts: readonly PaymentAttempt[];
  status: Payment["status"];
  showSkipped?: boolean;
}) {
  const lastNo = props.attempts.at(-1)?.no;
  if (props.attempts.length === 0) return <p className="muted small">No gateway has been called yet.</p>;
  return (
    <ol className="attempts" aria-label="Gateway attempts" data-testid="attempts">
      {props.attempts.map((attempt) => {
        const result = attemptResult(attempt.outcome, { status: props.status, held: attempt.no === lastNo });
        return (
          <li key={attempt.no} className="attempt">
            <div className="attempt-head">
              <span className="attempt-no" aria-hidden="true">
                {attempt.no}
              </span>
              <strong className="attempt-gateway">{attempt.gateway}</strong>
              <span className={`pill pill-${result.tone}`}>{result.words}</span>
              <span className="muted small attempt-time">
                {time(attempt.startedAt)}
                {attempt.latencyMs !== undefined && ` · ${attempt.latencyMs} ms`}
              </span>
            </div>
            <p className="attempt-why">
              <span className="muted">Why this gateway: </span>
              {attempt.why}
            </p>
            {attempt.detail && <p className="small muted">{attempt.detail}</p>}
            {attempt.skipped.length > 0 && (
              <details className="attempt-skipped" open={props.showSkipped}>
                <summary>
                  {attempt.skipped.length} gateway{attempt.skipped.length === 1 ? "" : "s"} passed over
                </summary>
                <ul>
                  {attempt.skipped.map((skip) => (
                    <li key={skip.gateway}>
                      <code>{skip.gateway}</code>: {skip.reason}
                    </li>
                  ))}
                </ul>
              </details>
            )}
          </li>
        );
      })}
    </ol>
  );
}
