import { asText } from '../format';

/** A device as the server's inventory reports it (from the backend's /system_stats). */
interface Device {
  name?: string;
  type?: string;
  vram_total?: number | null;
  vram_free?: number | null;
}

/** What GET /api/v1/admin/fleet adds for admins: the model files themselves, not only their counts. */
export interface FleetDetail {
  container: string;
  models?: Record<string, string[]>;
  node_classes?: string[];
}

/** Fields of the health answer shown on their own; anything else a server adds is listed generically. */
const SHOWN = new Set([
  'container',
  'status',
  'node_count',
  'models',
  'devices',
  'inventory_read_at',
  'inventory_error',
]);

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;

function vram(device: Device): string {
  const { vram_total: total, vram_free: free } = device;
  if (typeof total !== 'number' || total <= 0) return 'unknown';
  return typeof free === 'number' ? `${gib(free)} free of ${gib(total)}` : gib(total);
}

function Models({ counts, files }: { counts: Record<string, number>; files?: Record<string, string[]> }) {
  const folders = Object.entries(counts).filter(([, n]) => n > 0);
  if (folders.length === 0) return <dd>none</dd>;
  return (
    <dd>
      <ul className="plain" data-testid="models">
        {folders.map(([folder, n]) => (
          <li key={folder}>
            <span className="mono">{folder}</span>: {n}
            {files?.[folder]?.length ? (
              <span className="files" title={files[folder].join(', ')}>
                {' '}
                ({files[folder].slice(0, 5).join(', ')}
                {files[folder].length > 5 ? '…' : ''})
              </span>
            ) : null}
          </li>
        ))}
      </ul>
    </dd>
  );
}

/** What a backend can run, where the server knows it: node count, models and each device's VRAM. */
export function Inventory({ health, detail }: { health: Record<string, unknown>; detail?: FleetDetail }) {
  const devices = Array.isArray(health.devices) ? (health.devices as Device[]) : [];
  const counts = (health.models ?? null) as Record<string, number> | null;
  const extra = Object.entries(health).filter(([key]) => !SHOWN.has(key));
  return (
    <dl className="extras inventory">
      <div>
        <dt>Node classes</dt>
        <dd className="num" data-testid="node-count">
          {typeof health.node_count === 'number' ? health.node_count : '—'}
        </dd>
      </div>
      <div>
        <dt>Models</dt>
        {counts ? <Models counts={counts} files={detail?.models} /> : <dd>—</dd>}
      </div>
      {devices.map((device) => (
        <div key={`${device.name}:${device.type}`} data-testid="device">
          <dt>VRAM{devices.length > 1 ? ` (${device.name})` : ''}</dt>
          <dd className="num" title={`${device.name ?? ''} ${device.type ?? ''}`}>
            {vram(device)}
          </dd>
        </div>
      ))}
      {typeof health.inventory_error === 'string' && (
        <div>
          <dt>Inventory error</dt>
          <dd>{health.inventory_error}</dd>
        </div>
      )}
      {extra.map(([key, value]) => (
        <div key={key}>
          <dt>{key.replaceAll('_', ' ')}</dt>
          <dd className="clip" title={asText(value)}>
            {asText(value)}
          </dd>
        </div>
      ))}
    </dl>
  );
}
