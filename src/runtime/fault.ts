/**
 * Fault injection for the crash-safety tests: `HYBRID_MIGRATE_FAULT=<point>[:<n>]` makes
 * the process kill itself with SIGKILL the n-th time (default 1st) it reaches that point,
 * exactly as `kill -9` would, at places a random kill rarely hits (inside a COPY, between
 * the last write and COMMIT, right after COMMIT). Unset, it costs one comparison.
 *
 * Points: migrate:mid-copy, migrate:before-commit, migrate:after-commit, rollback:mid-batch.
 */
let parsed: { point: string; n: number } | null | undefined;
let hits = 0;

export function faultPoint(point: string): void {
  if (parsed === undefined) {
    const spec = process.env.HYBRID_MIGRATE_FAULT;
    const m = spec ? /^([a-z-]+:[a-z-]+)(?::(\d+))?$/.exec(spec) : null;
    parsed = m ? { point: m[1] as string, n: Number(m[2] ?? 1) } : null;
  }
  if (parsed === null || parsed.point !== point) return;
  hits++;
  if (hits === parsed.n) process.kill(process.pid, 'SIGKILL');
}
