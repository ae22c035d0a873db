/**
 * Failures of the local development servers (FerretDB standing in for MongoDB, a private
 * PostgreSQL cluster). The first line of the message always names the server and the reason;
 * a child process's stderr tail, when there is one, follows on the next lines.
 */
import { ExitCode, HybridMigrateError } from '../../src/core/errors.js';

/** Which local server a {@link DevServerError} is about. */
export type DevServerName = 'FerretDB' | 'MongoDB' | 'PostgreSQL';

export class DevServerError extends HybridMigrateError {
  readonly server: DevServerName;
  /** The last lines the server (or its build) wrote to stderr, if any. */
  readonly stderrTail: string;

  constructor(server: DevServerName, reason: string, options: { hint?: string; cause?: unknown; stderrTail?: string } = {}) {
    const tail = options.stderrTail?.trim() ?? '';
    const message = `${server}: ${reason}` + (tail ? `\n--- ${server} stderr (last lines) ---\n${tail}` : '');
    super('DEV_SERVER_FAILED', ExitCode.Connection, message, { entity: server, hint: options.hint, cause: options.cause });
    this.server = server;
    this.stderrTail = tail;
  }
}

/** The last `lines` non-empty lines of a text, for error messages. */
export function tailLines(text: string, lines = 15): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-lines)
    .join('\n');
}

/** The message of an unknown thrown value, on one line. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}
