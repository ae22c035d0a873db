/** `hybrid-migrate verify` — not available in this version yet: listed so `--help` shows the whole tool. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { CommandRuntime } from '../program.js';

export function registerVerify(program: Command, _rt: CommandRuntime): void {
  program
    .command('verify')
    .summary('prove MongoDB and PostgreSQL agree, document by document, and write a report (not available yet)')
    .argument('[collections...]')
    .allowUnknownOption()
    .action(() => {
      throw new UsageError('"verify" is not available in this version of hybrid-migrate yet.', { hint: 'See README.md for what this version offers.' });
    });
}
