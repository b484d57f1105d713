/**
 * Payment gateways (admin), backed by /v1/admin/gateways: health, breaker state, success rate and
 * latency with sparklines built from this page's own polls; enable/disable, weight, routing rules
 * (regions, currencies, methods, amount limits, cost, timeout), add and remove. Every change is a
 * PATCH/POST/DELETE that every orchestrator instance learns through the log, without a restart.
 */
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { Icon } from "../../components/icons.tsx";
import { errorMessage, request } from "../../lib/api.ts";
import { fetchGateways, type Gateway, gatewayState, milliseconds, percent } from "../../lib/gateways.ts";

const refreshMs = 2000;
const historyLength = 60;

interface History {
  readonly successRate: number[];
  readonly latencyMs: number[];
}

function Sparkline(props: {
  values: readonly number[];
  label: string;
  tone: "good" | "latency";
  fixedMax?: number;
}) {
  const { values } = props;
  if (values.length < 2) return <div className="sparkline-empty muted small">Collecting…</div>;
  // A rate is drawn on a fixed scale (so 100 % looks like 100 %), down to its lowest value or 90 %.
  const max = props.fixedMax ?? Math.max(...values);
  const min = props.fixedMax === undefined ? Math.min(...values) : Math.min(0.9, ...values);
  const coordinates = values.map((value, index) => {
    const x = (index / (values.length - 1)) * 100;
    const y = 34 - ((value - min) / (max - min || 1)) * 30;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const line = coordinates.join(" ");
  return (
    <svg
      className={`sparkline sparkline-${props.tone}`}
      viewBox="0 0 100 36"
      preserveAspectRatio="none"
      role="img"
      aria-label={props.label}
    >
      <polygon points={`0,36 ${line} 100,36`} fill="currentColor" opacity="0.12" />
      <polyline
        points={line}
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        vectorEffect="non-scaling-stroke"
      />
    </svg>
  );
}

const listText = (values: readonly string[]) => values.join(", ");
const listOf = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);

interface RulesDraft {
  regions: string;
  currencies: string;
  methods: string;
  amountMin: string;
  amountMax: string;
  costBps: string;
  timeoutMs: string;
}

function draftOf(gateway: Gateway): RulesDraft {
  return {
    regions: listText(gateway.regions),
    currencies: listText(gateway.currencies),
    methods: listText(gateway.methods),
    amountMin: gateway.amountMin,
    amountMax: gateway.amountMax ?? "",
    costBps: String(gateway.costBps),
    timeoutMs: String(gateway.timeoutMs),
  };
}

function rulesPatch(draft: RulesDraft) {
  return {
    regions: listOf(draft.regions.toUpperCase()),
    currencies: listOf(draft.currencies.toUpperCase()),
    methods: listOf(draft.methods.toLowerCase()),
    amountMin: draft.amountMin.trim() || "1",
    amountMax: draft.amountMax.trim() === "" ? null : draft.amountMax.trim(),
    costBps: Number(draft.costBps),
    timeoutMs: Number(draft.timeoutMs),
  };
}

function TextInput(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: string;
  inputMode?: "numeric" | "text" | "url";
  required?: boolean;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        value={props.value}
        inputMode={props.inputMode ?? "text"}
        autoComplete="off"
        spellCheck={false}
        required={props.required}
        onChange={(event) => props.onChange(event.target.value)}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
      />
      {props.hint && (
        <p className="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

function RulesEditor(props: {
  gateway: Gateway;
  busy: boolean;
  onSave: (patch: object) => Promise<boolean>;
}) {
  const [draft, setDraft] = useState<RulesDraft>(() => draftOf(props.gateway));
  const id = (field: string) => `rules-${props.gateway.name}-${field}`;
  const set = (field: keyof RulesDraft) => (value: string) => setDraft((d) => ({ ...d, [field]: value }));
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    await props.onSave(rulesPatch(draft));
  };
  return (
    <form className="rules-form" onSubmit={submit}>
      <div className="rules-grid">
        <TextInput id={id("regions")} label="Regions" value={draft.regions} onChange={set("regions")} />
        <TextInput
          id={id("currencies")}
          label="Currencies"
          value={draft.currencies}
          onChange={set("currencies")}
        />
        <TextInput id={id("methods")} label="Methods" value={draft.methods} onChange={set("methods")} />
        <TextInput
          id={id("min")}
          label="Min amount (minor units)"
          value={draft.amountMin}
          onChange={set("amountMin")}
          inputMode="numeric"
        />
        <TextInput
          id={id("max")}
          label="Max amount (empty: none)"
          value={draft.amountMax}
          onChange={set("amountMax")}
          inputMode="numeric"
        />
        <TextInput
          id={id("cost")}
          label="Cost (bps)"
          value={draft.costBps}
          onChange={set("costBps")}
          inputMode="numeric"
        />
        <TextInput
          id={id("timeout")}
          label="Timeout (ms)"
          value={draft.timeoutMs}
          onChange={set("timeoutMs")}
          inputMode="numeric"
        />
      </div>
      <button type="submit" className="button secondary small" disabled={props.busy}>
        Save rules
      </button>
    </form>
  );
}

function GatewayCard(props: {
  gateway: Gateway;
  history: History | undefined;
  busy: boolean;
  patch: (gateway: Gateway, change: object) => Promise<boolean>;
  remove: (gateway: Gateway) => Promise<void>;
}) {
  const { gateway, history, busy } = props;
  const state = gatewayState(gateway);
  const [weight, setWeight] = useState(String(gateway.weight));
  const [confirming, setConfirming] = useState(false);
  // The switch follows the click at once; the server's answer (or a failure) settles it.
  const [enabledDraft, setEnabledDraft] = useState<boolean>();
  useEffect(() => setWeight(String(gateway.weight)), [gateway.weight]);
  const headingId = `gw-${gateway.name}`;
  const weightValue = Number(weight);
  const weightValid =
    weight.trim() !== "" && Number.isFinite(weightValue) && weightValue >= 0 && weightValue <= 1_000_000;

  return (
    <section
      className={`card gateway-card gateway-${state.tone}`}
      aria-labelledby={headingId}
      data-testid={`gateway-${gateway.name}`}
    >
      <header className="section-header">
        <div>
          <h2 id={headingId}>{gateway.name}</h2>
          <p className="small muted gateway-url">{gateway.url}</p>
        </div>
        <span className={`pill pill-${state.tone}`} data-testid="gateway-state">
          {state.label}
        </span>
      </header>
      <div className="spark-row">
        <div>
          <p className="small muted">Success rate</p>
          <p className="spark-value">{percent(gateway.health?.successRate)}</p>
          <Sparkline
            values={history?.successRate ?? []}
            label={`${gateway.name} success rate trend`}
            tone="good"
            fixedMax={1}
          />
        </div>
        <div>
          <p className="small muted">Latency (EWMA)</p>
          <p className="spark-value">{milliseconds(gateway.health?.latencyEwmaMs)}</p>
          <Sparkline
            values={history?.latencyMs ?? []}
            label={`${gateway.name} latency trend`}
            tone="latency"
          />
        </div>
      </div>
      <dl className="details compact">
        <div>
          <dt>Breaker</dt>
          <dd>{(gateway.breaker ?? "closed").replace("_", "-")}</dd>
        </div>
        <div>
          <dt>In flight / calls</dt>
          <dd>
            {gateway.health?.inFlight ?? 0} / {gateway.health?.calls ?? 0}
          </dd>
        </div>
        <div>
          <dt>Serves</dt>
          <dd>
            {listText(gateway.currencies)} in {listText(gateway.regions)}
          </dd>
        </div>
        <div>
          <dt>Methods</dt>
          <dd>{listText(gateway.methods).replaceAll("_", " ")}</dd>
        </div>
      </dl>
      {gateway.health?.demotedBecause && <Alert kind="warning">{gateway.health.demotedBecause}</Alert>}
      <div className="gateway-controls">
        <label className="switch">
          <input
            type="checkbox"
            checked={enabledDraft ?? gateway.enabled}
            disabled={busy}
            aria-label={`${gateway.name} enabled`}
            onChange={(event) => {
              const enabled = event.target.checked;
              setEnabledDraft(enabled);
              void props.patch(gateway, { enabled }).finally(() => setEnabledDraft(undefined));
            }}
          />
          <span>Enabled</span>
        </label>
        <form
          className="inline-field"
          onSubmit={(event) => {
            event.preventDefault();
            if (weightValid && weightValue !== gateway.weight)
              void props.patch(gateway, { weight: weightValue });
          }}
        >
          <label htmlFor={`weight-${gateway.name}`}>Weight</label>
          <input
            id={`weight-${gateway.name}`}
            type="number"
            min={0}
            max={1_000_000}
            value={weight}
            onChange={(event) => setWeight(event.target.value)}
            aria-invalid={weightValid ? undefined : true}
          />
          <button
            type="submit"
            className="button secondary small"
            disabled={busy || !weightValid || weightValue === gateway.weight}
          >
            Set
          </button>
        </form>
      </div>
      <details className="gateway-rules">
        <summary>Routing rules</summary>
        <RulesEditor gateway={gateway} busy={busy} onSave={(change) => props.patch(gateway, change)} />
      </details>
      <div className="row gateway-remove">
        {confirming ? (
          <>
            <span className="small">Remove {gateway.name}? Payments it holds still finish.</span>
            <button
              type="button"
              className="button danger small"
              disabled={busy}
              onClick={() => void props.remove(gateway)}
            >
              Remove
            </button>
            <button type="button" className="button ghost small" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </>
        ) : (
          <button
            type="button"
            className="button ghost small"
            onClick={() => setConfirming(true)}
            aria-label={`Remove ${gateway.name}`}
          >
            <Icon name="trash" size={16} /> Remove
          </button>
        )}
      </div>
    </section>
  );
}

function randomSecret(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

function AddGateway(props: { onAdded: (name: string) => Promise<void> }) {
  const [open, setOpen] = useState(false);
  const [fields, setFields] = useState({
    name: "",
    url: "https://",
    regions: "EU",
    currencies: "EUR",
    methods: "sepa_instant",
    weight: "100",
    costBps: "0",
    timeoutMs: "2000",
    callbackSecret: "",
  });
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const set = (field: keyof typeof fields) => (value: string) => setFields((f) => ({ ...f, [field]: value }));

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await request("/v1/admin/gateways", {
        body: {
          name: fields.name.trim(),
          url: fields.url.trim(),
          regions: listOf(fields.regions.toUpperCase()),
          currencies: listOf(fields.currencies.toUpperCase()),
          methods: listOf(fields.methods.toLowerCase()),
          weight: Number(fields.weight),
          costBps: Number(fields.costBps),
          timeoutMs: Number(fields.timeoutMs),
          callbackSecret: fields.callbackSecret || randomSecret(),
        },
      });
      await props.onAdded(fields.name.trim());
      setFields((f) => ({ ...f, name: "", url: "https://", callbackSecret: "" }));
      setOpen(false);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  if (!open)
    return (
      <button type="button" className="button primary" onClick={() => setOpen(true)}>
        <Icon name="plus" /> Add gateway
      </button>
    );
  return (
    <form className="card stack add-gateway" onSubmit={submit} aria-labelledby="add-gateway-heading">
      <h2 id="add-gateway-heading">Add a gateway</h2>
      {error && <Alert kind="error">{error}</Alert>}
      <div className="rules-grid">
        <TextInput
          id="new-name"
          label="Name"
          value={fields.name}
          onChange={set("name")}
          hint="lowercase, digits, dashes"
          required
        />
        <TextInput
          id="new-url"
          label="URL"
          value={fields.url}
          onChange={set("url")}
          inputMode="url"
          required
        />
        <TextInput id="new-regions" label="Regions" value={fields.regions} onChange={set("regions")} />
        <TextInput
          id="new-currencies"
          label="Currencies"
          value={fields.currencies}
          onChange={set("currencies")}
        />
        <TextInput id="new-methods" label="Methods" value={fields.methods} onChange={set("methods")} />
        <TextInput
          id="new-weight"
          label="Weight"
          value={fields.weight}
          onChange={set("weight")}
          inputMode="numeric"
        />
        <TextInput
          id="new-cost"
          label="Cost (bps)"
          value={fields.costBps}
          onChange={set("costBps")}
          inputMode="numeric"
        />
        <TextInput
          id="new-timeout"
          label="Timeout (ms)"
          value={fields.timeoutMs}
          onChange={set("timeoutMs")}
          inputMode="numeric"
        />
        <TextInput
          id="new-secret"
          label="Callback secret"
          value={fields.callbackSecret}
          onChange={set("callbackSecret")}
          hint="Leave empty to generate one"
        />
      </div>
      <div className="row">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Adding…" : "Add gateway"}
        </button>
        <button type="button" className="button ghost" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function GatewaysPage() {
  const [gateways, setGateways] = useState<Gateway[]>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const histories = useRef(new Map<string, History>());

  const load = useCallback(async () => {
    try {
      const list = await fetchGateways();
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

  const patch = async (gateway: Gateway, change: object): Promise<boolean> => {
    setBusy(gateway.name);
    setMessage(undefined);
    try {
      await request(`/v1/admin/gateways/${encodeURIComponent(gateway.name)}`, {
        method: "PATCH",
        body: change,
      });
      await load();
      setMessage(`${gateway.name} updated.`);
      return true;
    } catch (caught) {
      setError(errorMessage(caught));
      return false;
    } finally {
      setBusy(undefined);
    }
  };

  const remove = async (gateway: Gateway): Promise<void> => {
    setBusy(gateway.name);
    try {
      await request(`/v1/admin/gateways/${encodeURIComponent(gateway.name)}`, { method: "DELETE" });
      histories.current.delete(gateway.name);
      await load();
      setMessage(`${gateway.name} removed.`);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(undefined);
    }
  };

  const available = gateways?.filter((gateway) => gatewayState(gateway).available).length ?? 0;

  return (
    <div className="page wide stack">
      <div className="section-header gateways-header">
        <p className="muted" data-testid="gateways-summary">
          {gateways
            ? `${available} of ${gateways.length} gateways taking payments · refreshed every ${refreshMs / 1000} s`
            : "Loading…"}
        </p>
        <AddGateway
          onAdded={async (name) => {
            await load();
            setMessage(`${name} added.`);
          }}
        />
      </div>
      <div aria-live="polite">{message && <Alert kind="success">{message}</Alert>}</div>
      {error && <Alert kind="error">{error}</Alert>}
      {!gateways && !error && <Spinner label="Loading gateways" />}
      {gateways && gateways.length === 0 && <p className="muted">No gateways are registered.</p>}
      <div className="gateway-grid">
        {gateways?.map((gateway) => (
          <GatewayCard
            key={gateway.name}
            gateway={gateway}
            history={histories.current.get(gateway.name)}
            busy={busy === gateway.name}
            patch={patch}
            remove={remove}
          />
        ))}
      </div>
    </div>
  );
}
