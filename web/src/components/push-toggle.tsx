/**
 * "Notify me when the app is closed": Hey Blue!'s Web Push switch. Shown only when the server has
 * Web Push configured; a toggle button (aria-pressed) whose state is also said in words in a live
 * region: on, off, blocked (the browser's permission is denied) or unsupported. Turning it on asks
 * for permission on the click itself (browsers require a user gesture), subscribes with the server's
 * VAPID key and registers the subscription; turning it off removes it from the server and the browser.
 */
import { useEffect, useId, useState } from "react";
import { errorMessage } from "../lib/api.ts";
import { currentSubscription, pushSupported, serverPushKey, turnPushOff, turnPushOn } from "../lib/push.ts";
import { Alert } from "./form.tsx";

export type PushState = "on" | "off" | "denied" | "unsupported";

const stateText: Record<PushState, string> = {
  on: "On: this browser is told of requests and connections while the app is closed.",
  off: "Off: you hear of requests and connections only while the app is open.",
  denied: "Blocked: notifications for this site are turned off in your browser's settings.",
  unsupported: "This browser can't notify you while the app is closed.",
};

/** The server's key (undefined: push off there, the control is hidden) and this browser's state. */
function usePushStatus(): {
  publicKey: string | undefined;
  state: PushState | undefined;
  setState: (state: PushState) => void;
} {
  const [publicKey, setPublicKey] = useState<string>();
  const [state, setState] = useState<PushState>();
  useEffect(() => {
    const abort = new AbortController();
    (async () => {
      const key = await serverPushKey(abort.signal);
      if (abort.signal.aborted || key === undefined) return;
      setPublicKey(key);
      if (!pushSupported()) return setState("unsupported");
      if (Notification.permission === "denied") return setState("denied");
      const subscribed = Notification.permission === "granted" && (await currentSubscription()) !== null;
      if (!abort.signal.aborted) setState(subscribed ? "on" : "off");
    })().catch(() => {
      // Not reachable now: the control stays hidden, the page works without it.
    });
    return () => abort.abort();
  }, []);
  return { publicKey, state, setState };
}

export function PushToggle() {
  const { publicKey, state, setState } = usePushStatus();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const statusId = useId();
  if (publicKey === undefined || state === undefined) return null;

  async function toggle(key: string, current: PushState) {
    setBusy(true);
    setError(undefined);
    try {
      if (current === "on") {
        await turnPushOff();
        setState("off");
        return;
      }
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        setState(permission === "denied" ? "denied" : "off");
        if (permission !== "denied") setError("Notifications weren't allowed. Try again when you're ready.");
        return;
      }
      await turnPushOn(key);
      setState("on");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card push-toggle" aria-labelledby={`${statusId}-heading`}>
      <h2 id={`${statusId}-heading`}>Notifications</h2>
      <div className="row push-toggle-row">
        {state !== "unsupported" && (
          <button
            type="button"
            className={`button ${state === "on" ? "secondary" : "primary"}`}
            aria-pressed={state === "on"}
            aria-describedby={statusId}
            aria-busy={busy || undefined}
            disabled={busy || state === "denied"}
            onClick={() => void toggle(publicKey, state)}
          >
            Notify me when the app is closed
          </button>
        )}
        <p
          id={statusId}
          className="muted push-toggle-state"
          role="status"
          data-testid="push-state"
          data-state={state}
        >
          {busy ? "Working…" : stateText[state]}
        </p>
      </div>
      {error && <Alert kind="error">{error}</Alert>}
    </section>
  );
}
