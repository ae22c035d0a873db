/** `hybrid-migrate status` — not available in this version yet: listed so `--help` shows the whole tool. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { CommandRuntime } from '../program.js';

export function registerStatus(program: Command, _rt: CommandRuntime): void {
  program
    .command('status')
    .summary("both databases and the migration's progress per collection (not available yet)")
    .argument('[collections...]')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('"status" is not available in this version of hybrid-migrate yet.', { hint: 'See README.md for what this version offers.' });
    });
}
