import { type FormEvent, useEffect, useState } from "react";
import { Alert, Field, Spinner } from "../components/form.tsx";
import { Icon } from "../components/icons.tsx";
import { ApiError, errorMessage, request } from "../lib/api.ts";
import { passkeysSupported, signInWithPasskey } from "../lib/passkeys.ts";
import { Link, navigate } from "../lib/router.tsx";
import { homePath, isAdmin, sessionFromToken, setSession } from "../lib/session.ts";

interface LoginAnswer {
  readonly accessToken: string;
  readonly expiresIn?: number;
}

interface Provider {
  readonly id: string;
  readonly displayName: string;
  readonly startUrl: string;
}

/** The OpenID Connect providers configured on the server (none: no buttons). */
function useProviders(): readonly Provider[] {
  const [providers, setProviders] = useState<readonly Provider[]>([]);
  useEffect(() => {
    const controller = new AbortController();
    request<{ providers: Provider[] }>("/v1/auth/providers", { anonymous: true, signal: controller.signal })
      .then(({ body }) => setProviders(body.providers))
      .catch(() => setProviders([]));
    return () => controller.abort();
  }, []);
  return providers;
}

/** One button per provider: a plain link, since the browser leaves for the provider's page. */
function ProviderButtons() {
  const providers = useProviders();
  if (providers.length === 0) return null;
  return (
    <div className="stack provider-buttons">
      {providers.map((provider) => (
        <a key={provider.id} className="button block" href={provider.startUrl}>
          Continue with {provider.displayName}
        </a>
      ))}
      <p className="muted small provider-or">or with your username</p>
    </div>
  );
}

async function signIn(username: string, password: string): Promise<void> {
  const { body } = await request<LoginAnswer>("/v1/auth/login", {
    // The refresh token as an httpOnly cookie: page scripts never hold it.
    body: { username, password, refreshTokenIn: "cookie" },
    anonymous: true,
  });
  setSession(sessionFromToken(body.accessToken, body.expiresIn, username));
}

function authError(error: unknown, mode: "signin" | "register"): string {
  if (error instanceof ApiError) {
    if (error.problem.code === "invalid_credentials") return "That username and password don't match.";
    if (error.problem.code === "username_taken") return "That username is taken. Pick another one.";
    if (error.problem.code === "rate_limited") return "Too many attempts. Wait a minute and try again.";
    if (error.problem.code === "validation_failed" && mode === "register") {
      return error.problem.detail ?? "Check the username and password.";
    }
  }
  return errorMessage(error);
}

function AuthFrame(props: { title: string; subtitle: string; children: React.ReactNode }) {
  useEffect(() => {
    document.title = `${props.title} · Ledgerflow`;
  }, [props.title]);
  return (
    <div className="auth-page">
      <section className="auth-hero" aria-hidden="true">
        <div className="auth-hero-inner">
          <img src="/icons/icon.svg" alt="" width="56" height="56" />
          <p className="hero-title">Money that moves in real time.</p>
          <ul className="hero-points">
            <li>
              <Icon name="shield" /> Double-entry ledger, every cent accounted for
            </li>
            <li>
              <Icon name="send" /> Transfers confirmed in milliseconds
            </li>
            <li>
              <Icon name="bell" /> Live balances and instant notifications
            </li>
          </ul>
        </div>
      </section>
      <main className="auth-main" id="main">
        <div className="auth-card">
          <div className="brand auth-brand">
            <img src="/icons/icon.svg" alt="" width="36" height="36" />
            <span>Ledgerflow</span>
          </div>
          <h1>{props.title}</h1>
          <p className="muted">{props.subtitle}</p>
          {props.children}
        </div>
      </main>
    </div>
  );
}

export function SignInPage() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(username.trim(), password);
      navigate(homePath(), { replace: true });
    } catch (caught) {
      setError(authError(caught, "signin"));
      setBusy(false);
    }
  };

  return (
    <AuthFrame title="Sign in" subtitle="Welcome back. Sign in to your wallet.">
      <ProviderButtons />
      <form onSubmit={submit} className="stack" noValidate>
        {error && <Alert kind="error">{error}</Alert>}
        <Field
          label="Username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          required
          value={username}
          onChange={(event) => setUsername(event.target.value)}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <button type="submit" className="button primary block" disabled={busy || !username || !password}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <PasskeySignIn onError={setError} />
      <p className="auth-switch">
        New to Ledgerflow? <Link href="/register">Create an account</Link>
      </p>
    </AuthFrame>
  );
}

/** "Sign in with a passkey": any passkey of this site; shown only where the browser has WebAuthn. */
function PasskeySignIn(props: { onError: (message: string | undefined) => void }) {
  const [busy, setBusy] = useState(false);
  if (!passkeysSupported()) return null;
  const start = async (): Promise<void> => {
    setBusy(true);
    props.onError(undefined);
    try {
      const body = await signInWithPasskey<LoginAnswer>();
      const session = sessionFromToken(body.accessToken, body.expiresIn, "");
      setSession(session);
      navigate(homePath(session), { replace: true });
    } catch (caught) {
      props.onError(
        caught instanceof ApiError
          ? "That passkey did not sign you in. Try again, or use your password."
          : "The passkey sign-in was cancelled or is not available here.",
      );
      setBusy(false);
    }
  };
  return (
    <button type="button" className="button block" disabled={busy} onClick={() => void start()}>
      {busy ? "Waiting for your passkey…" : "Sign in with a passkey"}
    </button>
  );
}

// Mirrors src/identity/service.ts; the server checks again.
const passwordLengthMin = 10;

export function RegisterPage() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const tooShort = password.length > 0 && password.length < passwordLengthMin;

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (password.length < passwordLengthMin) {
      setError(`Use at least ${passwordLengthMin} characters for your password.`);
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await request("/v1/auth/register", { body: { username: username.trim(), password }, anonymous: true });
      await signIn(username.trim(), password);
      // Registration continues with the phone number (seed 002): verified now, or later.
      navigate("/verify-phone?welcome=1", { replace: true });
    } catch (caught) {
      setError(authError(caught, "register"));
      setBusy(false);
    }
  };

  return (
    <AuthFrame title="Create your wallet" subtitle="It takes a few seconds. No card needed.">
      <form onSubmit={submit} className="stack" noValidate>
        {error && <Alert kind="error">{error}</Alert>}
        <Field
          label="Username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          required
          hint="3 to 64 letters, digits, dots, dashes or underscores."
          value={username}
          onChange={(event) => setUsername(event.target.value)}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={passwordLengthMin}
          hint={`At least ${passwordLengthMin} characters.`}
          error={tooShort ? `${passwordLengthMin - password.length} more characters needed` : undefined}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <button type="submit" className="button primary block" disabled={busy || !username || !password}>
          {busy ? "Creating your wallet…" : "Create account"}
        </button>
      </form>
      <p className="auth-switch">
        Already have a wallet? <Link href="/signin">Sign in</Link>
      </p>
    </AuthFrame>
  );
}

/**
 * Where the server sends the browser after a provider sign-in: the one-time ticket is in the
 * fragment (never sent to a server); it is exchanged for the session, then removed from history.
 */
export function OidcCompletePage() {
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ticket = new URLSearchParams(location.hash.slice(1)).get("ticket");
    history.replaceState(null, "", "/signin/oidc");
    if (!ticket) {
      setError("This sign-in link is incomplete. Start again from the sign-in page.");
      return;
    }
    (async () => {
      const { body } = await request<LoginAnswer>("/v1/auth/oidc/exchange", {
        // As a password sign-in: the refresh token as an httpOnly cookie.
        body: { ticket, refreshTokenIn: "cookie" },
        anonymous: true,
      });
      const session = sessionFromToken(body.accessToken, body.expiresIn, "");
      setSession(session);
      const phone = await request<{ verified: boolean }>("/v1/me/phone").catch(() => undefined);
      navigate(
        phone && !phone.body.verified && !isAdmin(session) ? "/verify-phone?welcome=1" : homePath(session),
        {
          replace: true,
        },
      );
    })().catch(() =>
      setError("That sign-in did not work or took too long. Start again from the sign-in page."),
    );
  }, []);
  return (
    <AuthFrame title="Signing you in" subtitle="One moment…">
      {error ? (
        <>
          <Alert kind="error">{error}</Alert>
          <p className="auth-switch">
            <Link href="/signin">Back to sign in</Link>
          </p>
        </>
      ) : (
        <Spinner label="Signing you in" />
      )}
    </AuthFrame>
  );
}
