import { Link } from "../lib/router.tsx";
import type { AppNotification } from "../state.tsx";
import { Icon, type IconName } from "./icons.tsx";

const kindIcon: Readonly<Record<AppNotification["kind"], IconName>> = {
  received: "arrowDown",
  sent: "arrowUp",
  confirmed: "check",
  failed: "x",
  info: "bell",
};

export function timeAgo(atMs: number, nowMs: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (seconds < 10) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  return new Date(atMs).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function NotificationList(props: {
  notifications: readonly AppNotification[];
  onNavigate?: () => void;
}) {
  if (props.notifications.length === 0) {
    return (
      <div className="empty">
        <Icon name="bell" size={28} />
        <p>No notifications yet.</p>
        <p className="muted">Money coming in or going out shows up here the moment it happens.</p>
      </div>
    );
  }
  return (
    <ul className="notification-list" aria-label="Notifications" aria-live="polite">
      {props.notifications.map((notification) => {
        const content = (
          <>
            <span className={`bubble kind-${notification.kind}`}>
              <Icon name={kindIcon[notification.kind]} size={18} />
            </span>
            <span className="notification-text">
              <strong>{notification.title}</strong>
              <span>{notification.body}</span>
            </span>
            <time className="muted small" dateTime={new Date(notification.atMs).toISOString()}>
              {timeAgo(notification.atMs)}
            </time>
          </>
        );
        return (
          <li key={notification.id}>
            {notification.href ? (
              <Link
                className="notification"
                href={notification.href}
                {...(props.onNavigate ? { onClick: props.onNavigate } : {})}
              >
                {content}
              </Link>
            ) : (
              <div className="notification">{content}</div>
            )}
          </li>
        );
      })}
    </ul>
  );
}
