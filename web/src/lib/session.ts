/**
 * The signed-in session: the short-lived access token lives in memory and in sessionStorage; the
 * long-lived refresh token is an httpOnly cookie scripts never see (README "Sessions"). Before the
 * access token expires, and whenever the server answers 401, `refreshSession` trades the cookie for
 * a new pair, so a user stays signed in until they sign out (also across reloads and new tabs: a
 * page without a stored token tries the cookie first). Claims are read from the JWT payload for
 * display and for showing the back-office; the server still authorises every request itself.
 */

export interface Session {
  readonly token: string;
  /** The user's id (the token's subject); empty for a session stored before it was kept. */
  readonly userId?: string;
  readonly username: string;
  readonly roles: readonly string[];
  readonly expiresAtMs: number;
}

const storageKey = "ledgerflow.session";
let current: Session | undefined = restore();
const listeners = new Set<() => void>();

function decodeClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const base64 = payload
      .replace(/-/g, "+")
      .replace(/_/g, "/")
      .padEnd(Math.ceil(payload.length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === "object" && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function rolesFrom(claims: Record<string, unknown>): string[] {
  const roles = claims.roles ?? claims.role;
  if (Array.isArray(roles)) return roles.filter((role): role is string => typeof role === "string");
  if (typeof roles === "string") return roles.split(/[\s,]+/).filter(Boolean);
  return [];
}

export function sessionFromToken(
  token: string,
  expiresInSeconds: number | undefined,
  fallbackName: string,
): Session {
  const claims = decodeClaims(token) ?? {};
  const named = [claims.username, claims.preferred_username, claims.name].find(
    (value) => typeof value === "string",
  );
  const expiresAtMs =
    typeof claims.exp === "number" ? claims.exp * 1000 : Date.now() + (expiresInSeconds ?? 3600) * 1000;
  return {
    token,
    userId: typeof claims.sub === "string" ? claims.sub : "",
    username: (named as string | undefined) ?? fallbackName,
    roles: rolesFrom(claims),
    expiresAtMs,
  };
}

function restore(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(storageKey);
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as Session;
    if (typeof parsed.token !== "string" || parsed.expiresAtMs <= Date.now()) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

export function getSession(): Session | undefined {
  if (current && current.expiresAtMs <= Date.now()) setSession(undefined);
  return current;
}

export function setSession(session: Session | undefined): void {
  current = session;
  try {
    if (session) sessionStorage.setItem(storageKey, JSON.stringify(session));
    else sessionStorage.removeItem(storageKey);
  } catch {
    // Storage can be disabled (private mode); the in-memory session still works for this page.
  }
  for (const listener of listeners) listener();
}

export function subscribeSession(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function isAdmin(session: Session | undefined): boolean {
  return session?.roles.includes("admin") ?? false;
}

/** Staff who may look up any client's insights and the branches: teller, compliance, auditor, admin. */
export function isInsightStaff(session: Session | undefined): boolean {
  return ["teller", "compliance", "auditor", "admin"].some((role) => session?.roles.includes(role));
}

/** Who may decide screening reviews: compliance officers and admins. */
export function isReviewer(session: Session | undefined): boolean {
  return ["compliance", "admin"].some((role) => session?.roles.includes(role));
}

/** Who takes part in the community programme (Hey Blue!): officers and citizens. */
export function isCommunityMember(session: Session | undefined): boolean {
  return ["officer", "citizen"].some((role) => session?.roles.includes(role));
}

/** The signed-in user's id: kept in the session, else read from the token's subject. */
export function userIdOf(session: Session | undefined): string {
  if (!session) return "";
  if (session.userId) return session.userId;
  return sessionFromToken(session.token, undefined, session.username).userId ?? "";
}

/** Where a signed-in user lands: admins on the back-office dashboard, customers on their accounts. */
export function homePath(session: Session | undefined = getSession()): string {
  return isAdmin(session) ? "/admin" : "/";
}

/** Refresh this long before the access token expires, so requests never carry an expired one. */
const refreshAheadMs = 60_000;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let inFlight: Promise<Session | undefined> | undefined;

interface TokenAnswer {
  readonly accessToken: string;
  readonly expiresIn: number;
}

/**
 * Trades the refresh cookie for a new access token (and a new cookie: it rotates). One at a time,
 * across tabs too (Web Locks): two tabs presenting the same cookie would look like token theft to
 * the server, which then ends the session. Resolves undefined when the session is over.
 */
export function refreshSession(): Promise<Session | undefined> {
  if (!hasRefreshCookie()) {
    // Nothing to refresh with: the session is over (as it was before refresh tokens, on a 401).
    if (current) setSession(undefined);
    return Promise.resolve(undefined);
  }
  inFlight ??= withLock(async () => {
    const before = current?.username ?? "";
    try {
      const response = await fetch("/v1/auth/refresh", { method: "POST", credentials: "same-origin" });
      if (!response.ok) {
        if (response.status === 401) setSession(undefined);
        return undefined;
      }
      const answer = (await response.json()) as TokenAnswer;
      const next = sessionFromToken(answer.accessToken, answer.expiresIn, before);
      setSession(next);
      return next;
    } catch {
      return undefined; // offline: keep the session; the next request or timer tries again
    }
  }).finally(() => {
    inFlight = undefined;
  });
  return inFlight;
}

function withLock<T>(work: () => Promise<T>): Promise<T> {
  const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
  return locks ? (locks.request("ledgerflow.refresh", work) as unknown as Promise<T>) : work();
}

/** Keeps the access token fresh while the page is open. */
function scheduleRefresh(): void {
  if (refreshTimer !== undefined) clearTimeout(refreshTimer);
  refreshTimer = undefined;
  if (!current) return;
  const inMs = Math.max(current.expiresAtMs - Date.now() - refreshAheadMs, 1_000);
  refreshTimer = setTimeout(() => void refreshSession(), inMs);
}
subscribeSession(scheduleRefresh);
scheduleRefresh();

/** At start-up: a page without a stored access token (new tab, reopened browser) tries the cookie. */
export async function resumeSession(): Promise<void> {
  if (!getSession() && hasRefreshCookie()) await refreshSession();
}

/** The server's hint that an httpOnly refresh cookie exists (the cookie itself is invisible here). */
function hasRefreshCookie(): boolean {
  return typeof document !== "undefined" && /(?:^|;\s*)ledgerflow_signed_in=1(?:;|$)/.test(document.cookie);
}

/** Ends the session on the server (cookie and token both name it), then here. */
export async function signOut(): Promise<void> {
  const token = current?.token;
  setSession(undefined);
  await fetch("/v1/auth/logout", {
    method: "POST",
    credentials: "same-origin",
    headers: token ? { authorization: `Bearer ${token}` } : {},
  }).catch(() => {});
}
