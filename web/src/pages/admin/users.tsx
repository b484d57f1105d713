/** Admin: users with their roles, searchable, a page at a time. */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { Alert, Field, Spinner } from "../../components/form.tsx";
import { errorMessage, get, request } from "../../lib/api.ts";

/** Every role an admin can grant (the server's list: src/platform/http/auth.ts). */
const grantableRoles = [
  "customer",
  "teller",
  "compliance",
  "auditor",
  "admin",
  "officer",
  "citizen",
  "retailer",
  "charity",
] as const;

interface UserItem {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[];
  readonly displayName: string | null;
  readonly officer: { readonly agency: string; readonly verified: boolean } | null;
}

interface UserPage {
  readonly items: readonly UserItem[];
  readonly nextCursor: string | null;
}

export function UsersPage() {
  const [search, setSearch] = useState("");
  const [users, setUsers] = useState<readonly UserItem[]>();
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const load = useCallback(async (query: string, cursor: string | null) => {
    const params = new URLSearchParams({ limit: "50" });
    if (query) params.set("search", query);
    if (cursor) params.set("cursor", cursor);
    const page = await get<UserPage>(`/v1/admin/users?${params}`);
    setUsers((before) => (cursor ? [...(before ?? []), ...page.items] : page.items));
    setNext(page.nextCursor);
  }, []);
  useEffect(() => {
    load("", null).catch((e: unknown) => setError(errorMessage(e)));
  }, [load]);

  const replaceOfficer = (id: string, officer: UserItem["officer"]) =>
    setUsers((before) => before?.map((u) => (u.id === id ? { ...u, officer } : u)));
  const replaceUser = (changed: UserItem) =>
    setUsers((before) => before?.map((u) => (u.id === changed.id ? { ...u, roles: changed.roles } : u)));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    load(search.trim(), null).catch((e: unknown) => setError(errorMessage(e)));
  };

  return (
    <div className="page">
      <section className="card" aria-labelledby="users-heading">
        <h2 id="users-heading">Users</h2>
        <form onSubmit={submit} aria-label="User search">
          <Field
            label="Search users"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            hint="Username or display name, from the start"
          />
        </form>
        {error && <Alert kind="error">{error}</Alert>}
        {!users && !error && <Spinner label="Loading users" />}
        {users && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Display name</th>
                <th scope="col">Roles</th>
                <th scope="col">Officer</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id}>
                  <td>{u.username}</td>
                  <td>{u.displayName ?? "—"}</td>
                  <td>
                    <RoleEditor user={u} onChanged={replaceUser} onError={setError} />
                  </td>
                  <td>
                    <OfficerCell user={u} onChanged={replaceOfficer} onError={setError} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {next && (
          <button type="button" className="button" onClick={() => void load(search.trim(), next)}>
            More users
          </button>
        )}
      </section>
    </div>
  );
}

/** A user's roles, each revocable, and a role to grant: PUT/DELETE /v1/admin/users/{id}/roles/{role}. */
function RoleEditor(props: {
  user: UserItem;
  onChanged: (user: UserItem) => void;
  onError: (message: string | undefined) => void;
}) {
  const { user } = props;
  const missing = grantableRoles.filter((role) => !user.roles.includes(role));
  const [role, setRole] = useState<string>(missing[0] ?? "");
  const [busy, setBusy] = useState(false);
  const change = async (method: "PUT" | "DELETE", which: string) => {
    setBusy(true);
    props.onError(undefined);
    try {
      const answer = await request<UserItem>(`/v1/admin/users/${user.id}/roles/${which}`, { method });
      props.onChanged({ ...user, roles: answer.body.roles });
    } catch (error) {
      props.onError(`${user.username}: ${errorMessage(error)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="role-editor">
      <ul className="chips" aria-label={`Roles of ${user.username}`}>
        {user.roles.map((held) => (
          <li key={held} className="chip">
            {held}
            <button
              type="button"
              className="chip-remove"
              aria-label={`Revoke ${held} from ${user.username}`}
              disabled={busy}
              onClick={() => void change("DELETE", held)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {missing.length > 0 && (
        <span className="role-grant">
          <select
            aria-label={`Role to grant ${user.username}`}
            value={missing.includes(role as (typeof missing)[number]) ? role : missing[0]}
            onChange={(e) => setRole(e.target.value)}
          >
            {missing.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="button small"
            disabled={busy}
            onClick={() =>
              void change(
                "PUT",
                missing.includes(role as (typeof missing)[number]) ? role : (missing[0] ?? ""),
              )
            }
          >
            Grant
          </button>
        </span>
      )}
    </div>
  );
}

/** An officer's agency, and the admin's verification of it (or its withdrawal). */
function OfficerCell(props: {
  user: UserItem;
  onChanged: (id: string, officer: UserItem["officer"]) => void;
  onError: (message: string | undefined) => void;
}) {
  const { user } = props;
  const [busy, setBusy] = useState(false);
  if (!user.officer) return <>—</>;
  const officer = user.officer;
  const verify = async (verified: boolean) => {
    setBusy(true);
    props.onError(undefined);
    try {
      await request(`/v1/admin/users/${user.id}/officer-verification`, {
        method: "POST",
        body: { verified },
      });
      props.onChanged(user.id, { ...officer, verified });
    } catch (error) {
      props.onError(`${user.username}: ${errorMessage(error)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="officer-cell">
      {officer.agency}
      {officer.verified ? " (verified) " : " "}
      <button
        type="button"
        className="button small"
        disabled={busy}
        onClick={() => void verify(!officer.verified)}
      >
        {officer.verified ? `Withdraw verification of ${user.username}` : `Verify ${user.username}`}
      </button>
    </span>
  );
}
