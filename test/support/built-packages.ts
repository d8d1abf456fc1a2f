import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const root = join(import.meta.dirname, '..', '..');

/** Every package a user installs, by folder under packages/. */
export const PUBLISHED = [
  { dir: 'sdk', name: 'flowscale' },
  { dir: 'engine', name: '@flowscale/engine' },
  { dir: 'server', name: '@flowscale/server' },
  { dir: 'cli', name: '@flowscale/cli' },
  { dir: 'proxy', name: '@flowscale/proxy' },
  { dir: 'react', name: '@flowscale/react' },
] as const;
export type Published = (typeof PUBLISHED)[number];

// Built copies live under node_modules/.cache, keyed by what the build reads, so the Node 22 pass of
// `npm test` reuses the Node 20 pass's builds, and the repo's own dist/ (which other test files' processes
// may be reading) is never rebuilt under them.
const CACHE = join(root, 'node_modules', '.cache', 'flowscale-packages');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function buildInputs(pkgDir: string): string[] {
  return [
    ...filesUnder(join(pkgDir, 'src')),
    ...['package.json', 'tsup.config.ts', 'tsconfig.json', 'README.md'].map((f) => join(pkgDir, f)),
    join(root, 'tsconfig.base.json'),
    join(root, 'node_modules', 'tsup', 'package.json'),
  ].filter((file) => existsSync(file));
}

/** dist/ exists and every file in it is newer than every input of the build. */
function freshDist(pkgDir: string): boolean {
  const dist = join(pkgDir, 'dist');
  if (!existsSync(dist)) return false;
  const built = filesUnder(dist).map((file) => statSync(file).mtimeMs);
  if (built.length === 0) return false;
  const newestInput = Math.max(...buildInputs(pkgDir).map((file) => statSync(file).mtimeMs));
  return Math.min(...built) > newestInput;
}

function buildKey(pkgDir: string): string {
  const hash = createHash('sha256');
  for (const file of buildInputs(pkgDir)) {
    hash.update(file.slice(root.length)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The package as npm would publish it: package.json, README and the folders its "files" name, with dist/
 * built by the package's own tsup config. Returns the folder of that copy.
 */
export async function builtPackage(pkg: Published): Promise<string> {
  const source = join(root, 'packages', pkg.dir);
  const target = join(CACHE, `${pkg.dir}-${buildKey(source)}`);
  if (existsSync(join(target, 'package.json'))) return target;
  mkdirSync(CACHE, { recursive: true });
  const scratch = mkdtempSync(join(CACHE, `${pkg.dir}-build-`));
  // `npm test` builds every package just before the tests: a dist/ newer than all it is built from is
  // that build, and copying it saves building each package a second time.
  if (freshDist(source)) cpSync(join(source, 'dist'), join(scratch, 'dist'), { recursive: true });
  else
    await run(join(root, 'node_modules', '.bin', 'tsup'), ['--out-dir', join(scratch, 'dist')], {
      cwd: source,
    });
  const manifest = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { files?: string[] };
  for (const entry of ['package.json', 'README.md', ...(manifest.files ?? [])]) {
    if (entry !== 'dist' && existsSync(join(source, entry)))
      cpSync(join(source, entry), join(scratch, entry), { recursive: true });
  }
  try {
    renameSync(scratch, target);
  } catch {
    // Another process built the same inputs first; its copy is as good as ours.
    rmSync(scratch, { recursive: true, force: true });
  }
  // Builds of earlier sources are not needed again.
  for (const entry of readdirSync(CACHE)) {
    if (
      /^[a-z]+-[0-9a-f]{16}$/.test(entry) &&
      entry.startsWith(`${pkg.dir}-`) &&
      join(CACHE, entry) !== target
    ) {
      rmSync(join(CACHE, entry), { recursive: true, force: true });
    }
  }
  return target;
}

/**
 * A scratch project where the built packages are installed as real folders (as npm installs them), and
 * every other dependency is the repo's own install, linked. Returns its folder.
 */
export function consumerProject(built: ReadonlyMap<Published, string>): string {
  const project = mkdtempSync(join(tmpdir(), 'flowscale-consumer-'));
  const modules = join(project, 'node_modules');
  mkdirSync(join(modules, '@flowscale'), { recursive: true });
  const ours = new Set(PUBLISHED.map((p) => p.name));
  const link = (from: string, to: string) =>
    symlinkSync(from, to, statSync(from).isDirectory() ? 'dir' : 'file');
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry.startsWith('.') || ours.has(entry as Published['name'])) continue;
    if (entry === '@flowscale') continue;
    link(join(root, 'node_modules', entry), join(modules, entry));
  }
  for (const [pkg, dir] of built) {
    const installed = join(modules, pkg.name);
    cpSync(dir, installed, { recursive: true });
    // Dependencies npm could not hoist (another major at the root) sit in the package's own node_modules.
    const nested = join(root, 'packages', pkg.dir, 'node_modules');
    if (!existsSync(nested)) continue;
    mkdirSync(join(installed, 'node_modules'), { recursive: true });
    for (const entry of readdirSync(nested)) {
      if (entry.startsWith('.')) continue;
      link(join(nested, entry), join(installed, 'node_modules', entry));
    }
  }
  return project;
}
