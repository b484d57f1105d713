/**
 * Hey Blue! (the community programme): officers go available for a window and answer requests;
 * citizens share their position while this page is open, see the available officers near them and
 * ask to connect; both earn points. Everything live travels over the app's one community socket
 * (lib/community.ts): positions, requests, answers and outcomes, no HTTP request per update. A map
 * where the server has tiles configured (components/community-map.tsx), a radar otherwise, and a
 * list with distances. A live region announces incoming requests and outcomes.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { OfficersPicture } from "../components/community-map.tsx";
import { Alert } from "../components/form.tsx";
import { PushToggle } from "../components/push-toggle.tsx";
import {
  acquireCommunitySocket,
  CommunityError,
  type CommunitySocket,
  type Connection,
  type ConnectionRequest,
  type NearbyOfficer,
  type PublicProfile,
  type Push,
  type SocketState,
} from "../lib/community.ts";
import { bearingBetween, distanceText } from "../lib/distance.ts";
import { currentPosition, type Position, positionError, watchPosition } from "../lib/position.ts";
import { userIdOf } from "../lib/session.ts";
import { useSession } from "../state.tsx";
import { CommunityPoints, trophyName } from "./community-points.tsx";

/** The community socket for as long as the page is open, and its state. */
function useCommunitySocket(): { socket: CommunitySocket | undefined; state: SocketState } {
  const [socket, setSocket] = useState<CommunitySocket>();
  const [state, setState] = useState<SocketState>("connecting");
  useEffect(() => {
    const held = acquireCommunitySocket();
    setSocket(held.socket);
    setState(held.socket.state);
    const off = held.socket.onState(setState);
    return () => {
      off();
      held.release();
    };
  }, []);
  return { socket, state };
}

/** Calls `listener` with every push while mounted (the latest listener, without resubscribing). */
function usePushes(socket: CommunitySocket | undefined, listener: (push: Push) => void): void {
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => socket?.onPush((push) => latest.current(push)), [socket]);
}

/** Re-renders every second while `active` (countdowns). */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

export const nameOf = (profile: PublicProfile | null | undefined, fallback = "Someone") =>
  profile?.displayName || fallback;

const messageOf = (error: unknown) =>
  error instanceof CommunityError || error instanceof Error ? error.message : "Something went wrong";

/** "4:05" for 245 000 ms. */
function countdown(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1_000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function ProfileLine(props: { profile: PublicProfile | null; fallback: string }) {
  const { profile } = props;
  return (
    <span className="community-person">
      {profile?.avatarUrl ? (
        <img className="avatar small-avatar" src={profile.avatarUrl} alt="" width={40} height={40} />
      ) : (
        <span className="avatar-initial" aria-hidden="true">
          {nameOf(profile, props.fallback).charAt(0).toUpperCase()}
        </span>
      )}
      <span>
        <strong>{nameOf(profile, props.fallback)}</strong>
        {profile?.agency && <span className="muted small"> · {profile.agency}</span>}
        {profile?.verified && <span className="pill pill-good community-verified">verified</span>}
      </span>
    </span>
  );
}

const socketLabel: Record<SocketState, string> = {
  live: "Connected",
  connecting: "Connecting…",
  offline: "Offline, reconnecting",
};

export function CommunityPage() {
  const session = useSession();
  const { socket, state } = useCommunitySocket();
  const [announcement, setAnnouncement] = useState("");
  const [pointsVersion, setPointsVersion] = useState(0);
  const roles = session?.roles ?? [];
  const announce = useCallback((text: string) => setAnnouncement(text), []);
  const pointsChanged = useCallback(() => setPointsVersion((version) => version + 1), []);
  usePushes(socket, (push) => {
    if (push.type !== "trophy") return;
    announce(`Trophy earned: ${trophyName(push.trophy)}!`);
    pointsChanged();
  });
  return (
    <div className="page narrow community">
      <p className={`community-link link-${state}`}>
        <span className="dot" aria-hidden="true" /> {socketLabel[state]}
      </p>
      {/* Incoming requests and outcomes, read out by screen readers as they arrive. */}
      <div className="visually-hidden" role="status" aria-live="polite" data-testid="community-announcer">
        {announcement}
      </div>
      {roles.includes("officer") && socket && (
        <OfficerPanel socket={socket} state={state} announce={announce} onConnected={pointsChanged} />
      )}
      {roles.includes("citizen") && socket && (
        <CitizenPanel socket={socket} state={state} announce={announce} onConnected={pointsChanged} />
      )}
      <PushToggle />
      <CommunityPoints version={pointsVersion} />
    </div>
  );
}

interface PanelProps {
  readonly socket: CommunitySocket;
  readonly state: SocketState;
  readonly announce: (text: string) => void;
  readonly onConnected: () => void;
}

// ---------- Officer ----------

interface Incoming {
  readonly request: ConnectionRequest;
  readonly citizen: PublicProfile | null;
  readonly status: "pending" | "answering" | "accepted" | "declined" | "failed";
  readonly detail?: string;
}

const windowChoicesMin = [15, 30, 60] as const;

function OfficerPanel(props: PanelProps) {
  const { socket, announce } = props;
  const [windowMin, setWindowMin] = useState<number>(15);
  const [untilMs, setUntilMs] = useStoredWindow(userIdOf(useSession()));
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ kind: "error" | "info"; text: string }>();
  const [incoming, setIncoming] = useState<Incoming[]>([]);
  const now = useNow(untilMs !== undefined || incoming.length > 0);
  usePushes(socket, (push) => {
    if (push.type === "availability") {
      setUntilMs(undefined);
      const text =
        push.reason === "expired" ? "Your availability window has ended." : "You're no longer available.";
      setNotice({ kind: "info", text });
      announce(text);
    }
    if (push.type === "request") {
      setIncoming((list) => [{ request: push.request, citizen: push.citizen, status: "pending" }, ...list]);
      announce(`New request from ${nameOf(push.citizen, "a citizen")}`);
    }
    // Left unanswered past its expiry: it leaves the list (one being answered shows the outcome).
    if (push.type === "request_removed")
      setIncoming((list) =>
        list.filter((item) => item.request.id !== push.requestId || item.status !== "pending"),
      );
  });
  useOfficerMoves(socket, untilMs !== undefined, () => {
    setUntilMs(undefined);
    setNotice({ kind: "info", text: "You're no longer available." });
  });
  // The server says when the window closes; offline, the countdown reaching zero says it too.
  if (untilMs !== undefined && now >= untilMs) {
    setUntilMs(undefined);
    setNotice({ kind: "info", text: "Your availability window has ended." });
  }

  async function goAvailable() {
    setBusy(true);
    setNotice(undefined);
    try {
      const at = await currentPosition();
      const result = await socket.send<{ untilMs: number }>({
        type: "available",
        ...at,
        windowMs: windowMin * 60_000,
      });
      setUntilMs(result.untilMs);
      announce(`You're available for ${windowMin} minutes.`);
    } catch (error) {
      setNotice({
        kind: "error",
        text: error instanceof GeolocationPositionError ? positionError(error) : messageOf(error),
      });
    } finally {
      setBusy(false);
    }
  }

  async function stop() {
    setBusy(true);
    try {
      await socket.send({ type: "stop" });
      setUntilMs(undefined);
    } catch (error) {
      setNotice({ kind: "error", text: messageOf(error) });
    } finally {
      setBusy(false);
    }
  }

  const answer = (entry: Incoming, action: "accept" | "decline") =>
    answerRequest(socket, entry, action, setIncoming, announce, props.onConnected);

  return (
    <section className="card" aria-labelledby="officer-heading">
      <h2 id="officer-heading">On duty</h2>
      {untilMs === undefined ? (
        <OfficerIdle
          windowMin={windowMin}
          onWindow={setWindowMin}
          busy={busy || props.state !== "live"}
          onGo={goAvailable}
        />
      ) : (
        <div className="community-available">
          <p className="community-countdown" data-testid="availability-countdown">
            <span className="pulse-dot" aria-hidden="true" />
            <span>
              Available · <span className="numeric">{countdown(untilMs - now)}</span> left
            </span>
          </p>
          <p className="muted small">Citizens near you can see you and ask to connect.</p>
          <button type="button" className="button secondary" onClick={stop} disabled={busy}>
            Stop
          </button>
        </div>
      )}
      {notice && <Alert kind={notice.kind}>{notice.text}</Alert>}
      <IncomingRequests incoming={incoming} now={now} onAnswer={answer} />
    </section>
  );
}

function OfficerIdle(props: {
  windowMin: number;
  onWindow: (min: number) => void;
  busy: boolean;
  onGo: () => void;
}) {
  return (
    <div className="stack">
      <p className="muted">
        Go available to let citizens near you ask to connect. Your position is shared only while you are
        available.
      </p>
      <div className="field">
        <label htmlFor="window-length">Window length</label>
        <select
          id="window-length"
          value={props.windowMin}
          onChange={(event) => props.onWindow(Number(event.target.value))}
        >
          {windowChoicesMin.map((minutes) => (
            <option key={minutes} value={minutes}>
              {minutes} minutes
            </option>
          ))}
        </select>
      </div>
      <button type="button" className="button primary" onClick={props.onGo} disabled={props.busy}>
        Go available
      </button>
    </div>
  );
}

/** While available, the officer's moves follow them (over the socket, at most every few seconds). */
function useOfficerMoves(socket: CommunitySocket, available: boolean, onClosed: () => void): void {
  const closed = useRef(onClosed);
  closed.current = onClosed;
  useEffect(() => {
    if (!available) return;
    let lastSentMs = Date.now();
    return watchPosition(
      (at) => {
        if (Date.now() - lastSentMs < positionIntervalMs) return;
        lastSentMs = Date.now();
        socket.send({ type: "location", ...at }).catch((error: unknown) => {
          // The window closed meanwhile (stopped in another tab, or the server restarted).
          if (error instanceof CommunityError && error.code === "officer_not_available") closed.current();
        });
      },
      () => {},
    );
  }, [socket, available]);
}

/**
 * The officer's open window, kept in sessionStorage so a reload keeps the countdown (the server
 * keeps the window itself until it ends or the officer stops).
 */
function useStoredWindow(userId: string): [number | undefined, (untilMs: number | undefined) => void] {
  const key = `ledgerflow.community.availableUntil.${userId}`;
  const [untilMs, setUntil] = useState<number | undefined>(() => {
    try {
      const stored = Number(sessionStorage.getItem(key));
      return stored > Date.now() ? stored : undefined;
    } catch {
      return undefined;
    }
  });
  const set = useCallback(
    (next: number | undefined) => {
      setUntil(next);
      try {
        if (next === undefined) sessionStorage.removeItem(key);
        else sessionStorage.setItem(key, String(next));
      } catch {
        // Storage can be disabled (private mode): the countdown then lasts as long as the page.
      }
    },
    [key],
  );
  return [untilMs, set];
}

async function answerRequest(
  socket: CommunitySocket,
  entry: Incoming,
  action: "accept" | "decline",
  setIncoming: (update: (list: Incoming[]) => Incoming[]) => void,
  announce: (text: string) => void,
  onConnected: () => void,
) {
  const id = entry.request.id;
  const update = (patch: Partial<Incoming>) =>
    setIncoming((list) => list.map((item) => (item.request.id === id ? { ...item, ...patch } : item)));
  update({ status: "answering" });
  const who = nameOf(entry.citizen, "the citizen");
  try {
    const result = await socket.send<{ outcome: string; connection?: Connection }>({
      type: action,
      requestId: id,
    });
    if (result.outcome === "accepted") {
      const points = result.connection?.pointsEach ?? "0";
      update({ status: "accepted", detail: `Connected with ${who}. You both earn ${points} points.` });
      announce(`Connected with ${who}. You earn ${points} points.`);
      onConnected();
    } else {
      update({ status: "declined", detail: `You declined ${who}'s request.` });
      announce(`Declined ${who}'s request.`);
    }
  } catch (error) {
    update({ status: "failed", detail: messageOf(error) });
    announce(messageOf(error));
  }
}

function IncomingRequests(props: {
  incoming: readonly Incoming[];
  now: number;
  onAnswer: (entry: Incoming, action: "accept" | "decline") => void;
}) {
  if (props.incoming.length === 0) return <p className="muted small community-empty">No requests yet.</p>;
  return (
    <>
      <h3 className="community-subheading">Requests</h3>
      <ul className="community-list" aria-label="Incoming requests">
        {props.incoming.map((entry) => {
          const expired = entry.status === "pending" && entry.request.expiresAtMs <= props.now;
          return (
            <li key={entry.request.id} className={`community-item request-${entry.status}`}>
              <ProfileLine profile={entry.citizen} fallback="A citizen" />
              <span className="muted small">
                {entry.request.kind === "virtual" ? "Virtual request" : "Nearby"}
              </span>
              {entry.status === "pending" && !expired && (
                <span className="community-actions">
                  <span className="muted small numeric">
                    <span className="visually-hidden">Time left to answer: </span>
                    {countdown(entry.request.expiresAtMs - props.now)}
                  </span>
                  <button
                    type="button"
                    className="button primary small"
                    onClick={() => props.onAnswer(entry, "accept")}
                    aria-label={`Accept ${nameOf(entry.citizen, "the citizen")}`}
                  >
                    Accept
                  </button>
                  <button
                    type="button"
                    className="button secondary small"
                    onClick={() => props.onAnswer(entry, "decline")}
                    aria-label={`Decline ${nameOf(entry.citizen, "the citizen")}`}
                  >
                    Decline
                  </button>
                </span>
              )}
              {expired && <span className="muted small">Expired</span>}
              {entry.status === "answering" && <span className="muted small">Answering…</span>}
              {entry.detail && (
                <p
                  className={`community-item-note ${entry.status === "accepted" ? "community-outcome-text connected" : "muted small"}`}
                  data-testid="request-outcome"
                >
                  {entry.detail}
                </p>
              )}
            </li>
          );
        })}
      </ul>
    </>
  );
}

// ---------- Citizen ----------

/** A position is sent at most this often (the server rate-limits sockets), and re-sent this often to refresh the list. */
const positionIntervalMs = 3_000;
const refreshEveryMs = 15_000;

type Outcome =
  | { kind: "waiting"; officer: NearbyOfficer; requestId: string; expiresAtMs: number }
  | { kind: "connected"; officer: NearbyOfficer | undefined; connection: Connection }
  | { kind: "declined"; officer: NearbyOfficer | undefined }
  | { kind: "failed"; text: string };

/** Shares the citizen's position over the socket while the page is open; answers the officers near. */
function useSharedPosition(socket: CommunitySocket, state: SocketState) {
  const [officers, setOfficers] = useState<NearbyOfficer[]>([]);
  const [position, setPosition] = useState<Position>();
  const [problem, setProblem] = useState<string>();
  const last = useRef<{ at?: Position; sentMs: number }>({ sentMs: 0 });
  const share = useCallback(
    (at: Position | undefined, force: boolean) => {
      if (!at || socket.state !== "live") return;
      if (!force && Date.now() - last.current.sentMs < positionIntervalMs) return;
      last.current.sentMs = Date.now();
      socket
        .send<{ officers: NearbyOfficer[] }>({ type: "location", ...at })
        .then((result) => {
          setOfficers(result.officers);
          setProblem(undefined);
        })
        .catch((error: unknown) => setProblem(messageOf(error)));
    },
    [socket],
  );
  useEffect(
    () =>
      watchPosition((at) => {
        last.current.at = at;
        setPosition(at);
        share(at, false);
      }, setProblem),
    [share],
  );
  // On (re)connecting the server knows nothing of us: tell it where we are; then now and again.
  useEffect(() => {
    if (state !== "live") return;
    share(last.current.at, true);
    const timer = setInterval(() => share(last.current.at, true), refreshEveryMs);
    return () => clearInterval(timer);
  }, [state, share]);
  return { officers, setOfficers, position, problem };
}

/** A request the officer leaves unanswered expires: say so when it does. */
function useRequestExpiry(
  outcome: Outcome | undefined,
  setOutcome: (outcome: Outcome) => void,
  announce: (text: string) => void,
): void {
  useEffect(() => {
    if (outcome?.kind !== "waiting") return;
    const timer = setTimeout(
      () => {
        const text = `${nameOf(outcome.officer.profile, "The officer")} didn't answer in time. You can ask again.`;
        setOutcome({ kind: "failed", text });
        announce(text);
      },
      Math.max(0, outcome.expiresAtMs - Date.now()),
    );
    return () => clearTimeout(timer);
  }, [outcome, setOutcome, announce]);
}

function CitizenPanel(props: PanelProps) {
  const { socket, announce } = props;
  const { officers, setOfficers, position, problem } = useSharedPosition(socket, props.state);
  const [outcome, setOutcome] = useState<Outcome>();
  const [virtualRefused, setVirtualRefused] = useState(false);
  const [connectedIds, setConnectedIds] = useState<ReadonlySet<string>>(new Set());
  const officerOf = (id: string) =>
    officers.find((officer) => officer.officerId === id) ??
    (outcome?.kind === "waiting" && outcome.officer.officerId === id ? outcome.officer : undefined);
  useRequestExpiry(outcome, setOutcome, announce);
  usePushes(socket, (push) => {
    if (push.type === "officer_nearby") {
      setOfficers((list) => [push.officer, ...list.filter((o) => o.officerId !== push.officer.officerId)]);
      announce(`${nameOf(push.officer.profile, "An officer")} is available nearby.`);
    }
    if (push.type === "connection") {
      const officer = officerOf(push.connection.officerId);
      setOutcome({ kind: "connected", officer, connection: push.connection });
      setConnectedIds((ids) => new Set(ids).add(push.connection.officerId));
      announce(
        `You're connected with ${nameOf(officer?.profile, "the officer")}. You earn ${push.connection.pointsEach} points.`,
      );
      props.onConnected();
    }
    if (push.type === "officer_left")
      setOfficers((list) => list.filter((o) => o.officerId !== push.officerId));
    if (
      push.type === "request_expired" &&
      outcome?.kind === "waiting" &&
      outcome.requestId === push.requestId
    ) {
      const text = `${nameOf(outcome.officer.profile, "The officer")} didn't answer in time. You can ask again.`;
      setOutcome({ kind: "failed", text });
      announce(text);
    }
    if (push.type === "declined" && outcome?.kind === "waiting" && outcome.requestId === push.requestId) {
      setOutcome({ kind: "declined", officer: outcome.officer });
      announce(`${nameOf(outcome.officer.profile, "The officer")} can't connect right now.`);
    }
  });

  async function requestConnection(officer: NearbyOfficer, virtual: boolean) {
    try {
      const request = await socket.send<ConnectionRequest>({
        type: "request",
        officerId: officer.officerId,
        ...(virtual ? { virtual } : {}),
      });
      setOutcome({ kind: "waiting", officer, requestId: request.id, expiresAtMs: request.expiresAtMs });
      announce(`Request sent to ${nameOf(officer.profile, "the officer")}.`);
    } catch (error) {
      if (error instanceof CommunityError && error.code === "virtual_not_allowed") setVirtualRefused(true);
      setOutcome({ kind: "failed", text: messageOf(error) });
      announce(messageOf(error));
    }
  }

  const waiting = outcome?.kind === "waiting";
  return (
    <section className="card" aria-labelledby="citizen-heading">
      <h2 id="citizen-heading">Officers near you</h2>
      <p className="muted small" data-testid="sharing-status">
        {position
          ? `Sharing your location while this page is open (±${position.accuracyM} m).`
          : "Finding your location…"}
      </p>
      {problem && <Alert kind="warning">{problem}</Alert>}
      {outcome && <CitizenOutcome outcome={outcome} onDismiss={() => setOutcome(undefined)} />}
      <OfficersPicture
        officers={officers}
        position={position}
        busy={waiting}
        connectedIds={connectedIds}
        virtualAllowed={!virtualRefused}
        onRequest={requestConnection}
        radar={<Radar officers={officers} position={position} />}
      />
      <OfficerList
        officers={officers}
        busy={waiting}
        connectedIds={connectedIds}
        virtualAllowed={!virtualRefused}
        onRequest={requestConnection}
      />
    </section>
  );
}

/** The radar's outer ring, metres: the farthest officer with some room, never under the minimum. */
const radarRangeMinM = 150;
const radarRangeM = (officers: readonly NearbyOfficer[]) => {
  const farthest = Math.max(0, ...officers.map((officer) => officer.distanceM));
  return Math.max(radarRangeMinM, Math.ceil((farthest * 1.25) / 50) * 50);
};

/** The radar's angle of an officer seen from the citizen (0 = east, clockwise, as the screen draws). */
const angleOf = (from: Position | undefined, officer: NearbyOfficer) =>
  from ? bearingBetween(from, officer.at) - Math.PI / 2 : 0;

/** A picture of the list below (which screen readers read instead): you in the middle, officers by distance. */
function Radar(props: { officers: readonly NearbyOfficer[]; position: Position | undefined }) {
  const rangeM = radarRangeM(props.officers);
  return (
    <figure className="radar-figure">
      <div className="radar" aria-hidden="true">
        <span className="radar-ring ring-1" />
        <span className="radar-ring ring-2" />
        <span className="radar-sweep" />
        <span className="radar-you" />
        {props.officers.map((officer) => {
          const r = Math.min(officer.distanceM, rangeM) / rangeM;
          const angle = angleOf(props.position, officer);
          const style = {
            left: `${50 + 46 * r * Math.cos(angle)}%`,
            top: `${50 + 46 * r * Math.sin(angle)}%`,
          };
          return <span key={officer.officerId} className="radar-officer" style={style} />;
        })}
      </div>
      <figcaption className="muted small">You are in the middle; the edge is {rangeM} m away.</figcaption>
    </figure>
  );
}

function OfficerList(props: {
  officers: readonly NearbyOfficer[];
  busy: boolean;
  /** Officers connected with on this visit: one rewarded connection per pair a day, so no second ask. */
  connectedIds: ReadonlySet<string>;
  virtualAllowed: boolean;
  onRequest: (officer: NearbyOfficer, virtual: boolean) => void;
}) {
  if (props.officers.length === 0)
    return (
      <p className="muted community-empty">
        No available officers near you right now. This list updates by itself.
      </p>
    );
  return (
    <ul className="community-list" aria-label="Available officers near you">
      {props.officers.map((officer) => {
        const name = nameOf(officer.profile, "Officer");
        return (
          <li key={officer.officerId} className="community-item">
            <ProfileLine profile={officer.profile} fallback="Officer" />
            <span className="community-distance numeric">{distanceText(officer.distanceM)}</span>
            {props.connectedIds.has(officer.officerId) ? (
              <span className="pill pill-good">Connected</span>
            ) : (
              <span className="community-actions">
                <button
                  type="button"
                  className="button primary small"
                  disabled={props.busy}
                  onClick={() => props.onRequest(officer, false)}
                  aria-label={`Connect with ${name}`}
                >
                  Connect
                </button>
                {props.virtualAllowed && (
                  <button
                    type="button"
                    className="button secondary small"
                    disabled={props.busy}
                    onClick={() => props.onRequest(officer, true)}
                    aria-label={`Connect virtually with ${name}`}
                  >
                    Virtually
                  </button>
                )}
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

function CitizenOutcome(props: { outcome: Outcome; onDismiss: () => void }) {
  const { outcome } = props;
  if (outcome.kind === "waiting")
    return (
      <p className="community-outcome waiting" data-testid="citizen-outcome">
        Waiting for {nameOf(outcome.officer.profile, "the officer")} to answer…
      </p>
    );
  if (outcome.kind === "connected")
    return (
      <div className="community-outcome connected" data-testid="citizen-outcome">
        <span className="celebrate" aria-hidden="true">
          ★
        </span>
        <p>
          <strong>You're connected with {nameOf(outcome.officer?.profile, "the officer")}!</strong>
        </p>
        <p className="community-points-earned">+{outcome.connection.pointsEach} points</p>
        <button type="button" className="button ghost small" onClick={props.onDismiss}>
          Done
        </button>
      </div>
    );
  const text =
    outcome.kind === "declined"
      ? `${nameOf(outcome.officer?.profile, "The officer")} can't connect right now.`
      : outcome.text;
  return (
    <div className="community-outcome declined" data-testid="citizen-outcome">
      <p>{text}</p>
      <button type="button" className="button ghost small" onClick={props.onDismiss}>
        OK
      </button>
    </div>
  );
}
