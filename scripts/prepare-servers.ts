/**
 * `npm run servers:prepare`: builds and caches the FerretDB binary (once per version), checks it
 * starts and answers, and checks that PostgreSQL can be reached or started. Run by CI before
 * `npm test` so a broken toolchain fails here, loudly, instead of inside a test's setup.
 * Exit code 0 when both servers are usable, 1 otherwise.
 */
import { ensureFerretdbBinary, ensurePostgres, startFerretdb } from '../dev/servers/index.js';
import { HybridMigrateError } from '../src/core/errors.js';

const log = (line: string) => process.stderr.write(`[servers:prepare] ${line}\n`);

async function main(): Promise<void> {
  const t0 = Date.now();
  const binary = await ensureFerretdbBinary({ log });
  log(`FerretDB binary: ${binary} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  if (!process.env.MONGO_URI) {
    const ferret = await startFerretdb({ log });
    await ferret.stop();
    log('FerretDB: starts and answers ping');
  } else {
    log('MONGO_URI is set: tests will use that server (FerretDB still built for the demo)');
  }

  const postgres = await ensurePostgres({ log });
  await postgres.stop();
  log(`PostgreSQL: ${postgres.started ? 'no server answered; a private cluster can be started' : 'reachable'}`);
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`[servers:prepare] FAILED: ${message}\n`);
  if (err instanceof HybridMigrateError && err.hint) process.stderr.write(`[servers:prepare] ${err.hint}\n`);
  process.exitCode = 1;
});
