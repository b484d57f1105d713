import { useEffect } from "react";
import { NotificationList } from "../components/notification-list.tsx";
import { useApp } from "../state.tsx";

export function NotificationsPage() {
  const { notifications, unread, markAllRead, link } = useApp();
  // Whatever arrives while the page is open (the inbox loads after it, too) is read here.
  useEffect(() => {
    if (unread > 0) markAllRead();
  }, [unread, markAllRead]);
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
