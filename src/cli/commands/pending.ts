/**
 * Commands whose issues are not done yet. They are listed so `--help` shows the whole tool,
 * and say plainly that they are not available in this version instead of pretending.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { CommandRuntime } from '../program.js';

const PENDING: [name: string, summary: string][] = [
  ['verify', 'prove MongoDB and PostgreSQL agree, document by document, and write a report'],
  ['rollback', 'remove exactly what the migration wrote, never what the application wrote'],
  ['status', 'both databases and the migration\'s progress per collection'],
];

export function registerPending(program: Command, _rt: CommandRuntime): void {
  for (const [name, summary] of PENDING) {
    program
      .command(name)
      .summary(`${summary} (not available yet)`)
      .argument('[collections...]')
      .allowUnknownOption()
      .action(() => {
        throw new UsageError(`"${name}" is not available in this version of hybrid-migrate yet.`, { hint: 'Use "plan" and "migrate"; see README.md for what each version offers.' });
      });
  }
}
