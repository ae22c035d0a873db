/**
 * Inputs checked before anything runs: connection URLs of the wrong database or no URL at all
 * (exit 3, one line naming the variable, what is wrong and the fix, never the password), the
 * URLs' own connection timeouts honoured, flags that would do nothing refused (exit 2, naming
 * both flags), and a password that is a common word masked only where it is a credential.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { mongoUriFor, runCli, type CliEnv } from '../support/cli.js';
import { insertSimpleOrders } from '../support/simple-orders.js';
import { connect } from '../../src/cli/context.js';
import { connectMongo } from '../../src/source/mongo-source.js';

const t = useTestDatabases();
let env: CliEnv;

beforeAll(async () => {
  await insertSimpleOrders(t.db, 20);
  env = { MONGO_URI: mongoUriFor(t.mongoUri, t.mongoDbName), DATABASE_URL: t.databaseUrl };
});

describe('connection URLs of the wrong kind: exit 3 before connecting, one line, no password', () => {
  const cases: [string, Partial<CliEnv>, RegExp][] = [
    ['a MySQL DATABASE_URL', { DATABASE_URL: 'mysql://app:Sekr1tPw@db.example.net:3306/shop' }, /^ {2}- DATABASE_URL: is a mysql URL, not a PostgreSQL one; set DATABASE_URL to the target's postgresql:\/\/ URL/m],
    ['a bare name as DATABASE_URL', { DATABASE_URL: 'base' }, /^ {2}- DATABASE_URL: is not a PostgreSQL connection URL \(it does not start with a postgres:\/\/ or postgresql:\/\/ scheme\); set DATABASE_URL to/m],
    ['an http MONGO_URI', { MONGO_URI: 'http://app:Sekr1tPw@mongo.example.net/shop' }, /^ {2}- MONGO_URI: is a http URL, not a MongoDB one; set MONGO_URI to the source's mongodb:\/\/ or mongodb\+srv:\/\/ URI/m],
    ['a MONGO_URI without scheme', { MONGO_URI: 'mongo.example.net:27017/shop' }, /^ {2}- MONGO_URI: is not a MongoDB connection URL/m],
  ];
  for (const [what, bad, message] of cases) {
    for (const command of [['plan'], ['migrate', '--dry-run'], ['verify'], ['status'], ['rollback', '--dry-run']]) {
      if (command[0] === 'rollback' && bad.MONGO_URI) continue; // rollback never connects to MongoDB
      it(`${what}: ${command.join(' ')}`, async () => {
        const r = await runCli(command, { ...env, ...bad } as CliEnv);
        expect(r.code, r.stderr).toBe(3);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.split('\n').filter((l) => /(MONGO_URI|DATABASE_URL):/.test(l))).toHaveLength(1);
        expect(r.stderr + r.stdout).not.toMatch(/Sekr1tPw|ENOTFOUND/);
      });
    }
  }
});

describe("the URIs' own connection timeouts win over the tool's defaults", () => {
  it('MONGO_URI serverSelectionTimeoutMS and connectTimeoutMS, DATABASE_URL connect_timeout', async () => {
    const mongoUri = new URL(env.MONGO_URI);
    mongoUri.searchParams.set('serverSelectionTimeoutMS', '12345');
    mongoUri.searchParams.set('connectTimeoutMS', '23456');
    const pgUrl = new URL(env.DATABASE_URL);
    pgUrl.searchParams.set('connect_timeout', '7');
    const conns = await connect({ MONGO_URI: mongoUri.toString(), DATABASE_URL: pgUrl.toString() }, { command: 'test' });
    try {
      expect(conns.mongo.db.client.options).toMatchObject({ serverSelectionTimeoutMS: 12345, connectTimeoutMS: 23456 });
      expect(conns.pg.pool.options).toMatchObject({ connectionTimeoutMillis: 7000 });
    } finally {
      await conns.close();
    }
    // Without them: the tool's defaults.
    const plain = await connect(env, { command: 'test' });
    try {
      expect(plain.mongo.db.client.options).toMatchObject({ serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000 });
      expect(plain.pg.pool.options).toMatchObject({ connectionTimeoutMillis: 5000 });
    } finally {
      await plain.close();
    }
    // Case does not matter in MongoDB URI options.
    const lower = new URL(env.MONGO_URI);
    lower.searchParams.set('serverselectiontimeoutms', '4321');
    const m = await connectMongo({ uri: lower.toString(), timeoutMs: 999 });
    try {
      expect(m.db.client.options).toMatchObject({ serverSelectionTimeoutMS: 4321, connectTimeoutMS: 999 });
    } finally {
      await m.close();
    }
  });

  it('an unreachable MongoDB is reported within the URI’s serverSelectionTimeoutMS, not the 5 s default', async () => {
    const unreachable = 'mongodb://127.0.0.1:9/shop?directConnection=true';
    const own = await runCli(['plan'], { ...env, MONGO_URI: `${unreachable}&serverSelectionTimeoutMS=300` });
    expect(own.code, own.stderr).toBe(4);
    const tools = await runCli(['plan'], { ...env, MONGO_URI: unreachable });
    expect(tools.code, tools.stderr).toBe(4);
    // The same start-up cost either way: the difference is the 5 s default against the URI's 0.3 s.
    expect(tools.ms - own.ms).toBeGreaterThan(3000);
  });
});

describe('flags that would do nothing are refused: exit 2, naming both flags', () => {
  const cases: [string[], RegExp][] = [
    [['migrate', '--overlap', '10m'], /--overlap works with --incremental/],
    [['migrate', '--detect-deletes'], /--detect-deletes works with --incremental/],
    [['migrate', '--report'], /--report works with --dry-run/],
    [['verify', '--out', '/tmp/x', '--no-report'], /--out .* --no-report/],
    [['verify', '--dry-run', '--sample', '10'], /--sample works without --dry-run/],
    [['verify', '--dry-run', '--max-samples', '5'], /--max-samples works without --dry-run/],
    [['verify', '--dry-run', '--fail-on-rejects'], /--fail-on-rejects works without --dry-run/],
    [['status', '--exact', '--exact-limit', '10'], /--exact-limit works without --exact/],
  ];
  it.each(cases)('%j', async (args, message) => {
    const r = await runCli(args, env);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('the same flags with their partner are accepted', async () => {
    const r = await runCli(['migrate', 'workspaces', 'orders', '--incremental', '--overlap', '10m', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const s = await runCli(['status', '--exact', '--json'], env);
    expect(s.code, s.stderr).toBe(0);
  });
});

describe('a DATABASE_URL password that is a common word', () => {
  it('masks the password, not the collection of the same name', async () => {
    // PostgreSQL here trusts local connections: the password is carried, never checked.
    const url = new URL(env.DATABASE_URL);
    url.username = 'postgres';
    url.password = 'orders';
    const r = await runCli(['migrate', 'workspaces', 'orders', '--dry-run'], { ...env, DATABASE_URL: url.toString() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^orders\s+\S+\s+\d+/m);
    expect(r.stdout).not.toMatch(/^\*\*\*\s/m);
    // The logs on stderr go through the scrubber: the collection is named there too.
    expect(r.stderr).toContain('"collection":"orders"');
    expect(r.stderr).not.toContain('"collection":"***"');
    expect(r.stdout + r.stderr).not.toContain(':orders@');
  });
});
