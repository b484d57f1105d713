/** Payment gateways (admin): health, breaker, success rate, latency; enable/disable and weights. */
import { useCallback, useEffect, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { errorMessage, get, request } from "../../lib/api.ts";
import { itemsOf } from "../../lib/types.ts";

interface Gateway {
  readonly id: string;
  readonly name?: string;
  readonly region?: string;
  readonly currencies?: readonly string[];
  readonly enabled: boolean;
  readonly weight?: number;
  readonly breaker?: string;
  readonly healthy?: boolean;
  readonly successRate?: number;
  readonly latencyMs?: number;
  readonly latencyHistoryMs?: readonly number[];
  readonly successHistory?: readonly number[];
}

const refreshMs = 2000;

function Sparkline(props: { values: readonly number[]; label: string }) {
  const { values } = props;
  if (values.length < 2) return null;
  const max = Math.max(...values, 1e-9);
  const min = Math.min(...values, 0);
  const points = values
    .map((value, index) => {
      const x = (index / (values.length - 1)) * 100;
      const y = 28 - ((value - min) / (max - min || 1)) * 26;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
  return (
    <svg
      className="sparkline"
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

export function GatewaysPage() {
  const [gateways, setGateways] = useState<Gateway[]>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();

  const load = useCallback(async () => {
    try {
      setGateways(itemsOf<Gateway>(await get<unknown>("/v1/admin/gateways")));
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

  const patch = async (
    gateway: Gateway,
    change: Partial<Pick<Gateway, "enabled" | "weight">>,
  ): Promise<void> => {
    setBusy(gateway.id);
    try {
      await request(`/v1/admin/gateways/${encodeURIComponent(gateway.id)}`, {
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
      <div className="gateway-grid">
        {gateways?.map((gateway) => (
          <section key={gateway.id} className="card gateway-card" aria-labelledby={`gw-${gateway.id}`}>
            <header className="section-header">
              <h2 id={`gw-${gateway.id}`}>{gateway.name ?? gateway.id}</h2>
              <span
                className={`pill ${gateway.enabled ? (gateway.healthy === false ? "pill-bad" : "pill-good") : "pill-off"}`}
              >
                {gateway.enabled ? (gateway.healthy === false ? "Unhealthy" : "Healthy") : "Disabled"}
              </span>
            </header>
            <dl className="details compact">
              <div>
                <dt>Region</dt>
                <dd>{gateway.region ?? "—"}</dd>
              </div>
              <div>
                <dt>Currencies</dt>
                <dd>{gateway.currencies?.join(", ") ?? "—"}</dd>
              </div>
              <div>
                <dt>Breaker</dt>
                <dd>{gateway.breaker ?? "—"}</dd>
              </div>
              <div>
                <dt>Success</dt>
                <dd>
                  {gateway.successRate !== undefined ? `${(gateway.successRate * 100).toFixed(1)} %` : "—"}
                </dd>
              </div>
              <div>
                <dt>Latency</dt>
                <dd>{gateway.latencyMs !== undefined ? `${gateway.latencyMs.toFixed(0)} ms` : "—"}</dd>
              </div>
            </dl>
            {gateway.successHistory && (
              <Sparkline values={gateway.successHistory} label="Success rate trend" />
            )}
            {gateway.latencyHistoryMs && (
              <Sparkline values={gateway.latencyHistoryMs} label="Latency trend" />
            )}
            <div className="row">
              <label className="switch">
                <input
                  type="checkbox"
                  checked={gateway.enabled}
                  disabled={busy === gateway.id}
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
                    max={100}
                    defaultValue={gateway.weight}
                    onBlur={(event) => {
                      const weight = Number(event.target.value);
                      if (Number.isInteger(weight) && weight !== gateway.weight)
                        void patch(gateway, { weight });
                    }}
                  />
                </label>
              )}
            </div>
          </section>
        ))}
      </div>
    </div>
  );
}
