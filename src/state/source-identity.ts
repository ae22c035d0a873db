/**
 * Which MongoDB database a target is migrated from, recorded in the state's meta table by the
 * first migrate that writes. A later run whose MONGO_URI names another database is refused
 * before anything is written: pointed at staging instead of production (an existing database
 * with the same collections), --detect-deletes took every production document missing from
 * staging for deleted in MongoDB and removed its rows (found by a black-box run: 38,843 rows,
 * exit 0). Only the database's name is kept (never a URI: no host, no credentials).
 */
import type pg from 'pg';
import { ConfigError } from '../core/errors.js';
import { readStateOr, stateTable } from './schema.js';

const KEY = 'source_database';

/** The recorded source database, or undefined (never recorded, or no state yet). */
export async function recordedSourceDatabase(pool: pg.Pool): Promise<string | undefined> {
  return readStateOr<string | undefined>(undefined, async () => {
    const r = await pool.query<{ value: string }>(`SELECT value FROM ${stateTable('meta')} WHERE key = $1`, [KEY]);
    return r.rows[0]?.value;
  });
}

/**
 * Refuses (exit 3) a source database other than the recorded one while the migration has rows
 * registered; with `record`, records `database` when nothing is recorded yet, when nothing is
 * registered any more (all rolled back), or when `accept` says the source really moved.
 */
export async function checkSourceDatabase(pool: pg.Pool, database: string, opts: { record: boolean; accept?: boolean }): Promise<void> {
  const recorded = await recordedSourceDatabase(pool);
  if (recorded !== undefined && recorded !== database && !opts.accept) {
    const registered = await readStateOr(false, async () => (await pool.query(`SELECT 1 FROM ${stateTable('id_map')} LIMIT 1`)).rows.length > 0);
    if (registered) {
      throw new ConfigError(
        [{ path: 'MONGO_URI', message: `this target was migrated from MongoDB database "${recorded}", and MONGO_URI (or --mongo-db) names "${database}"` }],
        {
          hint: `Check MONGO_URI's database: a sync against another database would take its missing documents for deleted ones. If the source really moved (restored under another name), run migrate once with --accept-source to record "${database}". Nothing was written.`,
        },
      );
    }
  }
  if (opts.record && recorded !== database) {
    await pool.query(`INSERT INTO ${stateTable('meta')} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [KEY, database]);
  }
}
