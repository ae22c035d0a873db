/**
 * The tool's errors: one base class with a stable `code`, the entity it is about, and
 * the fix. The CLI maps them to exit codes in one place (src/cli/main.ts); nothing else
 * calls process.exit.
 */

/** Exit codes are a public contract: cron jobs and operators' scripts test them. */
export const ExitCode = {
  /** Everything done, nothing to report. */
  Ok: 0,
  /** The command ran, but the data is not clean: rejects over --max-rejects, verify differences, a plan that would lose data. */
  DataIssues: 1,
  /** Bad command line (unknown flag, missing argument). */
  Usage: 2,
  /** Bad configuration or schema: nothing was written. */
  Config: 3,
  /** A database could not be reached or refused the credentials. */
  Connection: 4,
  /** Another hybrid-migrate process holds the lock on a collection. */
  Locked: 5,
  /** The run failed part-way (a database error that retries did not cure); rerunning resumes. */
  Failed: 6,
  /** Timed out waiting for a lock (lock_timeout) or a statement (statement_timeout); what was committed is kept, rerunning resumes. */
  Timeout: 7,
  /** Interrupted by SIGINT/SIGTERM after in-flight batches committed; rerunning resumes. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface HybridMigrateErrorOptions {
  /** The collection, model, field path or database the error is about. */
  entity?: string;
  /** What the operator should do about it. */
  hint?: string;
  cause?: unknown;
}

export class HybridMigrateError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly entity: string | undefined;
  readonly hint: string | undefined;

  constructor(code: string, exitCode: ExitCode, message: string, options: HybridMigrateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.entity = options.entity;
    this.hint = options.hint;
  }
}

/** One configuration problem, with the path of the offending setting. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Every configuration problem found, reported at once before anything is written. */
export class ConfigError extends HybridMigrateError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options: HybridMigrateErrorOptions = {}) {
    const lines = issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n');
    super('CONFIG_INVALID', ExitCode.Config, `Configuration is invalid (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines}`, {
      hint: 'Fix the settings listed above; nothing was written.',
      ...options,
    });
    this.issues = issues;
  }
}

/** The target's tables differ from the Prisma schema (or are missing): every difference at once, before anything is written. */
export class TargetSchemaError extends HybridMigrateError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options: HybridMigrateErrorOptions = {}) {
    const lines = issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n');
    super('TARGET_SCHEMA_MISMATCH', ExitCode.Config, `The target database does not match the Prisma schema (${issues.length} difference${issues.length === 1 ? '' : 's'}); nothing was written:\n${lines}`, options);
    this.issues = issues;
  }
}

export type DatabaseName = 'MongoDB' | 'PostgreSQL';

/** A database could not be reached or refused us. The message never contains a password. */
export class ConnectionError extends HybridMigrateError {
  readonly database: DatabaseName;
  constructor(database: DatabaseName, message: string, options: HybridMigrateErrorOptions = {}) {
    super('CONNECTION_FAILED', ExitCode.Connection, message, { entity: database, ...options });
    this.database = database;
  }
}

export class UsageError extends HybridMigrateError {
  constructor(message: string, options: HybridMigrateErrorOptions = {}) {
    super('USAGE', ExitCode.Usage, message, options);
  }
}

/** Another process holds the advisory lock of a collection. */
export class LockHeldError extends HybridMigrateError {
  constructor(message: string, options: HybridMigrateErrorOptions = {}) {
    super('LOCKED', ExitCode.Locked, message, options);
  }
}

/** The run stopped because the operator asked (SIGINT/SIGTERM); committed work is kept. */
export class InterruptedError extends HybridMigrateError {
  constructor(message = 'Interrupted: in-flight batches were committed; rerun the same command to resume.') {
    super('INTERRUPTED', ExitCode.Interrupted, message);
  }
}

/** The run failed part-way; whatever was committed is consistent and a rerun resumes. */
export class RunFailedError extends HybridMigrateError {
  constructor(message: string, options: HybridMigrateErrorOptions = {}) {
    super('RUN_FAILED', ExitCode.Failed, message, options);
  }
}

/** A wait that exceeded lock_timeout or statement_timeout: the message names the database, what waited, the setting and the fix. */
export class TimeoutError extends HybridMigrateError {
  constructor(message: string, options: HybridMigrateErrorOptions = {}) {
    super('TIMEOUT', ExitCode.Timeout, message, options);
  }
}

/**
 * A MongoDB driver error meaning the server went away during a run (connection closed,
 * timed out, no server to select), as a ConnectionError naming MongoDB: exit 4 and a message
 * that says which database and what to do, rather than the driver's bare "connection 1 to
 * host:port closed".
 */
/**
 * The driver's error names for a server gone away. The pool's own (PoolClearedOnNetworkError:
 * "Connection to host:port interrupted due to server monitor timeout", MongoPoolClearedError)
 * extend MongoNetworkError under other names: a gateway frozen mid-run ended migrate with exit
 * 6 and no word of MongoDB (found by a black-box run), where the same fault in verify said exit 4.
 */
const MONGO_LOST = /^(Mongo(Network|NetworkTimeout|ServerSelection|TopologyClosed|ServerClosed|PoolClosed|PoolCleared|WaitQueueTimeout)Error|PoolClearedOnNetworkError)$/;

export function mongoConnectionLost(err: unknown): ConnectionError | undefined {
  if (!(err instanceof Error) || !MONGO_LOST.test(err.name)) return undefined;
  return new ConnectionError('MongoDB', `lost the connection to MongoDB during the run: ${err.message}`, {
    hint: 'Every batch committed before is consistent (a checkpoint commits with its rows). Once MongoDB answers again, rerun the same command: it resumes after the last committed batch.',
    cause: err,
  });
}

/**
 * PostgreSQL refused a statement for want of a privilege (42501: a read-only role, a schema it
 * may not create in): a ConnectionError naming what to grant, exit 4 like refused credentials,
 * rather than exit 6 "the run stopped part-way; rerunning resumes", which rerunning never
 * fixes (found by a black-box run with a SELECT-only role).
 */
export function pgPermissionDenied(err: unknown): ConnectionError | undefined {
  if (!(err instanceof Error) || err instanceof HybridMigrateError || (err as { code?: unknown }).code !== '42501') return undefined;
  return new ConnectionError('PostgreSQL', `PostgreSQL refused the role in DATABASE_URL a privilege: ${err.message.replace(/\s+/g, ' ').trim()}`, {
    hint: 'The role needs SELECT, INSERT, UPDATE and DELETE on the application\'s tables, and CREATE on the database the first time (the tool keeps its state in the hybrid_migrate schema, then owns it); read-only commands (plan, status, --dry-run) need SELECT. Grant them, or use a role that has them, then rerun: what was committed is kept.',
    cause: err,
  });
}

/** SQLSTATEs and node-postgres messages meaning the PostgreSQL session went away (terminated, server shut down, socket closed). */
const PG_LOST_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);
const PG_LOST_MESSAGE = /^(Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)|terminating connection due to administrator command|server closed the connection unexpectedly/i;
const SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * A node-postgres error meaning the PostgreSQL connection was lost during a run
 * (pg_terminate_backend, a server restart, a network cut), as a ConnectionError naming
 * PostgreSQL: exit 4, like MongoDB's lost connection, instead of exit 6 with the driver's bare
 * "Connection terminated unexpectedly".
 */
export function pgConnectionLost(err: unknown): ConnectionError | undefined {
  if (!(err instanceof Error) || err instanceof HybridMigrateError) return undefined;
  const code = (err as { code?: unknown }).code;
  const lost = (typeof code === 'string' && (PG_LOST_CODES.has(code) || SOCKET_CODES.has(code))) || PG_LOST_MESSAGE.test(err.message);
  if (!lost) return undefined;
  return new ConnectionError('PostgreSQL', `lost the connection to PostgreSQL during the run: ${err.message.replace(/\s+/g, ' ').trim()}${typeof code === 'string' && !err.message.includes(code) ? ` (${code})` : ''}`, {
    hint: 'Every batch committed before is consistent (a checkpoint commits with its rows). Once PostgreSQL answers again, rerun the same command: it resumes after the last committed batch.',
    cause: err,
  });
}

/** Which PostgreSQL timeout ended a statement: SQLSTATE 55P03 (lock_not_available: lock_timeout) or 57014 by statement_timeout. */
export function pgTimeoutKind(err: unknown): 'lock_timeout' | 'statement_timeout' | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (code === '55P03') return 'lock_timeout';
  if (code === '57014' && /statement timeout/i.test(err.message)) return 'statement_timeout';
  if (code === '57014' && /lock timeout/i.test(err.message)) return 'lock_timeout';
  return undefined;
}
