/**
 * Live operations dashboard: throughput, latency percentiles, and outcomes over time. Two questions
 * are kept apart: did the platform work (technical success: every command decided, none lost to an
 * error) and what did it decide (business outcomes: confirmed, or rejected by a rule such as
 * insufficient funds). A rejection the rules asked for is the platform working, not a failure.
 */
import { useEffect, useMemo, useState } from "react";
import { type ChartSeries, TimeChart } from "../../components/chart.tsx";
import { Alert, Spinner } from "../../components/form.tsx";
import { ApiError, errorMessage, get } from "../../lib/api.ts";
import { fetchGateways, type Gateway, gatewayState, percent } from "../../lib/gateways.ts";
import { reasonInWords } from "../../lib/reasons.ts";
import { Link } from "../../lib/router.tsx";
import { useApp } from "../../state.tsx";

interface StatsPoint {
  readonly t: number;
  readonly transfersPerSec: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly outcomes: { readonly confirmed: number; readonly failed: Readonly<Record<string, number>> };
}

interface Stats {
  readonly windowSeconds: number;
  readonly series: readonly StatsPoint[];
}

const pollMs = 2000;
const reasonColors = ["#d64545", "#e8833a", "#b5489b", "#7a5af5", "#c9a227", "#3f8fd6"];
/** Reasons that mean the platform could not do its job (as opposed to a business rule saying no). */
const technicalReasons: ReadonlySet<string> = new Set([
  "unavailable",
  "timeout",
  "internal",
  "dead_lettered",
]);

function useStats(): { stats: Stats | undefined; error: string | undefined; missing: boolean } {
  const [stats, setStats] = useState<Stats>();
  const [error, setError] = useState<string>();
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      try {
        const next = await get<Stats>("/v1/admin/stats");
        if (stopped) return;
        setStats(next);
        setError(undefined);
      } catch (caught) {
        if (stopped) return;
        if (caught instanceof ApiError && caught.status === 404) {
          setMissing(true);
          return;
        }
        setError(errorMessage(caught));
      }
      if (!stopped) timer = setTimeout(() => void tick(), pollMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  return { stats, error, missing };
}

const secondMs = 1000;

/** Gateway health at a glance, polled with the statistics; details live on the gateways page. */
function useGateways(enabled: boolean): Gateway[] | undefined {
  const [gateways, setGateways] = useState<Gateway[]>();
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      try {
        const list = await fetchGateways();
        if (!stopped) setGateways(list);
      } catch {
        // The statistics' own error line says when the server is unreachable.
      }
      if (!stopped) timer = setTimeout(() => void tick(), pollMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [enabled]);
  return gateways;
}

function GatewayStrip(props: { gateways: readonly Gateway[] }) {
  const available = props.gateways.filter((gateway) => gatewayState(gateway).available).length;
  const tone = available === props.gateways.length ? "good" : available === 0 ? "bad" : "warn";
  return (
    <section className="card gateway-strip" aria-labelledby="gateway-strip-heading">
      <div className="section-header">
        <h2 id="gateway-strip-heading">Payment gateways</h2>
        <span className={`pill pill-${tone}`} data-testid="gateways-available">
          {available} of {props.gateways.length} available
        </span>
      </div>
      <ul className="gateway-chips">
        {props.gateways.map((gateway) => {
          const state = gatewayState(gateway);
          return (
            <li
              key={gateway.name}
              className={`gateway-chip chip-${state.tone}`}
              data-testid={`chip-${gateway.name}`}
            >
              <span className="dot" aria-hidden="true" />
              <span className="chip-name">{gateway.name}</span>
              <span className="chip-state">{state.label}</span>
              <span className="chip-rate muted">{percent(gateway.health?.successRate)}</span>
            </li>
          );
        })}
      </ul>
      <Link href="/admin/gateways" className="text-link small">
        Manage gateways
      </Link>
    </section>
  );
}

function BackOfficeLinks() {
  const { features } = useApp();
  const links = [
    { href: "/admin/transactions", label: "Latest transactions", shown: true },
    { href: "/admin/gateways", label: "Gateways", shown: features.gateways },
    { href: "/admin/payments", label: "Payment lookup", shown: features.payments },
    { href: "/admin/dlq", label: "Dead letters", shown: features.deadLetters },
  ].filter((link) => link.shown);
  return (
    <nav className="card back-office-links" aria-label="More back office">
      <ul>
        {links.map((link) => (
          <li key={link.href}>
            <Link href={link.href}>{link.label}</Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/**
 * The server lists only seconds in which something was decided; an idle second is zero traffic
 * (and no latency sample), so the charts get one point per second with those filled in.
 */
function perSecond(points: readonly StatsPoint[]): StatsPoint[] {
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last) return [];
  const bySecond = new Map(points.map((point) => [Math.floor(point.t / secondMs), point]));
  const filled: StatsPoint[] = [];
  for (let second = Math.floor(first.t / secondMs); second <= Math.floor(last.t / secondMs); second += 1) {
    filled.push(
      bySecond.get(second) ?? {
        t: second * secondMs,
        transfersPerSec: 0,
        p50Ms: null,
        p99Ms: null,
        outcomes: { confirmed: 0, failed: {} },
      },
    );
  }
  return filled;
}

function format(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return value.toLocaleString([], { maximumFractionDigits: digits });
}

function shareText(percent: number | null): string {
  return percent === null ? "" : `${format(percent, 0)} %`;
}

function successTone(percent: number): "good" | "warn" | "bad" {
  if (percent >= 99) return "good";
  return percent >= 90 ? "warn" : "bad";
}

function Kpi(props: { label: string; value: string; unit?: string; tone?: "good" | "warn" | "bad" }) {
  return (
    <div className={`kpi${props.tone ? ` kpi-${props.tone}` : ""}`}>
      <dt>{props.label}</dt>
      <dd>
        <span className="kpi-value">{props.value}</span>
        {props.unit && <span className="kpi-unit">{props.unit}</span>}
      </dd>
    </div>
  );
}

export function DashboardPage() {
  const { stats, error, missing } = useStats();
  const { features } = useApp();
  const gateways = useGateways(features.gateways);

  const derived = useMemo(() => {
    const series = perSecond(stats?.series ?? []);
    const times = series.map((point) => point.t);
    const reasons = [...new Set(series.flatMap((point) => Object.keys(point.outcomes.failed)))].sort();
    let confirmed = 0;
    const failedByReason = new Map<string, number>();
    for (const point of series) {
      confirmed += point.outcomes.confirmed;
      for (const [reason, count] of Object.entries(point.outcomes.failed)) {
        failedByReason.set(reason, (failedByReason.get(reason) ?? 0) + count);
      }
    }
    let technical = 0;
    let rejected = 0;
    for (const [reason, count] of failedByReason) {
      if (technicalReasons.has(reason)) technical += count;
      else rejected += count;
    }
    const throughput: ChartSeries[] = [
      {
        label: "Transfers/s",
        color: "#2f5bea",
        values: series.map((point) => point.transfersPerSec),
        fill: true,
      },
    ];
    const latency: ChartSeries[] = [
      { label: "p50", color: "#11a683", values: series.map((point) => point.p50Ms), sparse: true },
      { label: "p99", color: "#e8833a", values: series.map((point) => point.p99Ms), sparse: true },
    ];
    const confirmedSeries: ChartSeries[] = [
      {
        label: "Confirmed",
        color: "#11a683",
        values: series.map((point) => point.outcomes.confirmed),
        fill: true,
      },
    ];
    const rejectedSeries: ChartSeries[] = reasons.map((reason, index) => ({
      label: reason,
      color: reasonColors[index % reasonColors.length] ?? "#d64545",
      values: series.map((point) => point.outcomes.failed[reason] ?? 0),
    }));
    const latest = stats?.series.at(-1);
    return {
      times,
      throughput,
      latency,
      confirmedSeries,
      rejectedSeries,
      confirmed,
      rejected,
      technical,
      failedByReason,
      latest,
    };
  }, [stats]);

  if (missing) {
    return (
      <div className="page">
        <Alert kind="info">The statistics endpoint is not available on this server.</Alert>
      </div>
    );
  }
  if (!stats) return error ? <Alert kind="error">{error}</Alert> : <Spinner label="Loading statistics" />;

  const decided = derived.confirmed + derived.rejected;
  const total = decided + derived.technical;
  // Technical success: commands the platform decided, whichever way, out of all it was given.
  const technicalRate = total === 0 ? null : (decided / total) * 100;
  const confirmedShare = decided === 0 ? null : (derived.confirmed / decided) * 100;
  const { latest } = derived;

  return (
    <div className="page wide">
      {error && <Alert kind="warning">Live refresh interrupted: {error}</Alert>}
      {stats.series.length === 0 && (
        <Alert kind="info">
          Nothing decided in the last {stats.windowSeconds} s. The charts fill in as transfers arrive.
        </Alert>
      )}
      <dl className="kpis" aria-label="Current figures">
        <Kpi label="Throughput" value={format(latest?.transfersPerSec)} unit="/s" />
        <Kpi label="Latency p50" value={format(latest?.p50Ms)} unit="ms" />
        <Kpi label="Latency p99" value={format(latest?.p99Ms)} unit="ms" />
        <Kpi
          label="Processed without error"
          value={format(technicalRate)}
          unit="%"
          {...(technicalRate === null ? {} : { tone: successTone(technicalRate) })}
        />
        <Kpi label="Confirmed" value={derived.confirmed.toLocaleString()} unit={shareText(confirmedShare)} />
        <Kpi
          label="Rejected by a rule"
          value={derived.rejected.toLocaleString()}
          unit={shareText(confirmedShare === null ? null : 100 - confirmedShare)}
        />
      </dl>
      {gateways && gateways.length > 0 && <GatewayStrip gateways={gateways} />}
      <div className="chart-grid">
        <figure className="card chart-card">
          <figcaption>
            <h2>Throughput</h2>
            <span className="muted small">transfers per second, now {format(latest?.transfersPerSec)}</span>
          </figcaption>
          <TimeChart timesMs={derived.times} series={derived.throughput} />
        </figure>
        <figure className="card chart-card">
          <figcaption>
            <h2>Latency</h2>
            <span className="muted small">
              accepted → confirmed, p50 {format(latest?.p50Ms)} ms, p99 {format(latest?.p99Ms)} ms
            </span>
          </figcaption>
          <TimeChart timesMs={derived.times} series={derived.latency} unit=" ms" />
        </figure>
        <figure className="card chart-card">
          <figcaption>
            <h2>Confirmed</h2>
            <span className="muted small">
              transfers confirmed per second; {derived.confirmed.toLocaleString()} in the last{" "}
              {stats.windowSeconds} s
            </span>
          </figcaption>
          <TimeChart timesMs={derived.times} series={derived.confirmedSeries} />
        </figure>
        <figure className="card chart-card">
          <figcaption>
            <h2>Rejected</h2>
            <span className="muted small">
              {derived.rejectedSeries.length === 0
                ? `no rejections in the last ${stats.windowSeconds} s`
                : `rejections per second by reason (a business rule said no); ${derived.rejected.toLocaleString()} in the last ${stats.windowSeconds} s`}
            </span>
          </figcaption>
          {derived.rejectedSeries.length > 0 ? (
            <TimeChart timesMs={derived.times} series={derived.rejectedSeries} />
          ) : (
            <p className="chart-empty muted">Nothing rejected.</p>
          )}
        </figure>
      </div>
      <section className="card" aria-labelledby="reasons-heading">
        <h2 id="reasons-heading">Rejections and errors by reason</h2>
        {derived.failedByReason.size === 0 ? (
          <p className="muted">Nothing rejected in the window.</p>
        ) : (
          <table className="table stacked">
            <thead>
              <tr>
                <th scope="col">Reason</th>
                <th scope="col">Meaning</th>
                <th scope="col">Kind</th>
                <th scope="col" className="numeric">
                  Count
                </th>
              </tr>
            </thead>
            <tbody>
              {[...derived.failedByReason.entries()]
                .sort((a, b) => b[1] - a[1])
                .map(([reason, count]) => (
                  <tr key={reason}>
                    <td data-label="Reason" className="cell-title">
                      <code>{reason}</code>
                    </td>
                    <td data-label="Meaning">{reasonInWords(reason)}</td>
                    <td data-label="Kind">{technicalReasons.has(reason) ? "Error" : "Business rule"}</td>
                    <td data-label="Count" className="numeric cell-amount">
                      {count.toLocaleString()}
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        )}
      </section>
      <BackOfficeLinks />
    </div>
  );
}
