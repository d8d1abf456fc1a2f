import { useEffect, useState } from 'react';
import { useSession } from '../auth';
import { asText } from '../format';

/** Admin reads the server may gain (projects, usage, webhooks); a section shows only once its endpoint answers. */
const PROBES = [
  { title: 'Projects', path: 'admin/projects' },
  { title: 'Usage', path: 'usage' },
  { title: 'Webhooks', path: 'admin/webhooks' },
];

type Rows = Array<Record<string, unknown>>;

const toRows = (data: unknown): Rows | null => {
  if (Array.isArray(data)) return data.filter((row) => typeof row === 'object' && row !== null) as Rows;
  if (data && typeof data === 'object') {
    const list = Object.values(data).find(Array.isArray);
    return list ? toRows(list) : [data as Record<string, unknown>];
  }
  return null;
};

function Table({ title, rows }: { title: string; rows: Rows }) {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))].slice(0, 8);
  return (
    <section className="panel" aria-label={title}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p className="empty">None yet.</p>
      ) : (
        // A wide table scrolls sideways: the scroll region must be reachable from the keyboard.
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region needs focus (WCAG 2.1.1)
        <section className="table-wrap" tabIndex={0} aria-label={`${title} table`}>
          <table>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c} scope="col">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: rows of an unknown shape have no key of their own
                <tr key={i}>
                  {columns.map((c) => (
                    <td key={c} data-label={c} className="clip">
                      {asText(row[c])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </section>
  );
}

export function Extras() {
  const { client } = useSession();
  const [found, setFound] = useState<Array<{ title: string; rows: Rows }>>([]);
  useEffect(() => {
    let live = true;
    Promise.all(
      PROBES.map(async ({ title, path }) => {
        try {
          const rows = toRows((await client.getJson<unknown>(path)).data);
          return rows ? { title, rows } : null;
        } catch {
          return null; // not on this server (404) or not for this key
        }
      }),
    ).then((results) => live && setFound(results.filter((r) => r !== null)));
    return () => {
      live = false;
    };
  }, [client]);
  return (
    <>
      {found.map(({ title, rows }) => (
        <Table key={title} title={title} rows={rows} />
      ))}
    </>
  );
}
