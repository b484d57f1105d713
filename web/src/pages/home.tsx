import { LiveBalance } from "../components/balance.tsx";
import { Alert, Spinner } from "../components/form.tsx";
import { Icon } from "../components/icons.tsx";
import { NotificationList } from "../components/notification-list.tsx";
import { PeopleYouPaid } from "../components/people-you-paid.tsx";
import { formatIban } from "../lib/iban.ts";
import { assetInfo, formatMoney } from "../lib/money.ts";
import { Link } from "../lib/router.tsx";
import type { Account } from "../lib/types.ts";
import { useApp } from "../state.tsx";

function totalsByAsset(accounts: readonly Account[]): { asset: string; total: bigint }[] {
  const totals = new Map<string, bigint>();
  for (const account of accounts) {
    if (!/^-?[0-9]+$/.test(account.balance)) continue;
    totals.set(account.asset, (totals.get(account.asset) ?? 0n) + BigInt(account.balance));
  }
  return [...totals.entries()].map(([asset, total]) => ({ asset, total }));
}

export function HomePage() {
  const { accounts, accountsLoaded, accountsError, session, notifications } = useApp();
  const totals = totalsByAsset(accounts);

  return (
    <div className="page">
      <section className="hero-card" aria-labelledby="total-heading">
        <p className="hero-greeting">Hello, {session?.username}</p>
        <h2 id="total-heading" className="hero-label">
          Total balance
        </h2>
        <div className="hero-totals">
          {totals.length === 0 ? (
            <span className="hero-amount">{accountsLoaded ? "—" : " "}</span>
          ) : (
            totals.map(({ asset, total }) => (
              <span className="hero-amount" key={asset}>
                {formatMoney(total, asset)}
              </span>
            ))
          )}
        </div>
        <div className="hero-actions">
          <Link href="/transfer" className="button on-dark">
            <Icon name="send" /> Transfer
          </Link>
          <Link href="/accounts/new" className="button on-dark-ghost">
            <Icon name="plus" /> Open account
          </Link>
        </div>
      </section>

      <div className="columns">
        <section aria-labelledby="accounts-heading" className="column-main">
          <div className="section-header">
            <h2 id="accounts-heading">Your accounts</h2>
            <Link href="/accounts/new" className="text-link">
              Open account
            </Link>
          </div>
          {accountsError && <Alert kind="error">Couldn't load your accounts: {accountsError}</Alert>}
          {!accountsLoaded && <Spinner label="Loading accounts" />}
          {accountsLoaded && accounts.length === 0 && !accountsError && (
            <div className="empty card">
              <Icon name="wallet" size={32} />
              <p>You don't have an account yet.</p>
              <Link href="/accounts/new" className="button primary">
                Open your first account
              </Link>
            </div>
          )}
          <ul className="account-list">
            {accounts.map((account) => (
              <li key={account.iban}>
                <Link href={`/accounts/${encodeURIComponent(account.iban)}`} className="account-card">
                  <span className={`asset-badge asset-${account.asset.toLowerCase()}`} aria-hidden="true">
                    {assetInfo(account.asset).symbol || account.asset.slice(0, 3)}
                  </span>
                  <span className="account-meta">
                    <span className="account-name">{assetInfo(account.asset).name} account</span>
                    <span className="iban">{formatIban(account.iban)}</span>
                  </span>
                  <LiveBalance balance={account.balance} asset={account.asset} className="account-balance" />
                  <Icon name="chevron" className="chevron" />
                </Link>
              </li>
            ))}
          </ul>
          {accounts.length > 0 && <PeopleYouPaid />}
        </section>
        <section aria-labelledby="recent-heading" className="column-side card">
          <div className="section-header">
            <h2 id="recent-heading">Recent activity</h2>
            <Link href="/notifications" className="text-link">
              See all
            </Link>
          </div>
          <NotificationList notifications={notifications.slice(0, 5)} />
        </section>
      </div>
    </div>
  );
}
