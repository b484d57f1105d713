/**
 * Phone verification, the step that completes registration: the number, then the six-digit code
 * sent to it. In embedded mode the development SMS sink's code is shown on the page (no SMS leaves).
 */
import { type FormEvent, useEffect, useState } from "react";
import { Alert, Field, Spinner } from "../components/form.tsx";
import { ApiError, errorMessage, request } from "../lib/api.ts";
import { Link, navigate, useSearchParam } from "../lib/router.tsx";
import { homePath } from "../lib/session.ts";

interface PhoneStatus {
  readonly phoneNumber?: string;
  readonly verified: boolean;
  readonly pending?: { readonly phoneNumber: string };
}

function phoneError(error: unknown): string {
  if (error instanceof ApiError) {
    const { code, attemptsLeft } = error.problem;
    if (code === "phone_invalid" || (code === "validation_failed" && error.problem.field === "phoneNumber"))
      return "That is not a phone number we can send to. Use the international form, e.g. +31 6 1234 5678.";
    if (code === "phone_taken") return "That number belongs to another account.";
    if (code === "rate_limited") return "Too many codes sent. Try again later.";
    if (code === "otp_invalid")
      return typeof attemptsLeft === "number" && attemptsLeft > 0
        ? `That code is not right. ${attemptsLeft} ${attemptsLeft === 1 ? "try" : "tries"} left.`
        : "That code is not right, and it no longer works. Send a new code.";
    if (code === "otp_expired") return "That code has expired or was used up. Send a new code.";
  }
  return errorMessage(error);
}

/** The code the development sink "sent" (embedded mode only; elsewhere the route does not exist). */
async function devCode(): Promise<string | undefined> {
  try {
    return (await request<{ code: string }>("/v1/me/phone/dev-code")).body.code;
  } catch {
    return undefined;
  }
}

export function VerifyPhonePage() {
  const welcome = useSearchParam("welcome") === "1";
  const [status, setStatus] = useState<PhoneStatus>();
  const [phoneNumber, setPhoneNumber] = useState("");
  const [sentTo, setSentTo] = useState<string>();
  const [shownCode, setShownCode] = useState<string>();
  const [code, setCode] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [verified, setVerified] = useState<string>();

  useEffect(() => {
    request<PhoneStatus>("/v1/me/phone")
      .then(({ body }) => setStatus(body))
      .catch((caught) => setError(phoneError(caught)));
  }, []);

  const send = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { body } = await request<{ status: string; phoneNumber: string }>("/v1/me/phone", {
        body: { phoneNumber: phoneNumber.trim() },
      });
      if (body.status === "verified") setVerified(body.phoneNumber);
      else {
        setSentTo(body.phoneNumber);
        setShownCode(await devCode());
      }
    } catch (caught) {
      setError(phoneError(caught));
    }
    setBusy(false);
  };

  const verify = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { body } = await request<{ phoneNumber: string }>("/v1/me/phone/verify", {
        body: { code: code.trim() },
      });
      setVerified(body.phoneNumber);
    } catch (caught) {
      setError(phoneError(caught));
    }
    setBusy(false);
  };

  return (
    <div className="page narrow">
      <section className="card stack" aria-labelledby="phone-heading">
        <h2 id="phone-heading">Verify your phone</h2>
        {welcome && !verified && (
          <p className="muted">
            Your wallet is ready. One more step: confirm your phone number with a code we text you.
          </p>
        )}
        {error && <Alert kind="error">{error}</Alert>}
        {!status && !error && <Spinner label="Loading" />}
        {verified ? (
          <>
            <Alert kind="success">Your phone number {verified} is verified.</Alert>
            <button
              type="button"
              className="button primary block"
              onClick={() => navigate(homePath(), { replace: true })}
            >
              Continue
            </button>
          </>
        ) : sentTo ? (
          <form onSubmit={verify} className="stack" noValidate>
            <p>We sent a six-digit code to {sentTo}.</p>
            {shownCode && (
              <Alert kind="info">
                <span data-testid="dev-code-note">
                  Development mode: no SMS was sent. Your code is{" "}
                  <strong data-testid="dev-code">{shownCode}</strong>
                </span>
              </Alert>
            )}
            <Field
              label="Code"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              required
              value={code}
              onChange={(event) => setCode(event.target.value)}
            />
            <button
              type="submit"
              className="button primary block"
              disabled={busy || code.trim().length !== 6}
            >
              {busy ? "Checking…" : "Verify"}
            </button>
            <button type="button" className="button block" onClick={() => setSentTo(undefined)}>
              Use another number or send a new code
            </button>
          </form>
        ) : (
          status && (
            <form onSubmit={send} className="stack" noValidate>
              {status.verified && (
                <p>Your verified number is {status.phoneNumber}. Changing it verifies the new one.</p>
              )}
              <Field
                label="Phone number"
                name="phoneNumber"
                type="tel"
                autoComplete="tel"
                hint="With the country code, e.g. +31 6 1234 5678."
                required
                value={phoneNumber}
                onChange={(event) => setPhoneNumber(event.target.value)}
              />
              <button
                type="submit"
                className="button primary block"
                disabled={busy || phoneNumber.trim() === ""}
              >
                {busy ? "Sending…" : "Send code"}
              </button>
            </form>
          )
        )}
        {!verified && (
          <p className="auth-switch">
            <Link href={homePath()}>Not now</Link>
          </p>
        )}
      </section>
    </div>
  );
}
