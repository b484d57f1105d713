/** Shows each new notification for a few seconds; screen readers hear it via aria-live. */
import { useEffect, useState } from "react";
import { type AppNotification, useApp } from "../state.tsx";

const toastMs = 5000;

export function Toasts() {
  const { notifications } = useApp();
  const [visible, setVisible] = useState<AppNotification | undefined>();
  // Notifications restored after a reload are history, not news: only newer ones pop up.
  const [mountedAtMs] = useState(() => Date.now());
  const latest = notifications[0];
  useEffect(() => {
    if (!latest || latest.atMs < mountedAtMs) return;
    setVisible(latest);
    const timer = setTimeout(() => setVisible(undefined), toastMs);
    return () => clearTimeout(timer);
  }, [latest, mountedAtMs]);
  return (
    <div className="toast-region" aria-live="polite" aria-atomic="true">
      {visible && (
        <div className={`toast kind-${visible.kind}`} role="status">
          <strong>{visible.title}</strong>
          <span>{visible.body}</span>
        </div>
      )}
    </div>
  );
}
