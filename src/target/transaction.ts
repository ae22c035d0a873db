/** One PostgreSQL transaction on a pooled connection: committed, or rolled back and the error rethrown. */
import type pg from 'pg';

export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    broken = e instanceof Error ? e : new Error(String(e));
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    // A connection whose transaction failed is not reused: it may be dead or in an unknown state.
    client.release(broken);
  }
}
