const FIRST_WAIT_MS = 100;
const MAX_WAIT_MS = 2000;

/**
 * Retries a write to the record store until it succeeds or `gaveUp()` says to stop: a run's next event
 * must not be skipped because the database restarted (its in-memory state has already moved on), so the
 * run waits for the database instead, and its later steps queue behind it in order.
 */
export async function untilStored<T>(
  write: () => Promise<T>,
  gaveUp: () => boolean,
  onRetry: (error: unknown, attempt: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (gaveUp() || !isTransient(error)) throw error;
      onRetry(error, attempt);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(MAX_WAIT_MS, FIRST_WAIT_MS * 2 ** (attempt - 1))),
      );
    }
  }
}

/** Connection-level failures (the database went away or restarts); not constraint or syntax errors. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Postgres: class 08 connection exception, 57P01-03 admin shutdown / crash / cannot connect now,
    // 53300 too many connections. Node: refused, reset, timed out.
    if (/^08|^57P0[1-3]$|^53300$/.test(code)) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'SQLITE_BUSY'].includes(code)) return true;
  }
  const message = error instanceof Error ? error.message : String(error);
  return /Connection terminated|connection timeout|Client has encountered a connection error|terminating connection|not currently accepting connections|database system is (starting up|shutting down)/i.test(
    message,
  );
}
