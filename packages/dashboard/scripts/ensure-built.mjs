// Run before `npm start`: builds the dashboard when its build is missing or older than its sources (a fresh
// clone, or after a pull). When the build is current this costs a directory walk, not a build.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../../..');
const built = join(repo, 'packages/server/dashboard/index.html');
// The dashboard bundles these from source.
const sources = [
  'packages/dashboard/src',
  'packages/dashboard/index.html',
  'packages/dashboard/vite.config.ts',
  'packages/sdk/src',
  'packages/react/src',
];

function newest(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const builtAt = statSync(built, { throwIfNoEntry: false })?.mtimeMs ?? 0;
const changedAt = Math.max(...sources.map((source) => newest(join(repo, source))));
if (builtAt < changedAt) {
  console.log(
    builtAt ? 'Dashboard sources changed: rebuilding it…' : 'Building the dashboard (first start)…',
  );
  const result = spawnSync('npm', ['run', 'build', '-w', '@flowscale/dashboard'], {
    cwd: repo,
    stdio: 'inherit',
  });
  // A failed build must not stop the API from starting: /dashboard/ then explains how to build.
  if (result.status !== 0) console.error('The dashboard build failed; the API starts without it.');
}
