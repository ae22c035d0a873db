/**
 * The command-line program: parses argv, runs one command, maps its result or error to an
 * exit code in one place. No side effects on import; src/cli/main.ts is the process entry.
 */
import { Command, CommanderError } from 'commander';
import pino, { type Logger } from 'pino';
import { ExitCode, HybridMigrateError, TimeoutError, mongoConnectionLost, pgConnectionLost, pgPermissionDenied, pgTimeoutKind } from '../core/errors.js';
import { passwordsOf, redactText } from '../core/redact.js';
import type { GlobalOptions } from './context.js';
import { registerInit } from './commands/init.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPlan } from './commands/plan.js';
import { registerRollback } from './commands/rollback.js';
import { registerStatus } from './commands/status.js';
import { registerVerify } from './commands/verify.js';
import { cancelLockWaitsOnAbort, isCanceledStatement } from './interrupt.js';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
  /** Aborted on SIGINT/SIGTERM: commands stop at the next batch boundary. */
  signal: AbortSignal;
}

export interface CommandRuntime extends CliIo {
  logger: Logger;
  /** Removes every known secret (passwords of MONGO_URI/DATABASE_URL) from a text. */
  scrub(text: string): string;
  global(): GlobalOptions;
}

/** Thrown by a command to end with an exit code after printing its result. */
export class ExitWith extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function buildProgram(io: CliIo): { program: Command; runtime: CommandRuntime } {
  const secrets = passwordsOf([io.env.MONGO_URI, io.env.DATABASE_URL]);
  const scrub = (text: string) => redactText(text, secrets);
  const program = new Command('hybrid-migrate');
  const runtime: CommandRuntime = {
    ...io,
    scrub,
    logger: pino({ level: 'info', base: undefined }, { write: (s: string) => io.stderr(scrub(s)) }),
    global: () => program.opts<GlobalOptions>(),
  };
  program
    .description(
      'Move a live MongoDB e-commerce database into PostgreSQL + Prisma, progressively and without loss, ' +
        'while the application keeps writing to both. Reads MONGO_URI (source) and DATABASE_URL (target).',
    )
    .version('0.1.0')
    .option('-c, --config <file>', 'configuration file (default: ./hybrid-migrate.config.ts if present)')
    .option('--schema <file>', 'Prisma schema (default: the config\'s "schema", else prisma/schema.prisma)')
    .option('--mongo-db <name>', 'MongoDB database name (default: the one in MONGO_URI)')
    .option('--json', 'print the result as JSON on stdout (logs stay on stderr)')
    .option('-v, --verbose', 'debug logs, and stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: (s) => io.stderr(scrub(s)) })
    .addHelpText(
      'after',
      `
Typical session:
  $ hybrid-migrate plan                  what will happen, before writing anything
  $ hybrid-migrate migrate orders        migrate one collection (its parents must be migrated first)
  $ hybrid-migrate migrate               everything, in foreign-key order
  $ hybrid-migrate migrate --dry-run     read and convert everything, write nothing

Exit codes:
  0 done · 1 data issues (rejects over --max-rejects, differences) · 2 usage
  3 configuration · 4 connection · 5 locked by another run · 6 failed part-way (rerun resumes)
  7 timed out waiting for a lock or a statement (lock_timeout, statement_timeout; rerun resumes)
  130 interrupted (in-flight batches committed; rerun resumes)`,
    );
  program.hook('preAction', (_cmd, action) => {
    if (action.optsWithGlobals<GlobalOptions>().verbose) runtime.logger.level = 'debug';
  });
  registerInit(program, runtime);
  registerPlan(program, runtime);
  registerMigrate(program, runtime);
  registerVerify(program, runtime);
  registerRollback(program, runtime);
  registerStatus(program, runtime);
  return { program, runtime };
}

/** Runs the CLI and returns the exit code (the caller exits). */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { program, runtime } = buildProgram(io);
  // Ctrl-C / SIGTERM must not wait for a lock the application holds (src/cli/interrupt.ts).
  const stopCanceling = cancelLockWaitsOnAbort(io.signal);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.Ok;
  } catch (e) {
    return exitCodeOf(e, runtime);
  } finally {
    stopCanceling();
  }
}

function exitCodeOf(e: unknown, runtime: CommandRuntime): number {
  if (e instanceof ExitWith) return e.code;
  if (e instanceof CommanderError) {
    // No command at all shows the usage as an error (commander's exitCode 1): a usage error, exit 2,
    // so a script with a dropped argument does not pass for a success (it exited 0).
    if (e.code === 'commander.help') return e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return ExitCode.Ok;
    return ExitCode.Usage;
  }
  if (runtime.signal.aborted && isCanceledStatement(e)) {
    runtime.stderr(
      `error: interrupted (${String((runtime.signal.reason as Error | undefined)?.message ?? 'signal')}) while a statement waited for a lock held by another session: that batch was rolled back; every batch committed before is kept.\n` +
        'hint: rerun the same command when the blocking transaction has ended: it resumes after the last committed batch.\n',
    );
    return ExitCode.Interrupted;
  }
  const lost = mongoConnectionLost(e) ?? pgConnectionLost(e) ?? pgPermissionDenied(e);
  if (lost) return exitCodeOf(lost, runtime);
  // A timeout no command explained (migrate and rollback name the blocker): still exit 7, with the setting and the fix.
  const timeout = pgTimeoutKind(e);
  if (timeout && !(e instanceof HybridMigrateError)) {
    return exitCodeOf(
      new TimeoutError(`PostgreSQL canceled a statement after ${timeout}: ${(e as Error).message}. What was committed before is kept.`, {
        entity: 'PostgreSQL',
        hint: timeout === 'lock_timeout'
          ? 'Another session held a lock the tool needed: end or commit it (pg_stat_activity shows it), or wait longer with --lock-timeout; then rerun.'
          : "Raise statement_timeout for the role the tool connects as (ALTER ROLE <role> IN DATABASE <db> SET statement_timeout = '10min', or 0), then rerun.",
        cause: e,
      }),
      runtime,
    );
  }
  const verbose = Boolean(runtime.global().verbose);
  if (e instanceof HybridMigrateError) {
    const lines = [`error: ${e.message}`];
    if (e.hint) lines.push(`hint: ${e.hint}`);
    if (verbose && e.stack) lines.push(e.stack);
    if (verbose && e.cause instanceof Error && e.cause.stack) lines.push(`cause: ${e.cause.stack}`);
    runtime.stderr(runtime.scrub(`${lines.join('\n')}\n`));
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  runtime.stderr(
    runtime.scrub(
      `error: ${err.message}\n` +
        (verbose && err.stack ? `${err.stack}\n` : 'hint: the run stopped part-way; what was committed is consistent and rerunning resumes. Use --verbose for details.\n'),
    ),
  );
  return ExitCode.Failed;
}
