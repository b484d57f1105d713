import { useEffect } from "react";
import { Spinner } from "./components/form.tsx";
import { Shell } from "./components/shell.tsx";
import { matchPath, navigate, usePath } from "./lib/router.tsx";
import { homePath, isAdmin, isCommunityMember, isInsightStaff, isReviewer } from "./lib/session.ts";
import { AccountPage } from "./pages/account.tsx";
import { BranchesPage } from "./pages/admin/branches.tsx";
import { ClientInsightPage } from "./pages/admin/clients.tsx";
import { DashboardPage } from "./pages/admin/dashboard.tsx";
import { DeadLettersPage } from "./pages/admin/dead-letters.tsx";
import { GatewaysPage } from "./pages/admin/gateways.tsx";
import { LatestTransactionsPage } from "./pages/admin/latest.tsx";
import { PaymentsExplorerPage } from "./pages/admin/payments.tsx";
import { ReviewsPage } from "./pages/admin/reviews.tsx";
import { ScreeningListsPage } from "./pages/admin/screening-lists.tsx";
import { UsersPage } from "./pages/admin/users.tsx";
import { OidcCompletePage, RegisterPage, SignInPage } from "./pages/auth.tsx";
import { CommunityPage } from "./pages/community.tsx";
import { HomePage } from "./pages/home.tsx";
import { ProfilePage, SessionsPage } from "./pages/me.tsx";
import { NotificationsPage } from "./pages/notifications.tsx";
import { OpenAccountPage } from "./pages/open-account.tsx";
import { PaymentsPage } from "./pages/payments.tsx";
import { VerifyPhonePage } from "./pages/phone.tsx";
import { ReceiptPage } from "./pages/receipt.tsx";
import { TransferPage } from "./pages/transfer.tsx";
import { AppProvider, useApp, useSession } from "./state.tsx";

function Redirect(props: { to: string }) {
  useEffect(() => navigate(props.to, { replace: true }), [props.to]);
  return null;
}

function NotFound() {
  return (
    <div className="page narrow">
      <div className="card empty">
        <p>There's nothing at this address.</p>
        <a href="/" className="button primary">
          Go to your accounts
        </a>
      </div>
    </div>
  );
}

function SignedIn(props: { path: string }) {
  const { session, features } = useApp();
  const { path } = props;
  const admin = isAdmin(session);

  const account = matchPath("/accounts/:iban", path);
  const receipt = matchPath("/receipts/:id", path);
  const optional = [
    "/payments",
    "/admin/payments",
    "/admin/gateways",
    "/admin/dlq",
    "/admin/screening-lists",
  ];
  if (!features.checked && optional.includes(path))
    return (
      <Shell title="Loading">
        <div className="page narrow center">
          <Spinner label="Loading" />
        </div>
      </Shell>
    );
  if (path === "/") return <Shell title="Accounts">{<HomePage />}</Shell>;
  if (path === "/accounts/new") return <Shell title="Open account">{<OpenAccountPage />}</Shell>;
  if (account?.iban) return <Shell title="Account">{<AccountPage iban={account.iban} />}</Shell>;
  if (path === "/transfer") return <Shell title="Transfer">{<TransferPage />}</Shell>;
  if (path === "/notifications") return <Shell title="Activity">{<NotificationsPage />}</Shell>;
  if (path === "/verify-phone") return <Shell title="Phone">{<VerifyPhonePage />}</Shell>;
  if (path === "/profile") return <Shell title="Profile">{<ProfilePage />}</Shell>;
  if (path === "/sessions") return <Shell title="Sessions">{<SessionsPage />}</Shell>;
  if (path === "/community" && isCommunityMember(session))
    return <Shell title="Community">{<CommunityPage />}</Shell>;
  if (admin && path === "/admin/users") return <Shell title="Users">{<UsersPage />}</Shell>;
  if (path === "/payments" && features.payments) return <Shell title="Payments">{<PaymentsPage />}</Shell>;
  if (receipt?.id) return <Shell title="Receipt">{<ReceiptPage id={receipt.id} />}</Shell>;
  if (isReviewer(session) && path === "/admin/reviews")
    return <Shell title="Reviews">{<ReviewsPage />}</Shell>;
  if (isInsightStaff(session) && path === "/admin/clients")
    return <Shell title="Client insight">{<ClientInsightPage />}</Shell>;
  if (isInsightStaff(session) && path === "/admin/branches")
    return <Shell title="Branches">{<BranchesPage />}</Shell>;
  if (admin && path === "/admin") return <Shell title="Dashboard">{<DashboardPage />}</Shell>;
  if (admin && path === "/admin/transactions")
    return <Shell title="Latest transactions">{<LatestTransactionsPage />}</Shell>;
  if (admin && path === "/admin/dlq" && features.deadLetters)
    return <Shell title="Dead letters">{<DeadLettersPage />}</Shell>;
  if (admin && path === "/admin/payments" && features.payments)
    return <Shell title="Payment lookup">{<PaymentsExplorerPage />}</Shell>;
  if (admin && path === "/admin/gateways" && features.gateways)
    return <Shell title="Gateways">{<GatewaysPage />}</Shell>;
  if (admin && path === "/admin/screening-lists" && features.screeningLists)
    return <Shell title="Screening lists">{<ScreeningListsPage />}</Shell>;
  return <Shell title="Not found">{<NotFound />}</Shell>;
}

function Routes() {
  const path = usePath();
  const session = useSession();
  // Before the session check: this page creates the session, then moves on by itself.
  if (path === "/signin/oidc") return <OidcCompletePage />;
  if (path === "/signin") return session ? <Redirect to={homePath(session)} /> : <SignInPage />;
  if (path === "/register") return session ? <Redirect to={homePath(session)} /> : <RegisterPage />;
  if (!session) return <Redirect to="/signin" />;
  return <SignedIn path={path} />;
}

export function App() {
  return (
    <AppProvider>
      <Routes />
    </AppProvider>
  );
}
