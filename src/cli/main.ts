/**
 * Process entry: wires signals and the real streams to the program, and is the only place
 * that calls process.exit.
 */
import { ExitCode } from '../core/errors.js';
import { run } from './program.js';

const controller = new AbortController();
let interrupts = 0;
const onSignal = (sig: NodeJS.Signals) => {
  interrupts++;
  if (interrupts === 1) {
    process.stderr.write(`\n${sig}: finishing in-flight batches, then stopping (press Ctrl-C again to stop at once)\n`);
    controller.abort(new Error(sig));
  } else {
    process.exit(ExitCode.Interrupted);
  }
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// A reader that goes away early (`hybrid-migrate status --json | head -1`) closes the pipe: what
// is left of the output has nowhere to go, and the command still ends its work and its exit code
// (a migration is not abandoned half-way because its output is not read). Other stream errors stay errors.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

const code = await run(process.argv.slice(2), {
  env: process.env,
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  isTTY: Boolean(process.stderr.isTTY),
  signal: controller.signal,
});
process.exitCode = code;
// Drivers may keep idle sockets or timers alive; the work is done and committed.
setTimeout(() => process.exit(code), 100).unref();
