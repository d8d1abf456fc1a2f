// The dashboard's JavaScript size (minified + gzip, as the server ships it) and the time from navigation to
// the runs table showing 100 runs, in headless Chromium against a real server on loopback, with where that
// time goes. Baselines taken in the same run make the figure readable on a loaded machine: `node -e 0`, and
// a bare page (static HTML, the dashboard's CSS, a 100-row table, no script) served by the same server.
// Run: npm run bench -- bench/dashboard.ts   (builds the dashboard first if its build is missing)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startServer } from '@flowscale/server';
import { type Browser, chromium } from 'playwright-core';

const root = join(import.meta.dirname, '..');
const builtDir = join(root, 'packages/server/dashboard');
const SIZE_GOAL = 150 * 1024;
const TIME_GOAL_MS = 1000;
const RUNS = 100;
const ROUNDS = 7;
const key = 'dashboard-bench-key';

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};
const ms = (n: number) => `${n.toFixed(0)} ms`;

function jsSize(assets: string): { min: number; gzip: number } {
  let min = 0;
  let gzip = 0;
  for (const file of readdirSync(assets).filter((name) => name.endsWith('.js'))) {
    const bytes = readFileSync(join(assets, file));
    min += bytes.byteLength;
    gzip += gzipSync(bytes, { level: 9 }).byteLength;
  }
  return { min, gzip };
}

/** The same markup the dashboard renders for 100 rows, as static HTML linking the dashboard's own CSS. */
function writeBarePage(dir: string): string {
  const css = readdirSync(join(dir, 'assets')).find((name) => name.endsWith('.css'));
  const row = (i: number) =>
    `<tr data-run-id="r${i}"><td><a href="#">r${i}</a></td><td><span class="badge badge-completed">completed</span></td>` +
    `<td><div class="bar" role="progressbar" aria-valuenow="100"><div></div></div></td><td>text-echo</td>` +
    `<td>—</td><td>1/1/26, 10:00:00</td><td>12 ms</td><td>40 ms</td></tr>`;
  const rows = Array.from({ length: RUNS }, (_, i) => row(i)).join('');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bare</title>
<link rel="stylesheet" href="${css}"></head><body><main><table class="runs"><tbody>${rows}</tbody></table></main></body></html>`;
  writeFileSync(join(dir, 'assets', 'bare-baseline.html'), html);
  return 'assets/bare-baseline.html';
}

/** Marks, taken inside the page: when the table first holds `n` rows, and the next frame after that. */
function watchRows(n: number): void {
  const w = window as unknown as { __rows?: number; __frame?: number };
  new MutationObserver((_, observer) => {
    if (document.querySelectorAll('tr[data-run-id]').length < n) return;
    observer.disconnect();
    w.__rows = performance.now();
    requestAnimationFrame(() => {
      w.__frame = performance.now();
    });
  }).observe(document, { childList: true, subtree: true });
}

interface Load {
  document: number;
  scriptStart: number;
  scriptFirstByte: number;
  script: number;
  firstApi: number;
  runsStart: number;
  runsEnd: number;
  rows: number;
  frame: number;
}

async function coldLoad(browser: Browser, url: string, signedIn: boolean): Promise<Load> {
  // A fresh context: a cold cache, signed in as the page would be after sign-in.
  const context = await browser.newContext();
  if (signedIn) {
    await context.addInitScript((k) => sessionStorage.setItem('flowscale.dashboard.apiKey', k), key);
  }
  await context.addInitScript(watchRows, RUNS);
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { __frame?: number }).__frame !== undefined);
  const load = await page.evaluate(() => {
    const w = window as unknown as { __rows: number; __frame: number };
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    const script = resources.find((e) => e.name.endsWith('.js'));
    const api = resources.filter((e) => e.name.includes('/api/v1/'));
    const runs = api.find((e) => /\/api\/v1\/runs\?/.test(e.name));
    return {
      document: nav.responseEnd,
      scriptStart: script?.startTime ?? 0,
      scriptFirstByte: script?.responseStart ?? 0,
      script: script?.responseEnd ?? 0,
      firstApi: Math.min(...api.map((e) => e.startTime), Number.POSITIVE_INFINITY),
      runsStart: runs?.startTime ?? 0,
      runsEnd: runs?.responseEnd ?? 0,
      rows: w.__rows,
      frame: w.__frame,
    };
  });
  if (process.env.BENCH_VERBOSE) console.log(JSON.stringify(load));
  await context.close();
  return load;
}

function nodeStartup(): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    times.push(performance.now() - start);
  }
  return median(times);
}

spawnSync(process.execPath, [join(root, 'packages/dashboard/scripts/ensure-built.mjs')], {
  stdio: 'inherit',
});
const tmp = mkdtempSync(join(tmpdir(), 'dashboard-bench-'));
// A copy, so the bare baseline page can sit next to the real assets without touching the build.
const dashboardDir = join(tmp, 'dashboard');
cpSync(builtDir, dashboardDir, { recursive: true });
const size = jsSize(join(dashboardDir, 'assets'));
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `dashboard JS: ${kb(size.min)} min, ${kb(size.gzip)} min+gzip (goal ≤ ${kb(SIZE_GOAL)}: ${size.gzip <= SIZE_GOAL ? 'met' : 'NOT met'})`,
);
const bare = writeBarePage(dashboardDir);

const server = await startServer({
  port: 0,
  dataDir: join(tmp, 'data'),
  apiKeys: [key],
  logLevel: 'silent',
  dashboardDir,
});
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  // 100 runs of the quickest workflow, submitted concurrently in tens.
  for (let i = 0; i < RUNS; i += 10) {
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const response = await fetch(`${server.url}/api/v1/runs?workflow_id=text-echo`, {
          method: 'POST',
          headers: { 'X-API-KEY': key },
        });
        if (!response.ok) throw new Error(`submit: ${response.status} ${await response.text()}`);
      }),
    );
  }
  // Measured once the runs are done: the embedded engine shares this process's CPU.
  for (let unfinished = RUNS; unfinished > 0; ) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const response = await fetch(`${server.url}/api/v1/runs?status=queued,running&page_size=1`, {
      headers: { 'X-API-KEY': key },
    });
    unfinished = ((await response.json()) as { data: { count: number } }).data.count;
  }
  // Interleaved, so a burst of load from elsewhere hits both alike.
  const loads: Load[] = [];
  const bares: Load[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bares.push(await coldLoad(browser, `${server.url}/dashboard/${bare}`, false));
    loads.push(await coldLoad(browser, `${server.url}/dashboard/#/runs?size=${RUNS}`, true));
  }
  const m = (pick: (load: Load) => number, from: Load[] = loads) => median(from.map(pick));
  const total = m((l) => l.frame);
  const bareTotal = m((l) => l.frame, bares);
  console.log(
    `navigation → ${RUNS} runs in the table (next frame): median ${ms(total)}, ` +
      `min ${ms(Math.min(...loads.map((l) => l.frame)))}, max ${ms(Math.max(...loads.map((l) => l.frame)))} ` +
      `over ${ROUNDS} cold loads (goal < ${ms(TIME_GOAL_MS)}: ${total < TIME_GOAL_MS ? 'met' : 'NOT met'})`,
  );
  console.log('  where it goes (medians, each step from the end of the one before):');
  console.log(`    page HTML received        ${ms(m((l) => l.document))}`);
  console.log(
    `    script received           +${ms(m((l) => l.script - l.document))} (asked at ${ms(m((l) => l.scriptStart))}, ` +
      `first byte +${ms(m((l) => l.scriptFirstByte - l.scriptStart))}, last +${ms(m((l) => l.script - l.scriptFirstByte))})`,
  );
  console.log(
    `    script run, app mounted   +${ms(m((l) => l.firstApi - l.script))} (first API request leaves)`,
  );
  console.log(`    runs list requested       +${ms(m((l) => l.runsStart - l.firstApi))}`);
  console.log(`    runs list answered        +${ms(m((l) => l.runsEnd - l.runsStart))}`);
  console.log(`    100 rows in the DOM       +${ms(m((l) => l.rows - l.runsEnd))}`);
  console.log(`    next frame (painted)      +${ms(m((l) => l.frame - l.rows))}`);
  console.log(
    `baselines, same run: bare static page with the same 100 rows: median ${ms(bareTotal)}; ` +
      `\`node -e 0\`: median ${ms(nodeStartup())}; load average ${loadavg()[0]?.toFixed(1)}`,
  );
  console.log(`dashboard / bare page: ${(total / bareTotal).toFixed(1)}×`);
} finally {
  await browser.close();
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
}
