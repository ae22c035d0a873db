/**
 * Ctrl-C / SIGTERM while one of the tool's statements waits for a lock the application holds:
 * the run stops at the next batch boundary, but a batch blocked on a lock would reach that
 * boundary only when the lock is released or lock_timeout (30 s by default, or never) ends it.
 * After a short grace period, the statements of this process's own sessions (its unique
 * application_name) that are waiting for a lock are canceled: their batch's transaction rolls
 * back, everything committed before is kept, and the command exits 130. Statements that are
 * working, not waiting, are left to finish.
 */
import pg from 'pg';

/** PostgreSQL servers this process has sessions on: connection URL by application_name. */
const targets = new Map<string, string>();

/** Called when a command's pool opens (its application_name is unique to this process). */
export function registerPgSessions(applicationName: string, url: string): void {
  targets.set(applicationName, url);
}

/** Whether `e` is PostgreSQL's answer to pg_cancel_backend ("canceling statement due to user request"). */
export function isCanceledStatement(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === '57014' && /user request/i.test(e.message);
}

/** Cancels this process's statements that wait for a lock; the number canceled. Never throws. */
async function cancelLockWaits(): Promise<number> {
  let canceled = 0;
  for (const [applicationName, url] of targets) {
    const client = new pg.Client({ connectionString: url, application_name: 'hybrid-migrate interrupt', connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const r = await client.query<{ n: number }>(
        `SELECT count(*) FILTER (WHERE pg_cancel_backend(pid))::int AS n FROM pg_stat_activity
          WHERE application_name = $1 AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        [applicationName],
      );
      canceled += r.rows[0]?.n ?? 0;
    } catch {
      // The server is gone or refuses: the run ends by its own error path.
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return canceled;
}

/** Set once a deadline (--max-duration) passed and lock waits were canceled for it. */
let deadlinePassed = false;

/** Whether `e` is a statement canceled because --max-duration passed while it waited for a lock. */
export function canceledAtDeadline(e: unknown): boolean {
  return deadlinePassed && isCanceledStatement(e);
}

/**
 * --max-duration is a hard deadline, waits included: `graceMs` after it (in-flight batches that
 * are not blocked commit meanwhile), lock waits are canceled every `everyMs`. Returns the stop function.
 */
export function cancelLockWaitsAfter(deadlineMs: number, opts: { graceMs?: number; everyMs?: number } = {}): () => void {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    deadlinePassed = true;
    controller.abort();
  }, deadlineMs).unref();
  const stop = cancelLockWaitsOnAbort(controller.signal, opts);
  return () => {
    clearTimeout(timer);
    stop();
  };
}

/**
 * Once `signal` aborts, waits `graceMs` (in-flight batches that are not blocked commit), then
 * cancels lock waits every `everyMs` until the returned stop function is called.
 */
export function cancelLockWaitsOnAbort(signal: AbortSignal, opts: { graceMs?: number; everyMs?: number } = {}): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    void cancelLockWaits().finally(() => {
      if (!stopped) timer = setTimeout(tick, opts.everyMs ?? 1000).unref();
    });
  };
  const onAbort = () => {
    timer = setTimeout(tick, opts.graceMs ?? 2000).unref();
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  };
}
