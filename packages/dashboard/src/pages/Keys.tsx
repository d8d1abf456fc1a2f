import type { ApiKeyRecord, CreatedApiKey } from 'flowscale';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { errorText, useSession } from '../auth';
import { Confirm, CopyButton, Empty, ErrorBox, Loading } from '../components/bits';
import { Extras } from '../components/Extras';
import { dateTime } from '../format';

export function Keys() {
  const { client, isAdmin } = useSession();
  const [keys, setKeys] = useState<ApiKeyRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<'user' | 'admin'>('user');
  const [revoking, setRevoking] = useState<ApiKeyRecord | null>(null);

  const load = useCallback(async () => {
    try {
      setKeys((await client.listApiKeys()).data);
    } catch (err) {
      setError(errorText(err));
    }
  }, [client]);
  useEffect(() => {
    if (isAdmin) void load();
  }, [isAdmin, load]);

  if (isAdmin === null) return <Loading what="keys" />;
  if (!isAdmin) return <ErrorBox>Keys are managed with an admin API key.</ErrorBox>;

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    try {
      setCreated((await client.createApiKey({ name: name.trim(), role })).data);
      setName('');
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const revoke = async (key: ApiKeyRecord) => {
    setRevoking(null);
    try {
      await client.revokeApiKey(key.id);
      await load();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">API keys</h1>
      <form className="panel row" onSubmit={create} aria-label="Create an API key">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as 'user' | 'admin')}>
            <option value="user">user</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button type="submit">Create key</button>
      </form>
      {created && (
        <div className="panel created" role="status" data-testid="created-key">
          <p>
            Key <strong>{created.name}</strong> created. Copy it now: it is not shown again.
          </p>
          <p className="row">
            <code className="mono secret">{created.key}</code>
            <CopyButton text={created.key} label="Copy key" />
            <button type="button" className="small secondary" onClick={() => setCreated(null)}>
              Done
            </button>
          </p>
        </div>
      )}
      {error && <ErrorBox>{error}</ErrorBox>}
      {!keys && !error && <Loading what="keys" />}
      {keys?.length === 0 && <Empty>No stored keys (keys from FLOWSCALE_API_KEY are not listed).</Empty>}
      {keys && keys.length > 0 && (
        <div className="table-wrap">
          <table className="keys">
            <caption className="visually-hidden">API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Prefix</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id} data-key={key.name}>
                  <td data-label="Name" className="clip">
                    {key.name}
                  </td>
                  <td data-label="Role">{key.role}</td>
                  <td data-label="Prefix" className="mono">
                    {key.prefix}…
                  </td>
                  <td data-label="Created">{dateTime(key.created_at)}</td>
                  <td data-label="Last used">{dateTime(key.last_used_at)}</td>
                  <td data-label="State">
                    {key.revoked_at ? (
                      `revoked ${dateTime(key.revoked_at)}`
                    ) : (
                      <button type="button" className="small danger" onClick={() => setRevoking(key)}>
                        Revoke<span className="visually-hidden"> {key.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Extras />
      {revoking && (
        <Confirm
          title="Revoke this key?"
          confirmLabel="Revoke key"
          onConfirm={() => void revoke(revoking)}
          onCancel={() => setRevoking(null)}
        >
          <p>
            Requests with <strong>{revoking.name}</strong> ({revoking.prefix}…) will be refused at once.
          </p>
        </Confirm>
      )}
    </section>
  );
}
