/**
 * MONGO_URI and DATABASE_URL checked before any connection is tried: a URL of the wrong
 * database (`mysql://…` as DATABASE_URL) or no URL at all (a bare name, which the PostgreSQL
 * driver took for a host and answered "ENOTFOUND base") is a configuration problem (exit 3)
 * with one line naming the variable, what is wrong and the fix; the value itself is never
 * shown (it may be, or hold, the password). And the timeouts a URL gives itself.
 */
import type { ConfigIssue } from '../core/errors.js';

export type ConnectionVariable = 'MONGO_URI' | 'DATABASE_URL';

const EXPECTED: Record<ConnectionVariable, { schemes: readonly string[]; database: string; fix: string }> = {
  MONGO_URI: { schemes: ['mongodb', 'mongodb+srv'], database: 'MongoDB', fix: "set MONGO_URI to the source's mongodb:// or mongodb+srv:// URI, as the application's Mongoose uses" },
  DATABASE_URL: { schemes: ['postgres', 'postgresql'], database: 'PostgreSQL', fix: "set DATABASE_URL to the target's postgresql:// URL, as the application's Prisma client uses" },
};

/** The scheme of a URL-looking value (`mysql`), lower case; undefined when the value has none. */
function schemeOf(value: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):\/\//i.exec(value.trim())?.[1]?.toLowerCase();
}

/**
 * What is wrong with a connection variable's value, or undefined when its scheme is right.
 * Never quotes the value. (No `scheme://` followed by text either: the output scrubber would
 * take it for a URI and rewrite it.)
 */
export function connectionUrlIssue(variable: ConnectionVariable, value: string): ConfigIssue | undefined {
  const expected = EXPECTED[variable];
  const scheme = schemeOf(value);
  if (scheme === undefined) {
    const starts = expected.schemes.map((s) => `${s}://`).join(' or ');
    return { path: variable, message: `is not a ${expected.database} connection URL (it does not start with a ${starts} scheme); ${expected.fix}` };
  }
  if (!expected.schemes.includes(scheme)) return { path: variable, message: `is a ${scheme} URL, not a ${expected.database} one; ${expected.fix}` };
  return undefined;
}

/** The query options of a URL, keys in lower case (MongoDB's URI options are case-insensitive). */
function queryOptions(url: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = url.indexOf('?');
  if (q < 0) return out;
  const query = url.slice(q + 1).split('#')[0] ?? '';
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = (eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    let value = eq < 0 ? '' : pair.slice(eq + 1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // kept as written
    }
    out.set(key, value);
  }
  return out;
}

/** Which of the driver's connection timeouts the MongoDB URI sets itself (the tool's defaults must not override them). */
export function mongoUriTimeouts(uri: string): { serverSelectionTimeoutMS: boolean; connectTimeoutMS: boolean } {
  const options = queryOptions(uri);
  return { serverSelectionTimeoutMS: options.has('serverselectiontimeoutms'), connectTimeoutMS: options.has('connecttimeoutms') };
}

/**
 * The connection timeout a PostgreSQL URL sets (`connect_timeout`, in seconds, as libpq reads
 * it: 0 waits without limit, less than 2 counts as 2), in milliseconds; `fallback` when the URL
 * sets none or a value that is not a whole number.
 */
export function pgConnectTimeoutMs(url: string, fallback: number): number {
  const raw = queryOptions(url).get('connect_timeout');
  if (raw === undefined || !/^\s*-?\d+\s*$/.test(raw)) return fallback;
  const seconds = Number(raw);
  if (seconds <= 0) return 0;
  return Math.max(2, seconds) * 1000;
}
