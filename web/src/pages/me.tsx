/**
 * The user's own pages: profile (display name, ZIP, avatar, and the community numbers projected from
 * Hey Blue! connections) and signed-in sessions and devices.
 */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { Alert, Field, Spinner } from "../components/form.tsx";
import { ApiError, errorMessage, get, request } from "../lib/api.ts";
import { addPasskey, passkeysSupported } from "../lib/passkeys.ts";

interface Profile {
  readonly displayName: string;
  readonly avatarUrl: string | null;
  readonly zipCode: string | null;
  readonly officer: {
    readonly agency: string;
    readonly badgeNumber: string;
    readonly verified: boolean;
  } | null;
  readonly community: Community;
}

/** From the community context's events, through the log (it may lag them by a moment). */
interface Community {
  readonly connectionsCount: number;
  /** Points (PTS has no decimals) as a decimal string. */
  readonly pointsEarned: string;
  readonly trophies: readonly { readonly code: string; readonly firstAwardedAt: string }[];
  readonly lastConnectionAt: string | null;
}

interface SessionItem {
  readonly id: string;
  readonly device: string;
  readonly ipCoarse: string;
  readonly createdAt: string;
  readonly lastUsedAt: string;
  readonly current: boolean;
}

interface PasskeyItem {
  readonly id: string;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
}

const when = (iso: string) => new Date(iso).toLocaleString();

export function ProfilePage() {
  const [profile, setProfile] = useState<Profile>();
  const [form, setForm] = useState({ displayName: "", zipCode: "", avatarUrl: "" });
  const [error, setError] = useState<{ field?: string | undefined; text: string }>();
  const [saved, setSaved] = useState(false);
  const load = useCallback(async () => {
    const found = await get<Profile>("/v1/me/profile");
    setProfile(found);
    setForm({
      displayName: found.displayName,
      zipCode: found.zipCode ?? "",
      avatarUrl: found.avatarUrl ?? "",
    });
  }, []);
  useEffect(() => {
    load().catch((e: unknown) => setError({ text: errorMessage(e) }));
  }, [load]);

  async function save(event: FormEvent) {
    event.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      const body = {
        displayName: form.displayName,
        zipCode: form.zipCode === "" ? null : form.zipCode,
        avatarUrl: form.avatarUrl === "" ? null : form.avatarUrl,
      };
      setProfile((await request<Profile>("/v1/me/profile", { method: "PATCH", body })).body);
      setSaved(true);
    } catch (e) {
      setError({ field: e instanceof ApiError ? e.problem.field : undefined, text: errorMessage(e) });
    }
  }

  if (!profile && !error) return <Spinner label="Loading your profile" />;
  const fieldError = (name: string) => (error?.field === name ? error.text : undefined);
  return (
    <div className="page narrow">
      <section className="card" aria-labelledby="profile-heading">
        <h2 id="profile-heading">Your profile</h2>
        {profile?.avatarUrl && (
          <img className="avatar" src={profile.avatarUrl} alt="" width={64} height={64} />
        )}
        <form onSubmit={save} noValidate>
          <Field
            label="Display name"
            value={form.displayName}
            maxLength={64}
            error={fieldError("displayName")}
            onChange={(e) => setForm({ ...form, displayName: e.target.value })}
          />
          <Field
            label="ZIP code"
            value={form.zipCode}
            inputMode="numeric"
            hint="12345 or 12345-6789"
            error={fieldError("zipCode")}
            onChange={(e) => setForm({ ...form, zipCode: e.target.value })}
          />
          <Field
            label="Avatar URL"
            value={form.avatarUrl}
            type="url"
            hint="An https address of a picture"
            error={fieldError("avatarUrl")}
            onChange={(e) => setForm({ ...form, avatarUrl: e.target.value })}
          />
          {error && !error.field && <Alert kind="error">{error.text}</Alert>}
          {saved && <Alert kind="success">Profile saved.</Alert>}
          <button type="submit" className="button primary">
            Save profile
          </button>
        </form>
        {profile?.officer && (
          <p className="muted">
            Officer, {profile.officer.agency} (badge {profile.officer.badgeNumber}):{" "}
            {profile.officer.verified ? "verified" : "awaiting verification"}
          </p>
        )}
      </section>
      {profile && <CommunitySection community={profile.community} />}
    </div>
  );
}

/** "first_connection" → "First connection". */
const trophyName = (code: string) => {
  const words = code.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** Connections, points earned and trophies (read only: the community programme sets them). */
function CommunitySection({ community }: { readonly community: Community }) {
  return (
    <section className="card" aria-labelledby="community-heading">
      <h2 id="community-heading">Community</h2>
      <dl className="details">
        <div>
          <dt>Connections</dt>
          <dd>{community.connectionsCount.toLocaleString()}</dd>
        </div>
        <div>
          <dt>Points earned</dt>
          <dd>{BigInt(community.pointsEarned).toLocaleString()}</dd>
        </div>
        <div>
          <dt>Last connection</dt>
          <dd>{community.lastConnectionAt ? when(community.lastConnectionAt) : "none yet"}</dd>
        </div>
      </dl>
      <h3>Trophies</h3>
      {community.trophies.length === 0 ? (
        <p className="muted small">No trophies yet.</p>
      ) : (
        <ul className="session-list" aria-label="Trophies">
          {community.trophies.map((trophy) => (
            <li key={trophy.code} className="session-item">
              <strong>{trophyName(trophy.code)}</strong>
              <span className="muted small">since {when(trophy.firstAwardedAt)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function SessionsPage() {
  const [items, setItems] = useState<readonly SessionItem[]>();
  const [error, setError] = useState<string>();
  const load = useCallback(async () => {
    setItems((await get<{ items: SessionItem[] }>("/v1/me/sessions")).items);
  }, []);
  useEffect(() => {
    load().catch((e: unknown) => setError(errorMessage(e)));
  }, [load]);

  async function revoke(id: string) {
    try {
      await request(`/v1/me/sessions/${id}`, { method: "DELETE" });
      await load();
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  return (
    <div className="page narrow">
      <section className="card" aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sessions and devices</h2>
        <p className="muted small">Where you are signed in. Sign out any device you do not recognise.</p>
        {error && <Alert kind="error">{error}</Alert>}
        {!items && !error && <Spinner label="Loading sessions" />}
        <ul className="session-list">
          {items?.map((s) => (
            <li key={s.id} className="session-item">
              <div>
                <strong>{s.device}</strong> {s.current && <span className="badge">This device</span>}
                <div className="muted small">
                  {s.ipCoarse} · signed in {when(s.createdAt)} · last active {when(s.lastUsedAt)}
                </div>
              </div>
              {!s.current && (
                <button type="button" className="button" onClick={() => void revoke(s.id)}>
                  Sign out <span className="visually-hidden">{s.device}</span>
                </button>
              )}
            </li>
          ))}
        </ul>
      </section>
      <PasskeysSection />
    </div>
  );
}

/** The user's passkeys: add one (this device's authenticator), remove any. */
function PasskeysSection() {
  const [items, setItems] = useState<readonly PasskeyItem[]>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const load = useCallback(async () => {
    setItems((await get<{ items: PasskeyItem[] }>("/v1/me/passkeys")).items);
  }, []);
  useEffect(() => {
    load().catch((e: unknown) => setError(errorMessage(e)));
  }, [load]);
  async function act(work: () => Promise<unknown>) {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      await load();
    } catch (e) {
      setError(
        e instanceof ApiError ? errorMessage(e) : "The passkey was not created (cancelled or not available).",
      );
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-labelledby="passkeys-heading">
      <h2 id="passkeys-heading">Passkeys</h2>
      <p className="muted small">
        Sign in without a password, and confirm large transfers, with this device.
      </p>
      {error && <Alert kind="error">{error}</Alert>}
      <ul className="session-list">
        {items?.map((p, i) => (
          <li key={p.id} className="session-item">
            <div>
              <strong>Passkey {i + 1}</strong>
              <div className="muted small">
                added {when(p.createdAt)}
                {p.lastUsedAt ? ` · last used ${when(p.lastUsedAt)}` : ""}
              </div>
            </div>
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => void act(() => request(`/v1/me/passkeys/${p.id}`, { method: "DELETE" }))}
            >
              Remove <span className="visually-hidden">passkey {i + 1}</span>
            </button>
          </li>
        ))}
      </ul>
      {passkeysSupported() && (
        <button type="button" className="button primary" disabled={busy} onClick={() => void act(addPasskey)}>
          {busy ? "Waiting for your device…" : "Add a passkey"}
        </button>
      )}
    </section>
  );
}
