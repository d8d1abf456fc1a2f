import { StartupError } from '../config/startup-error';
import { openPostgresStores } from './postgres/open';
import { openSqliteStores } from './sqlite/open';
import type { Stores } from './stores';

export interface StoresConfig {
  dataDir: string;
  /** A postgres:// URL selects Postgres; without one, SQLite in the data dir (the embedded default). */
  databaseUrl: string | undefined;
  databasePoolSize: number;
}

const SETTING = 'FLOWSCALE_DATABASE_URL';

/** The URL with its password (in the authority or the query) replaced by ***, for messages and logs. */
export const redactDatabaseUrl = (url: string): string =>
  url.replace(/(\/\/[^/@:]*:)[^/]*@/, '$1***@').replace(/([?&]password=)[^&]*/gi, '$1***');

export async function openStores(
  config: StoresConfig,
  onPoolError?: (error: Error) => void,
): Promise<Stores> {
  const url = config.databaseUrl?.trim();
  if (!url) return openSqliteStores(config.dataDir);
  checkUrl(url);
  try {
    return await openPostgresStores({ url, poolSize: config.databasePoolSize, onPoolError });
  } catch (error) {
    throw new StartupError(`${SETTING} (${redactDatabaseUrl(url)}): ${reasonOf(error, url)}`, {
      cause: error,
    });
  }
}

function checkUrl(url: string): void {
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new StartupError(
      `${SETTING} must be a postgres:// or postgresql:// URL, got ${redactDatabaseUrl(url)} (leave it unset for SQLite in the data dir)`,
    );
  }
  try {
    new URL(url);
  } catch {
    throw new StartupError(`${SETTING} is not a valid URL: ${redactDatabaseUrl(url)}`);
  }
}

/** What went wrong, in words: pg's message, the socket error's code, or each address tried. */
function reasonOf(error: unknown, url: string): string {
  const errors = error instanceof AggregateError && error.errors.length > 0 ? error.errors : [error];
  const reasons = errors.map((each) => {
    const { message, code } = each as { message?: string; code?: string };
    const text = message || code || String(each);
    return code && !text.includes(code) ? `${text} (${code})` : text;
  });
  const reason = [...new Set(reasons)].join('; ');
  // pg never puts the password in a message; this only makes sure.
  const password = passwordOf(url);
  return password ? reason.split(password).join('***') : reason;
}

function passwordOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return decodeURIComponent(parsed.password) || parsed.searchParams.get('password') || undefined;
  } catch {
    return undefined;
  }
}
