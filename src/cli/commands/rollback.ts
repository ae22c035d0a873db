/** `hybrid-migrate rollback` — not available in this version yet: listed so `--help` shows the whole tool. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { CommandRuntime } from '../program.js';

export function registerRollback(program: Command, _rt: CommandRuntime): void {
  program
    .command('rollback')
    .summary('remove exactly what the migration wrote, never what the application wrote (not available yet)')
    .argument('[collections...]')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('"rollback" is not available in this version of hybrid-migrate yet.', { hint: 'See README.md for what this version offers.' });
    });
}
