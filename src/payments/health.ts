/**
 * What one orchestrator instance knows about a gateway's health, from its own calls:
 * - rolling success rate over the last `windowSize` calls;
 * - latency EWMA;
 * - a trend forecast (predictive failover), see `TrendForecaster`.
 *
 * Predictive model (documented in docs/payments.md): Holt's linear exponential smoothing, run on two
 * series per gateway — call latency (ms) and the failure indicator (1 when a call failed, else 0),
 * each first smoothed by an EWMA (α 0.1 and 0.05) so that single slow or failed calls are noise,
 * not trend. Holt keeps a level L and a trend T per observation x:
 *     L' = α·x + (1−α)·(L + T)        T' = β·(L' − L) + (1−β)·T
 * and forecasts h calls ahead as L + h·T. A gateway is *demoted* (its routing score is cut, so
 * traffic drains to others before it fails) when, after `warmupCalls`, the latency forecast exceeds
 * `latencyBreachRatio` × its timeout, or the failure forecast exceeds `errorRateBreach` while the
 * smoothed failure rate is already at least `errorRateFloor` — i.e. when
 * its current trend would breach the timeout or trip the circuit breaker within `horizonCalls`.
 * It is promoted again as soon as the forecast falls back under the thresholds (the exploration
 * share keeps sending it a little traffic, which is what lets the forecast recover).
 */

export interface HealthOptions {
  readonly windowSize: number;
  readonly latencyAlpha: number;
  /** EWMA pre-smoothing of the series the forecasters see. */
  readonly latencyPreAlpha: number;
  readonly errorPreAlpha: number;
  readonly errorRateFloor: number;
  readonly trendAlpha: number;
  readonly trendBeta: number;
  readonly horizonCalls: number;
  readonly warmupCalls: number;
  readonly latencyBreachRatio: number;
  readonly errorRateBreach: number;
}

export const defaultHealthOptions: HealthOptions = {
  windowSize: 50,
  latencyAlpha: 0.2,
  latencyPreAlpha: 0.1,
  errorPreAlpha: 0.05,
  errorRateFloor: 0.1,
  trendAlpha: 0.3,
  trendBeta: 0.1,
  horizonCalls: 20,
  warmupCalls: 10,
  latencyBreachRatio: 0.8,
  errorRateBreach: 0.35,
};

/** Holt's double exponential smoothing of one series. */
export class TrendForecaster {
  #level: number | undefined;
  #trend = 0;
  #count = 0;
  readonly #alpha: number;
  readonly #beta: number;
  constructor(alpha: number, beta: number) {
    this.#alpha = alpha;
    this.#beta = beta;
  }
  observe(x: number): void {
    this.#count++;
    if (this.#level === undefined) {
      this.#level = x;
      return;
    }
    const previous = this.#level;
    this.#level = this.#alpha * x + (1 - this.#alpha) * (previous + this.#trend);
    this.#trend = this.#beta * (this.#level - previous) + (1 - this.#beta) * this.#trend;
  }
  /** Forecast `horizon` observations ahead; undefined before the first one. */
  forecast(horizon: number): number | undefined {
    return this.#level === undefined ? undefined : this.#level + horizon * this.#trend;
  }
  get count(): number {
    return this.#count;
  }
}

export interface HealthSnapshot {
  /** Share of successful calls in the window; undefined without data. */
  readonly successRate: number | undefined;
  readonly latencyEwmaMs: number | undefined;
  readonly forecastLatencyMs: number | undefined;
  readonly forecastErrorRate: number | undefined;
  readonly demoted: boolean;
  readonly demotedBecause?: string;
  readonly inFlight: number;
  readonly calls: number;
}

export class GatewayHealth {
  readonly #options: HealthOptions;
  readonly #window: boolean[] = [];
  #successes = 0;
  #latencyEwmaMs: number | undefined;
  #latencyTrend: TrendForecaster;
  #errorTrend: TrendForecaster;
  #latencySmoothed: number | undefined;
  #errorSmoothed: number | undefined;
  inFlight = 0;

  constructor(options: HealthOptions = defaultHealthOptions) {
    this.#options = options;
    this.#latencyTrend = new TrendForecaster(options.trendAlpha, options.trendBeta);
    this.#errorTrend = new TrendForecaster(options.trendAlpha, options.trendBeta);
  }

  /** Forgets the history (in-flight calls stay counted). */
  reset(): void {
    this.#window.length = 0;
    this.#successes = 0;
    this.#latencyEwmaMs = undefined;
    this.#latencySmoothed = undefined;
    this.#errorSmoothed = undefined;
    this.#latencyTrend = new TrendForecaster(this.#options.trendAlpha, this.#options.trendBeta);
    this.#errorTrend = new TrendForecaster(this.#options.trendAlpha, this.#options.trendBeta);
  }

  /** One finished call: whether the gateway behaved (not whether the customer was declined). */
  record(ok: boolean, latencyMs: number): void {
    this.#window.push(ok);
    if (ok) this.#successes++;
    if (this.#window.length > this.#options.windowSize && this.#window.shift()) this.#successes--;
    const a = this.#options.latencyAlpha;
    this.#latencyEwmaMs =
      this.#latencyEwmaMs === undefined ? latencyMs : a * latencyMs + (1 - a) * this.#latencyEwmaMs;
    const o = this.#options;
    const failure = ok ? 0 : 1;
    this.#latencySmoothed =
      this.#latencySmoothed === undefined
        ? latencyMs
        : o.latencyPreAlpha * latencyMs + (1 - o.latencyPreAlpha) * this.#latencySmoothed;
    this.#errorSmoothed =
      this.#errorSmoothed === undefined
        ? failure
        : o.errorPreAlpha * failure + (1 - o.errorPreAlpha) * this.#errorSmoothed;
    this.#latencyTrend.observe(this.#latencySmoothed);
    this.#errorTrend.observe(this.#errorSmoothed);
  }

  snapshot(timeoutMs: number): HealthSnapshot {
    const o = this.#options;
    const forecastLatencyMs = this.#latencyTrend.forecast(o.horizonCalls);
    const rawError = this.#errorTrend.forecast(o.horizonCalls);
    const forecastErrorRate = rawError === undefined ? undefined : Math.min(1, Math.max(0, rawError));
    let demotedBecause: string | undefined;
    if (this.#latencyTrend.count >= o.warmupCalls) {
      if (forecastLatencyMs !== undefined && forecastLatencyMs > o.latencyBreachRatio * timeoutMs)
        demotedBecause = `latency trend predicts ${Math.round(forecastLatencyMs)}ms > ${Math.round(o.latencyBreachRatio * timeoutMs)}ms within ${o.horizonCalls} calls`;
      else if (
        forecastErrorRate !== undefined &&
        forecastErrorRate > o.errorRateBreach &&
        (this.#errorSmoothed ?? 0) >= o.errorRateFloor
      )
        demotedBecause = `error trend predicts ${(forecastErrorRate * 100).toFixed(0)}% failures within ${o.horizonCalls} calls`;
    }
    return {
      successRate: this.#window.length === 0 ? undefined : this.#successes / this.#window.length,
      latencyEwmaMs: this.#latencyEwmaMs,
      forecastLatencyMs,
      forecastErrorRate,
      demoted: demotedBecause !== undefined,
      ...(demotedBecause === undefined ? {} : { demotedBecause }),
      inFlight: this.inFlight,
      calls: this.#latencyTrend.count,
    };
  }
}
