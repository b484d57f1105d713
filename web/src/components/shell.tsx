/**
 * The frame around every signed-in page: a sidebar on wide screens, a bottom tab bar on phones,
 * a top bar with the live-connection status, the notifications bell and sign out. On a phone an
 * admin's tab bar ends in "Menu", a sheet with every page (the back office does not fit in tabs).
 */
import { type ReactNode, useEffect, useRef, useState } from "react";
import { Link, navigate, usePath } from "../lib/router.tsx";
import {
  signOut as endSession,
  isAdmin,
  isCommunityMember,
  isInsightStaff,
  isReviewer,
} from "../lib/session.ts";
import { useApp } from "../state.tsx";
import { Icon, type IconName } from "./icons.tsx";
import { NotificationList } from "./notification-list.tsx";
import { Toasts } from "./toasts.tsx";

interface NavItem {
  readonly href: string;
  readonly label: string;
  readonly icon: IconName;
  readonly mobile: boolean;
}

function useNavItems(): { wallet: NavItem[]; admin: NavItem[] } {
  const { session, features } = useApp();
  const staff = isAdmin(session);
  // An admin's phone tabs: Accounts, Transfer, Dashboard and Menu; the rest is in the menu.
  const wallet: NavItem[] = [
    { href: "/", label: "Accounts", icon: "home", mobile: true },
    { href: "/transfer", label: "Transfer", icon: "send", mobile: true },
    { href: "/notifications", label: "Activity", icon: "bell", mobile: !staff },
    { href: "/profile", label: "Profile", icon: "wallet", mobile: false },
    { href: "/sessions", label: "Sessions", icon: "shield", mobile: false },
  ];
  if (isCommunityMember(session))
    wallet.splice(3, 0, { href: "/community", label: "Community", icon: "users", mobile: !staff });
  if (features.payments)
    wallet.splice(2, 0, { href: "/payments", label: "Payments", icon: "card", mobile: !staff });
  const admin: NavItem[] = [];
  if (staff) {
    admin.push({ href: "/admin", label: "Dashboard", icon: "chart", mobile: true });
    admin.push({ href: "/admin/transactions", label: "Transactions", icon: "list", mobile: false });
    admin.push({ href: "/admin/users", label: "Users", icon: "search", mobile: false });
    if (features.gateways)
      admin.push({ href: "/admin/gateways", label: "Gateways", icon: "server", mobile: false });
    if (features.payments)
      admin.push({ href: "/admin/payments", label: "Payment lookup", icon: "search", mobile: false });
    if (features.deadLetters)
      admin.push({ href: "/admin/dlq", label: "Dead letters", icon: "inbox", mobile: false });
    if (features.screeningLists)
      admin.push({ href: "/admin/screening-lists", label: "Screening lists", icon: "shield", mobile: false });
  }
  if (isReviewer(session))
    admin.push({ href: "/admin/reviews", label: "Reviews", icon: "shield", mobile: false });
  if (isInsightStaff(session)) {
    admin.push({ href: "/admin/clients", label: "Client insight", icon: "search", mobile: false });
    admin.push({ href: "/admin/branches", label: "Branches", icon: "server", mobile: false });
  }
  return { wallet, admin };
}

function isCurrent(href: string, path: string): boolean {
  if (href === "/" || href === "/admin") return path === href;
  return path === href || path.startsWith(`${href}/`);
}

function LinkStatus() {
  const { link } = useApp();
  const label = link === "live" ? "Live" : link === "connecting" ? "Connecting…" : "Offline, reconnecting";
  return (
    <span className={`link-status link-${link}`} role="status" title="Live updates">
      <span className="dot" aria-hidden="true" />
      <span className="link-label">{label}</span>
    </span>
  );
}

function useOnline(): boolean {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const update = (): void => setOnline(navigator.onLine);
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
    };
  }, []);
  return online;
}

function NotificationsDrawer(props: { open: boolean; onClose: () => void }) {
  const { notifications } = useApp();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (props.open && !element.open) element.showModal();
    if (!props.open && element.open) element.close();
  }, [props.open]);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: a click on the backdrop closes; Escape does the same natively
    <dialog
      ref={dialog}
      className="drawer"
      aria-labelledby="drawer-title"
      onClose={props.onClose}
      onClick={(event) => {
        if (event.target === dialog.current) props.onClose();
      }}
    >
      <div className="drawer-body">
        <header className="drawer-header">
          <h2 id="drawer-title">Notifications</h2>
          <button
            type="button"
            className="icon-button"
            onClick={props.onClose}
            aria-label="Close notifications"
          >
            <Icon name="x" />
          </button>
        </header>
        <NotificationList notifications={notifications} onNavigate={props.onClose} />
      </div>
    </dialog>
  );
}

function NavList(props: { items: readonly NavItem[]; path: string; onNavigate?: () => void }) {
  return (
    <ul>
      {props.items.map((item) => (
        <li key={item.href}>
          <Link
            href={item.href}
            aria-current={isCurrent(item.href, props.path) ? "page" : undefined}
            {...(props.onNavigate ? { onClick: props.onNavigate } : {})}
          >
            <Icon name={item.icon} />
            {item.label}
          </Link>
        </li>
      ))}
    </ul>
  );
}

/** Every page on a phone, as a sheet from the tab bar's "Menu". */
function MenuSheet(props: {
  open: boolean;
  onClose: () => void;
  wallet: readonly NavItem[];
  admin: readonly NavItem[];
  path: string;
  onSignOut: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (props.open && !element.open) element.showModal();
    if (!props.open && element.open) element.close();
  }, [props.open]);
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: a click on the backdrop closes; Escape does the same natively
    <dialog
      ref={dialog}
      className="drawer menu-sheet"
      aria-labelledby="menu-title"
      onClose={props.onClose}
      onClick={(event) => {
        if (event.target === dialog.current) props.onClose();
      }}
    >
      <div className="drawer-body">
        <header className="drawer-header">
          <h2 id="menu-title">Menu</h2>
          <button type="button" className="icon-button" onClick={props.onClose} aria-label="Close menu">
            <Icon name="x" />
          </button>
        </header>
        <nav aria-label="Wallet pages" className="menu-nav">
          <p className="nav-heading">Wallet</p>
          <NavList items={props.wallet} path={props.path} onNavigate={props.onClose} />
        </nav>
        {props.admin.length > 0 && (
          <nav aria-label="Back office pages" className="menu-nav">
            <p className="nav-heading">Back office</p>
            <NavList items={props.admin} path={props.path} onNavigate={props.onClose} />
          </nav>
        )}
        <button type="button" className="button ghost block" onClick={props.onSignOut}>
          <Icon name="logout" /> Sign out
        </button>
      </div>
    </dialog>
  );
}

export function Shell(props: { children: ReactNode; title: string }) {
  const path = usePath();
  const { session, unread, markAllRead } = useApp();
  const { wallet, admin } = useNavItems();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);
  const online = useOnline();

  useEffect(() => {
    document.title = `${props.title} · Ledgerflow`;
  }, [props.title]);

  const openDrawer = (): void => {
    setDrawerOpen(true);
    markAllRead();
  };
  const signOut = (): void => {
    void endSession();
    navigate("/signin", { replace: true });
  };
  const mobileItems = [...wallet, ...admin].filter((item) => item.mobile);
  const needsMenu = mobileItems.length < wallet.length + admin.length;

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar" aria-label="Main navigation">
        <Link href="/" className="brand">
          <img src="/icons/icon.svg" alt="" width="32" height="32" />
          <span>Ledgerflow</span>
        </Link>
        <nav aria-label="Wallet">
          <NavList items={wallet} path={path} />
        </nav>
        {admin.length > 0 && (
          <nav aria-label="Back office">
            <p className="nav-heading">Back office</p>
            <NavList items={admin} path={path} />
          </nav>
        )}
        <div className="sidebar-footer">
          <p className="signed-in-as">
            Signed in as <strong>{session?.username}</strong>
          </p>
          <button type="button" className="button ghost" onClick={signOut}>
            <Icon name="logout" /> Sign out
          </button>
        </div>
      </aside>
      <div className="main-column">
        <header className="topbar">
          <Link href="/" className="brand brand-compact" aria-label="Ledgerflow home">
            <img src="/icons/icon.svg" alt="" width="28" height="28" />
            <span>Ledgerflow</span>
          </Link>
          <h1 className="topbar-title">{props.title}</h1>
          <div className="topbar-actions">
            <LinkStatus />
            <button
              type="button"
              className="icon-button bell"
              onClick={openDrawer}
              aria-label={unread > 0 ? `Notifications, ${unread} new` : "Notifications"}
            >
              <Icon name="bell" />
              {unread > 0 && (
                <span className="badge" aria-hidden="true">
                  {unread > 99 ? "99+" : unread}
                </span>
              )}
            </button>
            <button
              type="button"
              className="icon-button signout-compact"
              onClick={signOut}
              aria-label="Sign out"
            >
              <Icon name="logout" />
            </button>
          </div>
        </header>
        {!online && (
          <p className="offline-banner" role="status">
            You're offline. Balances may be out of date and nothing can be sent until you reconnect.
          </p>
        )}
        <main id="main" tabIndex={-1}>
          {props.children}
        </main>
      </div>
      <nav className="tabbar" aria-label="Main">
        <ul>
          {mobileItems.map((item) => (
            <li key={item.href}>
              <Link href={item.href} aria-current={isCurrent(item.href, path) ? "page" : undefined}>
                <Icon name={item.icon} size={22} />
                <span>{item.label}</span>
              </Link>
            </li>
          ))}
          {needsMenu && (
            <li>
              <button
                type="button"
                className="tab-button"
                onClick={() => setMenuOpen(true)}
                aria-haspopup="dialog"
                aria-expanded={menuOpen}
              >
                <Icon name="menu" size={22} />
                <span>Menu</span>
              </button>
            </li>
          )}
        </ul>
      </nav>
      <MenuSheet
        open={menuOpen}
        onClose={() => setMenuOpen(false)}
        wallet={wallet}
        admin={admin}
        path={path}
        onSignOut={signOut}
      />
      <NotificationsDrawer open={drawerOpen} onClose={() => setDrawerOpen(false)} />
      <Toasts />
    </div>
  );
}
