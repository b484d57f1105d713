import { useEffect } from "react";
import { NotificationList } from "../components/notification-list.tsx";
import { useApp } from "../state.tsx";

export function NotificationsPage() {
  const { notifications, markAllRead, link } = useApp();
  useEffect(() => {
    markAllRead();
  }, [markAllRead]);
  return (
    <div className="page narrow">
      <section className="card" aria-labelledby="activity-heading">
        <div className="section-header">
          <h2 id="activity-heading">Activity</h2>
          <span className="muted small">
            {link === "live" ? "Updates arrive as they happen" : "Reconnecting…"}
          </span>
        </div>
        <NotificationList notifications={notifications} />
      </section>
    </div>
  );
}
