/**
 * Proof, from the PostgreSQL server itself, that no TRUNCATE or DROP reached a test database.
 * Two independent witnesses:
 *
 * - a guard installed in the database: a BEFORE TRUNCATE trigger on every table of the
 *   application's and the tool's schemas and an event trigger on sql_drop, each raising an
 *   error (so a destructive statement fails loudly instead of destroying data);
 * - the server's statement log: `ALTER DATABASE … SET log_statement = 'all'` and the log file
 *   read back (pg_current_logfile() when the logging collector runs, else Debian's
 *   /var/log/postgresql/postgresql-<major>-main.log), filtered on the database name.
 *
 * A test should show both witnesses fire on a deliberate TRUNCATE / DROP, so that it can fail.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type pg from 'pg';

const GUARD_SQL = `
CREATE OR REPLACE FUNCTION public.hm_guard_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'hm_guard: TRUNCATE of %.% refused', TG_TABLE_SCHEMA, TG_TABLE_NAME; END $$;
CREATE OR REPLACE FUNCTION public.hm_guard_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE o record;
BEGIN
  FOR o IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
    -- A session's own temporary objects vanish with it; everything else is a real DROP.
    IF o.schema_name IS NULL OR o.schema_name NOT LIKE 'pg_temp%' THEN
      RAISE EXCEPTION 'hm_guard: % % refused (%)', TG_TAG, o.object_identity, o.object_type;
    END IF;
  END LOOP;
END $$;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'hybrid_migrate') LOOP
    EXECUTE format('CREATE TRIGGER hm_guard_truncate BEFORE TRUNCATE ON %I.%I FOR EACH STATEMENT EXECUTE FUNCTION public.hm_guard_truncate()', r.nspname, r.relname);
  END LOOP;
END $$;
CREATE EVENT TRIGGER hm_guard_drop ON sql_drop EXECUTE FUNCTION public.hm_guard_drop();
`;

/** Installs the guard; the tool's state schema must exist first so its tables are covered too. */
export async function installDestructiveStatementGuard(pool: pg.Pool): Promise<void> {
  await pool.query(GUARD_SQL);
}

export interface StatementLog {
  /** The log file read, or undefined when the server's log cannot be read here. */
  file: string | undefined;
  /** Statements logged for the database since `startStatementLog` (one entry per statement, continuation lines joined). */
  read(): string[];
}

/** Turns on log_statement = 'all' for the database (new sessions) and remembers where the log is now. */
export async function startStatementLog(pool: pg.Pool, database: string): Promise<StatementLog> {
  await pool.query(`ALTER DATABASE "${database.replace(/"/g, '""')}" SET log_statement = 'all'`);
  const file = await findLogFile(pool);
  const offset = file ? statSync(file).size : 0;
  return {
    file,
    read: () => (file ? statementsOf(readFrom(file, offset), database) : []),
  };
}

async function findLogFile(pool: pg.Pool): Promise<string | undefined> {
  const r = await pool.query<{ f: string | null; dir: string; v: string }>(
    `SELECT pg_current_logfile() AS f, current_setting('data_directory') AS dir, current_setting('server_version_num') AS v`,
  );
  const row = r.rows[0];
  const candidates: string[] = [];
  if (row?.f) candidates.push(row.f.startsWith('/') ? row.f : `${row.dir}/${row.f}`);
  if (row) candidates.push(`/var/log/postgresql/postgresql-${Math.floor(Number(row.v) / 10000)}-main.log`);
  for (const c of candidates) {
    try {
      if (existsSync(c)) {
        closeSync(openSync(c, 'r'));
        return c;
      }
    } catch {
      // not readable by this user
    }
  }
  return undefined;
}

function readFrom(file: string, offset: number): string {
  const size = statSync(file).size;
  if (size <= offset) return '';
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Log entries start with the line prefix's timestamp; a statement's further lines do not. */
const ENTRY_START = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/;

function statementsOf(text: string, database: string): string[] {
  const entries: string[] = [];
  for (const line of text.split('\n')) {
    if (ENTRY_START.test(line) || entries.length === 0) entries.push(line);
    else entries[entries.length - 1] += `\n${line}`;
  }
  return entries
    .filter((e) => e.includes(`@${database} `) && /LOG:\s+(statement|execute [^:]*):/.test(e))
    .map((e) => e.replace(/^.*?LOG:\s+(statement|execute [^:]*):\s*/s, ''));
}

/** The logged statements that TRUNCATE or DROP (any statement of a multi-statement string, or ON COMMIT DROP). */
export function destructiveStatements(statements: readonly string[]): string[] {
  return statements.filter((s) =>
    s.split(';').some((part) => /^\s*(--[^\n]*\n\s*)*(TRUNCATE|DROP)\b/i.test(part) || /\bON\s+COMMIT\s+DROP\b/i.test(part)),
  );
}

/**
 * A statement with its quoted parts blanked: string literals ('…', E'…'), quoted identifiers
 * ("…") and dollar-quoted bodies. What is left is the SQL the server parsed as SQL, so a
 * name that was injected (rather than passed as a value or a quoted identifier) shows there.
 */
export function unquotedSql(statement: string): string {
  return statement
    .replace(/\$([A-Za-z_]*)\$[\s\S]*?\$\1\$/g, ' $$…$$ ')
    .replace(/[Ee]?'(?:[^']|'')*'/g, " '…' ")
    .replace(/"(?:[^"]|"")*"/g, ' "…" ');
}

/** The first keyword of a statement (after comments), upper-cased. */
export function statementKind(statement: string): string {
  const m = /^\s*(?:--[^\n]*\n\s*)*([A-Za-z]+)/.exec(statement);
  return (m?.[1] ?? '').toUpperCase();
}
