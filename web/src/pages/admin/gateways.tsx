/**
 * Payment gateways (admin): health, breaker state, success rate and latency with sparklines built
 * from this page's own polls of GET /v1/admin/gateways; enable/disable and re-weight with PATCH.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { errorMessage, get, request } from "../../lib/api.ts";
import { itemsOf } from "../../lib/types.ts";

interface GatewayHealth {
  readonly successRate?: number;
  readonly latencyEwmaMs?: number;
  readonly demoted?: boolean;
  readonly demotedBecause?: string;
  readonly inFlight?: number;
  readonly calls?: number;
}

interface Gateway {
  readonly name: string;
  readonly regions?: readonly string[];
  readonly currencies?: readonly string[];
  readonly methods?: readonly string[];
  readonly enabled: boolean;
  readonly weight?: number;
  readonly costBps?: number;
  readonly breaker?: string;
  readonly health?: GatewayHealth;
}

const refreshMs = 2000;
const historyLength = 60;

interface History {
  readonly successRate: number[];
  readonly latencyMs: number[];
}

function Sparkline(props: { values: readonly number[]; label: string; tone: "good" | "latency" }) {
  const { values } = props;
  if (values.length < 2) return <div className="sparkline-empty muted small">Collecting…</div>;
  const max = Math.max(...values);
  const min = Math.min(...values);
  const points = values
    .map((value, index) => {
      const x = (index / (historyLength - 1)) * 100;
      const y = 28 - ((value - min) / (max - min || 1)) * 26;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
  return (
    <svg
      className={`sparkline sparkline-${props.tone}`}
      viewBox="0 0 100 30"
      preserveAspectRatio="none"
      role="img"
      aria-label={props.label}
    >
      <polyline
        points={points}
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        vectorEffect="non-scaling-stroke"
      />
    </svg>
  );
}

function breakerTone(gateway: Gateway): { label: string; className: string } {
  if (!gateway.enabled) return { label: "Disabled", className: "pill-off" };
  if (gateway.breaker && gateway.breaker.toLowerCase() !== "closed") {
    return { label: `Breaker ${gateway.breaker.toLowerCase()}`, className: "pill-bad" };
  }
  if (gateway.health?.demoted) return { label: "Demoted", className: "pill-warn" };
  return { label: "Healthy", className: "pill-good" };
}

function percent(rate: number | undefined): string {
  return rate === undefined ? "—" : `${(rate * 100).toFixed(1)} %`;
}

export function GatewaysPage() {
  const [gateways, setGateways] = useState<Gateway[]>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const histories = useRef(new Map<string, History>());

  const load = useCallback(async () => {
    try {
      const list = itemsOf<Gateway>(await get<unknown>("/v1/admin/gateways"));
      for (const gateway of list) {
        const history = histories.current.get(gateway.name) ?? { successRate: [], latencyMs: [] };
        if (gateway.health?.successRate !== undefined) history.successRate.push(gateway.health.successRate);
        if (gateway.health?.latencyEwmaMs !== undefined) history.latencyMs.push(gateway.health.latencyEwmaMs);
        history.successRate.splice(0, Math.max(0, history.successRate.length - historyLength));
        history.latencyMs.splice(0, Math.max(0, history.latencyMs.length - historyLength));
        histories.current.set(gateway.name, history);
      }
      setGateways(list);
      setError(undefined);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, []);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), refreshMs);
    return () => clearInterval(timer);
  }, [load]);

  const patch = async (gateway: Gateway, change: { enabled?: boolean; weight?: number }): Promise<void> => {
    setBusy(gateway.name);
    try {
      await request(`/v1/admin/gateways/${encodeURIComponent(gateway.name)}`, {
        method: "PATCH",
        body: change,
      });
      await load();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <div className="page wide">
      {error && <Alert kind="error">{error}</Alert>}
      {!gateways && !error && <Spinner label="Loading gateways" />}
      {gateways && gateways.length === 0 && <p className="muted">No gateways are registered.</p>}
      <div className="gateway-grid">
        {gateways?.map((gateway) => {
          const tone = breakerTone(gateway);
          const history = histories.current.get(gateway.name);
          const headingId = `gw-${gateway.name.replace(/[^A-Za-z0-9_-]/g, "")}`;
          return (
            <section key={gateway.name} className="card gateway-card" aria-labelledby={headingId}>
              <header className="section-header">
                <h2 id={headingId}>{gateway.name}</h2>
                <span className={`pill ${tone.className}`} data-testid="gateway-state">
                  {tone.label}
                </span>
              </header>
              <dl className="details compact">
                <div>
                  <dt>Regions</dt>
                  <dd>{gateway.regions?.join(", ") || "—"}</dd>
                </div>
                <div>
                  <dt>Currencies</dt>
                  <dd>{gateway.currencies?.join(", ") || "—"}</dd>
                </div>
                <div>
                  <dt>In flight / calls</dt>
                  <dd>
                    {gateway.health?.inFlight ?? 0} / {gateway.health?.calls ?? 0}
                  </dd>
                </div>
              </dl>
              {gateway.health?.demotedBecause && (
                <Alert kind="warning">{gateway.health.demotedBecause}</Alert>
              )}
              <div className="spark-row">
                <div>
                  <p className="small muted">Success rate</p>
                  <p className="spark-value">{percent(gateway.health?.successRate)}</p>
                  <Sparkline values={history?.successRate ?? []} label="Success rate trend" tone="good" />
                </div>
                <div>
                  <p className="small muted">Latency (EWMA)</p>
                  <p className="spark-value">
                    {gateway.health?.latencyEwmaMs === undefined
                      ? "—"
                      : `${gateway.health.latencyEwmaMs.toFixed(0)} ms`}
                  </p>
                  <Sparkline values={history?.latencyMs ?? []} label="Latency trend" tone="latency" />
                </div>
              </div>
              <div className="row">
                <label className="switch">
                  <input
                    type="checkbox"
                    checked={gateway.enabled}
                    disabled={busy === gateway.name}
                    onChange={(event) => void patch(gateway, { enabled: event.target.checked })}
                  />
                  <span>Enabled</span>
                </label>
                {gateway.weight !== undefined && (
                  <label className="inline-field">
                    Weight
                    <input
                      type="number"
                      min={0}
                      max={1000}
                      defaultValue={gateway.weight}
                      onBlur={(event) => {
                        const weight = Number(event.target.value);
                        if (Number.isInteger(weight) && weight >= 0 && weight !== gateway.weight) {
                          void patch(gateway, { weight });
                        }
                      }}
                    />
                  </label>
                )}
              </div>
            </section>
          );
        })}
      </div>
    </div>
  );
}
