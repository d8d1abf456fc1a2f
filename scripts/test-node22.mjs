// The second pass of `npm test`: the library packages' tests (the vitest project "libraries", see
// vitest.config.ts) on Node 22, which comes from the npm registry (`npx node@22`) as the machine's Node is
// 20. Extra arguments go to vitest. Prints how long the pass took.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'node_modules', '.cache', 'flowscale-node22');
const started = Date.now();
const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);

/** Node 22 from the registry: its binary, its module ABI and its version. */
function findNode22() {
  const probe = 'JSON.stringify([process.execPath, process.versions.modules, process.version])';
  const out = execFileSync('npx', ['-y', 'node@22', '-p', probe], { cwd: tmpdir(), encoding: 'utf8' });
  const [execPath, abi, version] = JSON.parse(out.trim().split('\n').pop());
  return { execPath, abi, version };
}

/**
 * Node's headers, for compiling an addon: those beside the binary when they are there, else from the
 * registry's package of the same Node build (node-<platform>-<arch>, whose tarball has include/), kept.
 */
function headersDir(node) {
  const prefix = join(dirname(node.execPath), '..');
  const platformPkg = `node-${process.platform}-${process.arch}`;
  const kept = join(cache, `${platformPkg}-${node.version}`);
  const candidates = [prefix, join(prefix, 'node_modules', platformPkg), kept];
  const found = candidates.find((dir) => existsSync(join(dir, 'include', 'node', 'node.h')));
  if (found) return found;
  mkdirSync(cache, { recursive: true });
  const scratch = mkdtempSync(join(cache, 'headers-'));
  try {
    const spec = `${platformPkg}@${node.version.replace(/^v/, '')}`;
    const packed = execFileSync('npm', ['pack', spec, '--pack-destination', scratch, '--silent'], {
      cwd: scratch,
      encoding: 'utf8',
    });
    const tarball = join(scratch, packed.trim().split('\n').pop());
    execFileSync('tar', ['-xzf', tarball, '-C', scratch, 'package/include']);
    renameSync(join(scratch, 'package'), kept);
    return kept;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** npm's own node-gyp, which every npm install has. */
function nodeGyp() {
  const candidates = [];
  if (process.env.npm_execpath) {
    candidates.push(
      join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    );
  }
  const globalRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  candidates.push(join(globalRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`npm's node-gyp not found (looked at ${candidates.join(', ')})`);
  return found;
}

/**
 * better-sqlite3 compiled for Node 22's ABI from the installed package's own sources (the prebuilt binaries
 * it would download are out of reach), once: later passes reuse it.
 */
function sqliteAddon(node) {
  const pkgDir = join(root, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const addon = join(
    cache,
    `better_sqlite3-${version}-abi${node.abi}-${process.platform}-${process.arch}.node`,
  );
  if (existsSync(addon)) return addon;
  const since = Date.now();
  mkdirSync(cache, { recursive: true });
  const scratch = mkdtempSync(join(cache, 'better-sqlite3-'));
  try {
    for (const entry of ['binding.gyp', 'deps', 'src', 'package.json']) {
      cpSync(join(pkgDir, entry), join(scratch, entry), { recursive: true });
    }
    const args = [nodeGyp(), 'rebuild', '--release', `--nodedir=${headersDir(node)}`, '--jobs=2'];
    // Under `npm test`, npm hands its config down as npm_config_* variables, and node-gyp lets them win
    // over its flags: npm_config_nodedir=/usr would build against this machine's Node 20 headers.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_config_')),
    );
    const build = spawnSync(node.execPath, args, { cwd: scratch, encoding: 'utf8', env });
    if (build.status !== 0) {
      process.stderr.write(`${build.stdout}\n${build.stderr}\n`);
      throw new Error(`compiling better-sqlite3 for Node ${node.version} failed`);
    }
    const built = join(scratch, 'build', 'Release', 'better_sqlite3.node');
    // A binary built for another Node is refused here, not cached for every later pass to trip on.
    const load = `process.dlopen({ exports: {} }, ${JSON.stringify(built)})`;
    const check = spawnSync(node.execPath, ['-e', load], { encoding: 'utf8' });
    if (check.status !== 0)
      throw new Error(`better-sqlite3 built for Node ${node.version} does not load in it:\n${check.stderr}`);
    copyFileSync(built, `${addon}.tmp`);
    renameSync(`${addon}.tmp`, addon);
    console.log(`better-sqlite3 ${version} compiled for Node ${node.version} in ${seconds(since)} s`);
    return addon;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const node = findNode22();
const addon = sqliteAddon(node);
const hook = pathToFileURL(join(root, 'scripts', 'node22', 'sqlite-addon-hook.mjs')).href;
const env = {
  ...process.env,
  // Children that run `node` by name get Node 22 too.
  PATH: `${dirname(node.execPath)}:${process.env.PATH ?? ''}`,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${hook}`.trim(),
  FLOWSCALE_NODE22_SQLITE_ADDON: addon,
  FLOWSCALE_TEST_LIBRARIES: '1',
};
console.log(`== Node ${node.version}: vitest run --project libraries`);
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = [vitest, 'run', '--project', 'libraries', ...process.argv.slice(2)];
const result = spawnSync(node.execPath, args, { cwd: root, env, stdio: 'inherit' });
console.log(`Node ${node.version} pass: ${seconds(started)} s in all`);
process.exit(result.status ?? 1);
