// Captures the README's "Terminal transcript" section for real: starts `flowscale serve` on a fresh data
// dir, runs each command through bash (stdout and stderr together, as a terminal shows them), replays two
// runs on a pseudo-terminal with `script -q`, and writes the section into README.md.
// Run: node --conditions=flowscale-source --import tsx packages/cli/scripts/transcript.ts
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const README = here('../README.md');
const BIN = here('../src/bin.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const FLOWSCALE = `node --conditions=flowscale-source --import ${TSX} ${BIN}`;

const work = mkdtempSync(join(tmpdir(), 'fs-cli-transcript-'));
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');
const SPINNER = /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /;

// A gradient, so the blurred output visibly differs from the input.
const raw = Buffer.alloc(64 * 48 * 3);
for (let i = 0; i < 64 * 48; i++) raw.set([(i % 64) * 4, Math.floor(i / 64) * 5, 128], i * 3);
await sharp(raw, { raw: { width: 64, height: 48, channels: 3 } })
  .png()
  .toFile(join(work, 'photo.png'));
writeFileSync(join(work, 'notes.txt'), 'this is not an image\n');

async function startServe(): Promise<{ child: ChildProcess; url: string; key: string; banner: string }> {
  const child = spawn('bash', ['-c', `exec ${FLOWSCALE} serve --port 0 --data-dir .data`], {
    cwd: work,
    env: { ...process.env, FLOWSCALE_API_KEY: '', FLOWSCALE_LOG_LEVEL: 'warn' },
  });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      out += d;
    });
    child.stdout!.on('data', (d) => {
      out += d;
      const url = /listening on (\S+)/.exec(out)?.[1];
      const key = /Save it now:\s+(\S+)/.exec(out)?.[1];
      if (url && key && out.includes('press Ctrl-C')) {
        const banner = out
          .split('\n')
          .filter((l) => !l.startsWith('{'))
          .join('\n')
          .replace(key, '<the key, redacted here>')
          .trim();
        resolve({ child, url, key, banner });
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

const { child: server, url, key, banner } = await startServe();
const env: NodeJS.ProcessEnv = { ...process.env, FLOWSCALE_API_URL: url, FLOWSCALE_API_KEY: key };
delete env.NO_COLOR;

/** One command as a person would type it; `flowscale` is a shell function for the source binary. */
function shell(command: string): string {
  const r = spawnSync('bash', ['-c', `flowscale() { ${FLOWSCALE} "$@"; }\n${command} 2>&1`], {
    cwd: work,
    env,
    encoding: 'utf8',
  });
  const tail = r.status === 0 ? '' : `[exit ${r.status}]\n`;
  return `$ ${command}\n${r.stdout.trimEnd()}\n${tail}`;
}

/** A run on a pseudo-terminal; each redraw of the live line becomes its own line, colours stripped. */
function onTerminal(command: string, keys: Array<[number, string]> = []): string {
  const input = keys.map(([delay, text]) => `sleep ${delay}; printf '${text}'`).join('; ');
  const feed = input ? `(${input}; sleep 3)` : 'true';
  const inner = `${FLOWSCALE} ${command.replace(/^flowscale /, '')}`;
  const r = spawnSync('bash', ['-c', `${feed} | script -q -e -c '${inner}' /dev/null`], {
    cwd: work,
    env,
    encoding: 'utf8',
  });
  const lines: string[] = [];
  for (const line of r.stdout.split('\n')) {
    let previous = '';
    for (const frame of line.split('\r').map((s) => s.replace(ANSI, ''))) {
      if (!frame.trim()) continue;
      // Merge frames that differ only by the spinner or the step counter.
      const key = frame.replace(SPINNER, '').replace(/ \d+\/\d+(\^C)?$/, '');
      if (key === previous) lines[lines.length - 1] = frame;
      else lines.push(frame);
      previous = key;
    }
  }
  return `$ ${command}\n${lines.join('\n')}\n`;
}

const plain = [
  'flowscale health',
  'flowscale workflows',
  'flowscale workflows show blur-image',
  'flowscale run blur-image -i image_1=@photo.png -i value_2=4 --out results',
  'flowscale run text-echo -i default_value_1="hello terminal" --out results',
  'ls results && cat results/*.txt',
  'flowscale run blur-imag -i image_1=@photo.png',
  'flowscale run blur-image -i image_1=@foto.png',
  'flowscale run blur-image -i radius=3',
  'flowscale run invert-image -i image_1=@notes.txt',
  'FLOWSCALE_API_KEY=not-the-key flowscale queue',
  'FLOWSCALE_API_URL=http://127.0.0.1:9 flowscale health',
  'flowscale run solid-color -i default_value_1=32 --out results --json',
  'flowscale runs --page-size 3',
  'flowscale types --out src/flowscale-workflows.gen.ts',
  'sed -n 1,14p src/flowscale-workflows.gen.ts',
]
  .map(shell)
  .join('\n');
const completed = onTerminal('flowscale run slow-delay -i default_value_1=done -i value_4=1.5 --out results');
const cancelled = onTerminal('flowscale run slow-delay -i default_value_1=zzz -i value_4=20', [
  [3, '\\003'],
  [1.5, 'y\\r'],
]);

server.kill('SIGINT');
await new Promise((r) => server.once('exit', r));
rmSync(work, { recursive: true, force: true });

const fence = (body: string) => `\`\`\`console\n${body.trimEnd()}\n\`\`\``;
const section = `## Terminal transcript

Real sessions, captured by \`packages/cli/scripts/transcript.ts\` against a server it starts with
\`flowscale serve\` on a fresh data directory (in this checkout \`flowscale\` is
\`node --conditions=flowscale-source --import tsx packages/cli/src/bin.ts\`). Without a terminal (a script, CI),
progress is one plain line per step on stderr and the result on stdout; both are shown together here, as
\`2>&1\` would. The \`[exit n]\` lines were added by the capture script.

${fence(`$ flowscale serve --port 0 --data-dir .data\n${banner}`)}

(The server's JSON log lines are left out and the generated key is redacted.)

${fence(plain)}

On a terminal the progress is one redrawn line with a spinner, a bar, the running node and its step
count. Captured with \`script -q\`; each redraw is shown as its own line (repeated spinner frames and step
counts merged) and colours are stripped:

${fence(completed)}

Ctrl-C on a terminal asks first (answered \`y\` here; exit code 130):

${fence(cancelled)}

`;
const readme = readFileSync(README, 'utf8');
const start = readme.indexOf('## Terminal transcript');
const end = readme.indexOf('## Development');
writeFileSync(README, readme.slice(0, start) + section + readme.slice(end));
console.log(section);
