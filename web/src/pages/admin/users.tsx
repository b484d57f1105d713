/** Admin: users with their roles, searchable, a page at a time. */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { Alert, Field, Spinner } from "../../components/form.tsx";
import { errorMessage, get } from "../../lib/api.ts";

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
                  <td>{u.roles.join(", ")}</td>
                  <td>{u.officer ? `${u.officer.agency}${u.officer.verified ? " (verified)" : ""}` : "—"}</td>
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
