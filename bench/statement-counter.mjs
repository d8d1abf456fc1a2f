// Preloaded into a server process by the benches (`node --import ./bench/statement-counter.mjs …`): counts
// every SQL statement the process sends, without a line of server code changed. Postgres: each
// `pg.Client#query` (pools, kysely, pg-boss and the LISTEN connection all end there), i.e. one round trip.
// SQLite: each better-sqlite3 statement run (`run`, `get`, `all`, `iterate`, including the BEGIN and COMMIT
// of `db.transaction`) and each `exec`/`pragma`. On SIGUSR2 the process writes one line to stderr:
//   FS_STATEMENTS {"total":n,"byStatement":{"pg SELECT …":n,…}}
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(path.join(process.cwd(), 'package.json'));
let total = 0;

// Counted by raw text, so counting costs a map update (the CPU per run the benches measure includes it);
// statements are normalized into readable keys only when reported.
function count(kind, text) {
  total++;
  const byText = kind === 'pg' ? pgCounts : sqliteCounts;
  byText.set(text, (byText.get(text) ?? 0) + 1);
}
const pgCounts = new Map();
const sqliteCounts = new Map();

// FS_STATEMENT_TRACE=1 also writes each Postgres statement with its start time and duration to stderr.
const trace = process.env.FS_STATEMENT_TRACE === '1';
const now = () => performance.timeOrigin + performance.now();

const pg = require('pg');
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(config, ...rest) {
  const text = typeof config === 'string' ? config : (config?.text ?? '?');
  count('pg', text);
  if (!trace) return query.call(this, config, ...rest);
  const started = now();
  const app = this.connectionParameters?.application_name ?? '';
  const line = String(text).replace(/\s+/g, ' ').trim().slice(0, 100);
  const done = () =>
    fs.writeSync(2, `FS_TRACE ${started.toFixed(1)} +${(now() - started).toFixed(1)}ms [${app}] ${line}\n`);
  // pg.Pool#query passes a callback; everything else gets a promise back.
  const callback = rest.at(-1);
  if (typeof callback === 'function') {
    rest[rest.length - 1] = (...args) => {
      done();
      return callback(...args);
    };
  }
  const result = query.call(this, config, ...rest);
  if (result && typeof result.then === 'function') result.then(done, () => undefined);
  return result;
};

const Database = require('better-sqlite3');
const probe = new Database(':memory:');
const Statement = Object.getPrototypeOf(probe.prepare('select 1'));
probe.close();
for (const method of ['run', 'get', 'all', 'iterate']) {
  const original = Statement[method];
  Statement[method] = function countedStatement(...args) {
    count('sqlite', this.source);
    return original.apply(this, args);
  };
}
for (const method of ['exec', 'pragma']) {
  const original = Database.prototype[method];
  Database.prototype[method] = function countedExec(text, ...args) {
    count('sqlite', method === 'pragma' ? `PRAGMA ${text}` : text);
    return original.call(this, text, ...args);
  };
}

process.on('SIGUSR2', () => {
  const byStatement = {};
  for (const [kind, byText] of [
    ['pg', pgCounts],
    ['sqlite', sqliteCounts],
  ])
    for (const [text, n] of byText) {
      const key = `${kind} ${String(text).replace(/\s+/g, ' ').trim().slice(0, 90)}`;
      byStatement[key] = (byStatement[key] ?? 0) + n;
    }
  fs.writeSync(2, `FS_STATEMENTS ${JSON.stringify({ total, byStatement })}\n`);
});
