/**
 * "People you paid": the signed-in customer's interactions (GET /v1/clients/{me}/interactions),
 * those they sent money to, most recent first. One tap opens the transfer form with the person's
 * account filled in (and, when the customer has one in that currency, the account to pay from).
 */
import { useEffect, useState } from "react";
import { errorMessage, get } from "../lib/api.ts";
import { formatIban } from "../lib/iban.ts";
import { formatMoney } from "../lib/money.ts";
import { Link } from "../lib/router.tsx";
import { userIdOf } from "../lib/session.ts";
import { useApp } from "../state.tsx";
import { Alert, Spinner } from "./form.tsx";
import { Icon } from "./icons.tsx";

interface Totals {
  readonly asset: string;
  readonly sentCount: number;
  readonly sent: string;
}

interface Interaction {
  readonly counterpartyClientId: string;
  readonly counterpartyUsername: string | null;
  readonly counterpartyIban: string;
  readonly totals: readonly Totals[];
  readonly lastAt: string;
}

const shownMax = 5;

export function PeopleYouPaid() {
  const { session, accounts, notifications } = useApp();
  const userId = userIdOf(session);
  const [people, setPeople] = useState<Interaction[]>();
  const [error, setError] = useState<string>();
  // Reloaded when a new notification arrives: a transfer just made shows up here too.
  const newest = notifications[0]?.id;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `newest` is the reload trigger
  useEffect(() => {
    if (!userId) return;
    const abort = new AbortController();
    get<{ items: Interaction[] }>(
      `/v1/clients/${encodeURIComponent(userId)}/interactions?limit=20`,
      abort.signal,
    )
      .then((page) => {
        setPeople(page.items.filter((i) => i.totals.some((t) => t.sentCount > 0)).slice(0, shownMax));
        setError(undefined);
      })
      .catch((caught: unknown) => {
        if (!abort.signal.aborted) setError(errorMessage(caught));
      });
    return () => abort.abort();
  }, [userId, newest]);

  if (!userId) return null;
  return (
    <section aria-labelledby="people-heading" className="card" data-testid="people-you-paid">
      <div className="section-header">
        <h2 id="people-heading">People you paid</h2>
      </div>
      {error && <Alert kind="error">Couldn't load the people you paid: {error}</Alert>}
      {!people && !error && <Spinner label="Loading people you paid" />}
      {people && people.length === 0 && (
        <p className="muted">Nobody yet. People you send money to show up here.</p>
      )}
      {people && people.length > 0 && (
        <ul className="people-list">
          {people.map((person) => {
            const sent = person.totals.filter((t) => t.sentCount > 0);
            const asset = sent[0]?.asset;
            const from = accounts.find((account) => account.asset === asset)?.iban;
            const query = `to=${encodeURIComponent(person.counterpartyIban)}${from ? `&from=${encodeURIComponent(from)}` : ""}`;
            const name = person.counterpartyUsername ?? formatIban(person.counterpartyIban);
            return (
              <li key={person.counterpartyClientId}>
                <Link href={`/transfer?${query}`} className="person">
                  <span className="person-name">{name}</span>
                  <span className="muted small">
                    {sent.map((t) => `${t.sentCount}× · ${formatMoney(t.sent, t.asset)}`).join(", ")}
                  </span>
                  <span className="pay-again">
                    <Icon name="send" /> Pay again
                  </span>
                </Link>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
