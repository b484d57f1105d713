/**
 * Branches (back office): every branch seen in a cash operation, with its cash volumes and clients
 * (GET /v1/branches); admins set its address and zip code (PATCH /v1/branches/{id}).
 */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { Alert, Field, Spinner } from "../../components/form.tsx";
import { errorMessage, get, request } from "../../lib/api.ts";
import { formatMoney } from "../../lib/money.ts";
import { isAdmin } from "../../lib/session.ts";
import { useApp } from "../../state.tsx";

interface Branch {
  readonly id: string;
  readonly name: string;
  readonly address: string | null;
  readonly zipCode: string | null;
  readonly clientsCount: number;
  readonly volumes: {
    asset: string;
    deposits: number;
    withdrawals: number;
    deposited: string;
    withdrawn: string;
  }[];
}

function AddressForm(props: { branch: Branch; onSaved: () => void }) {
  const { branch } = props;
  const [address, setAddress] = useState(branch.address ?? "");
  const [zipCode, setZipCode] = useState(branch.zipCode ?? "");
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    try {
      await request(`/v1/branches/${branch.id}`, {
        method: "PATCH",
        body: { address: address.trim() || null, zipCode: zipCode.trim() || null },
      });
      setError(undefined);
      props.onSaved();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setSaving(false);
    }
  };
  return (
    <form className="row" onSubmit={save} aria-label={`Address of ${branch.name}`}>
      <Field label="Address" name="address" value={address} onChange={(e) => setAddress(e.target.value)} />
      <Field label="Zip code" name="zipCode" value={zipCode} onChange={(e) => setZipCode(e.target.value)} />
      <button type="submit" className="button secondary" disabled={saving}>
        Save
      </button>
      {error && <Alert kind="error">{error}</Alert>}
    </form>
  );
}

export function BranchesPage() {
  const { session } = useApp();
  const [branches, setBranches] = useState<Branch[]>();
  const [error, setError] = useState<string>();
  const load = useCallback(async () => {
    try {
      setBranches((await get<{ items: Branch[] }>("/v1/branches?limit=100")).items);
      setError(undefined);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  }, []);
  useEffect(() => void load(), [load]);
  return (
    <div className="page wide stack">
      {error && <Alert kind="error">{error}</Alert>}
      {!branches && !error && <Spinner label="Loading branches" />}
      {branches && branches.length === 0 && <p className="muted">No branch has had a cash operation yet.</p>}
      {branches?.map((branch) => (
        <section key={branch.id} className="card stack" data-testid="branch" aria-label={branch.name}>
          <div className="section-header">
            <h2>{branch.name}</h2>
            <span className="muted small">{branch.clientsCount} clients</span>
          </div>
          <p data-testid="branch-address">
            {branch.address || branch.zipCode
              ? [branch.address, branch.zipCode].filter(Boolean).join(", ")
              : "No address yet"}
          </p>
          <ul>
            {branch.volumes.map((v) => (
              <li key={v.asset}>
                {v.deposits} deposits ({formatMoney(v.deposited, v.asset)}), {v.withdrawals} withdrawals (
                {formatMoney(v.withdrawn, v.asset)})
              </li>
            ))}
          </ul>
          {isAdmin(session) && <AddressForm branch={branch} onSaved={() => void load()} />}
        </section>
      ))}
    </div>
  );
}
