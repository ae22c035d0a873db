/**
 * A collection named on the command line that the configuration does not list: the hint names
 * the configured collection it was probably meant as (`migrate shipwreck` for `shipwrecks`
 * failed with "model Shipwreck is already the target of collection shipwrecks" and no more).
 */
import { describe, expect, it } from 'vitest';
import { unknownCollectionsHint } from '../../src/cli/context.js';

describe('hint for collections not in the configuration', () => {
  it('suggests a configured name at most two edits away, case aside, and none for a stranger', () => {
    const hint = unknownCollectionsHint(['shipwreck', 'Users', 'foo'], ['shipwrecks', 'users', 'orders']);
    expect(hint).toBe('Not in hybrid-migrate.config.ts: "shipwreck" (did you mean "shipwrecks"?), "Users" (did you mean "users"?), "foo"; a collection not in the configuration uses the defaults by name.');
  });
});

describe('a configuration file that does not load', () => {
  it('says where a syntax error is (it gave only "Unexpected token")', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { loadConfig } = await import('../../src/config/load-config.js');
    const dir = mkdtempSync(join(tmpdir(), 'hm-cfg-'));
    const file = join(dir, 'hybrid-migrate.config.ts');
    writeFileSync(file, 'export default {\n  collections: {\n    orders: { model: "Order" \n    users: {}\n  },\n};\n');
    await expect(loadConfig(file)).rejects.toThrow(new RegExp(`cannot load: .*Unexpected token.* at ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+`));
  });
});

describe('the hint of a refused first PostgreSQL connection', () => {
  it('names the TLS fix when the certificate was refused (sslmode=require verifies it in node-postgres), the usual checks otherwise', async () => {
    const { connectHint } = await import('../../src/target/pg-target.js');
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    expect(connectHint(tls)).toMatch(/uselibpqcompat=true/);
    expect(connectHint(tls)).toMatch(/sslrootcert=/);
    expect(connectHint(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe('Check DATABASE_URL: host, port, database name, credentials, and that the server is running.');
  });
});

describe('MongoDB gone during a run', () => {
  it("the pool's errors (a frozen gateway: 'interrupted due to server monitor timeout') are a lost MongoDB connection, exit 4", async () => {
    const { MongoNetworkError } = await import('mongodb');
    const { mongoConnectionLost, ExitCode } = await import('../../src/core/errors.js');
    // The driver's pool errors extend MongoNetworkError under their own names (not exported: named here as the driver names them).
    const named = (name: string, message: string) => Object.defineProperty(new MongoNetworkError(message), 'name', { value: name });
    const errors = [
      named('PoolClearedOnNetworkError', 'Connection to 127.0.0.1:37017 interrupted due to server monitor timeout'),
      named('MongoPoolClearedError', 'Connection pool for 127.0.0.1:37017 was cleared because another operation failed'),
      named('MongoWaitQueueTimeoutError', 'Timed out while checking out a connection from connection pool'),
      new MongoNetworkError('connection 3 to 127.0.0.1:37017 closed'),
    ];
    for (const e of errors) {
      const lost = mongoConnectionLost(e);
      expect(lost?.exitCode, e.name).toBe(ExitCode.Connection);
      expect(lost?.message).toMatch(/^lost the connection to MongoDB during the run/);
    }
    expect(mongoConnectionLost(new Error('other'))).toBeUndefined();
  });
});
