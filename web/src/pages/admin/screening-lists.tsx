/**
 * Screening lists (admin), backed by GET /v1/risk/lists: each list's version in force, its entry
 * count, what the last load changed (added, removed, unchanged), when it was loaded and from where
 * (a file, a URL or an S3 object). Loads are done by `ledgerflow feeder` or the scheduled feeder;
 * this page only shows them.
 */
import { useCallback, useEffect, useState } from "react";
import { Alert, Spinner } from "../../components/form.tsx";
import { Icon } from "../../components/icons.tsx";
import { errorMessage, get } from "../../lib/api.ts";

interface ScreeningList {
  readonly list: string;
  readonly version: number;
  readonly loadedAt: string;
  readonly source: string;
  readonly format: string;
  readonly entries: number;
  readonly added: number;
  readonly removed: number;
  readonly unchanged: number;
  /** The version this server screens against, when it screens (handler processes). */
  readonly screeningVersion?: number;
}

function when(iso: string): string {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "medium" });
}

function count(value: number): string {
  return value.toLocaleString();
}

function ListRow(props: { list: ScreeningList }) {
  const { list } = props;
  const behind = list.screeningVersion !== undefined && list.screeningVersion !== list.version;
  return (
    <tr data-testid="screening-list" data-list={list.list}>
      <td data-label="List" className="cell-title">
        <code>{list.list}</code>
      </td>
      <td data-label="Version" className="numeric" data-testid="list-version">
        {list.version}
        {behind && (
          <span className="pill pill-bad" title="This server still screens against an older version">
            screening v{list.screeningVersion}
          </span>
        )}
      </td>
      <td data-label="Entries" className="numeric" data-testid="list-entries">
        {count(list.entries)}
      </td>
      <td data-label="Last load" data-testid="list-last-load">
        +{count(list.added)} added · −{count(list.removed)} removed · {count(list.unchanged)} unchanged
      </td>
      <td data-label="Loaded">
        <time dateTime={list.loadedAt}>{when(list.loadedAt)}</time>
      </td>
      <td data-label="Source" data-testid="list-source">
        <code className="wrap">{list.source}</code> <span className="muted small">({list.format})</span>
      </td>
    </tr>
  );
}

export function ScreeningListsPage() {
  const [lists, setLists] = useState<readonly ScreeningList[]>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setLists((await get<{ lists: ScreeningList[] }>("/v1/risk/lists")).lists);
      setError(undefined);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div className="page wide stack">
      <div className="intro-row">
        <p className="muted intro-text">
          The lists transfers and cash operations are screened against. Each load is a new version swapped in
          whole; a rejected file leaves the version in force.
        </p>
        <button
          type="button"
          className="button secondary small"
          onClick={() => void load()}
          disabled={loading}
        >
          <Icon name="refresh" size={16} /> Refresh
        </button>
      </div>
      {error && <Alert kind="error">{error}</Alert>}
      {!lists && !error && <Spinner label="Loading screening lists" />}
      {lists && lists.length === 0 && (
        <div className="card empty" data-testid="no-lists">
          <Icon name="shield" size={32} />
          <p>
            No list has been loaded yet. Load one with <code>ledgerflow feeder --file|--url|--s3</code>.
          </p>
        </div>
      )}
      {lists && lists.length > 0 && (
        <section className="card">
          <table className="table stacked" data-testid="screening-lists">
            <thead>
              <tr>
                <th scope="col">List</th>
                <th scope="col" className="numeric">
                  Version
                </th>
                <th scope="col" className="numeric">
                  Entries
                </th>
                <th scope="col">Last load</th>
                <th scope="col">Loaded</th>
                <th scope="col">Source</th>
              </tr>
            </thead>
            <tbody>
              {lists.map((list) => (
                <ListRow key={list.list} list={list} />
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
