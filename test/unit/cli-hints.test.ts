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
