/**
 * Issue 18, real-world mappings (public MongoDB sample data sets): array indexes in `from`
 * paths, arrays of plain values as child rows or scalar lists, references by a business key,
 * Prisma relations to a unique column that is not the id. Pure: no database.
 */
import { ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parsePrismaSchema } from '../../src/schema/prisma-schema.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import { validateConfigShape } from '../../src/config/validate-config.js';
import { convertDocument, settleReferences, valueAt, writtenColumns } from '../../src/core/transform.js';
import type { HybridMigrateConfig } from '../../src/config/define-config.js';
import type { MappedCollection } from '../../src/core/mapping.js';
import { idToUuid, objectIdToUuid } from '../../src/core/ids.js';
import { rejectCategory } from '../../src/core/plan-findings.js';
import { unmappedPaths } from '../../src/core/plan-unmapped.js';

const schema = parsePrismaSchema(readFileSync(new URL('../support/real-world/schema.prisma', import.meta.url), 'utf8'));

function mapped(config: HybridMigrateConfig, name: string): MappedCollection {
  const { mapping, issues } = resolveMapping(config, schema);
  expect(issues).toEqual([]);
  return mapping.collections.get(name) as MappedCollection;
}

/** The row values of a converted document's own row, by Prisma field. */
function rowOf(c: MappedCollection, doc: Record<string, unknown>, row = 0): Record<string, string | null> {
  const r = convertDocument(c, doc);
  if (!r.ok) throw new Error(r.reason);
  const settled = settleReferences(r.doc, () => true, () => false, () => undefined);
  if (!settled.ok) throw new Error(settled.reason);
  const buffer = r.doc.rows[row];
  if (!buffer) throw new Error(`no row ${row}`);
  const cols = writtenColumns(buffer.child === null ? c.columns : (c.children[buffer.child]?.columns ?? []));
  return Object.fromEntries(cols.map((col, i) => [col.column.field, buffer.values[i] ?? null]));
}

describe('array indexes in from paths (item 3)', () => {
  const theaters = mapped(
    { collections: { theaters: { model: 'Theater', fields: { longitude: 'location.geo.coordinates.0', latitude: 'location.geo.coordinates.1' } } } },
    'theaters',
  );

  it('reads the element at that position', () => {
    expect(valueAt({ a: { b: [10, 20] } }, ['a', 'b', '1'])).toBe(20);
    expect(valueAt({ a: [{ x: 1 }, { x: 2 }] }, ['a', '1', 'x'])).toBe(2);
    expect(valueAt({ a: [1] }, ['a', '5'])).toBeUndefined();
    expect(valueAt({ a: [1] }, ['a', '-1'])).toBeUndefined();
    expect(valueAt({ a: [1] }, ['a', 'length'])).toBeUndefined();
  });

  it('writes GeoJSON coordinates into two columns', () => {
    const row = rowOf(theaters, { _id: new ObjectId(), theaterId: 1000, location: { geo: { type: 'Point', coordinates: [-93.24565, 44.85466] } } });
    expect(row.longitude).toBe('-93.24565');
    expect(row.latitude).toBe('44.85466');
  });
});

describe('arrays of plain values (item 4)', () => {
  it('become child rows: position and the value column', () => {
    const movies = mapped({ collections: { movies: { model: 'Movie', children: [{ model: 'Tag', from: 'keywords' }] } } }, 'movies');
    const doc = { _id: new ObjectId(), title: 'Blacksmith Scene', genres: ['Short'], keywords: ['smith', 'anvil'] };
    const r = convertDocument(movies, doc);
    if (!r.ok) throw new Error(r.reason);
    expect(r.doc.rows.filter((x) => x.child === 0)).toHaveLength(2);
    expect(rowOf(movies, doc, 2)).toMatchObject({ position: '1', value: 'anvil', movieId: r.doc.uuid });
  });

  it("plan lists no unmapped field inside the values (an ObjectId's own keys i0…i3 are not source fields)", () => {
    const movies = mapped({ collections: { movies: { model: 'Movie', children: [{ model: 'Tag', from: 'keywords' }] } } }, 'movies');
    const doc = { _id: new ObjectId(), title: 'T', keywords: [new ObjectId(), new Date(0), 'anvil'] };
    expect(unmappedPaths(movies, doc)).toEqual([]);
    // A record element still has fields of its own to list.
    expect(unmappedPaths(movies, { ...doc, keywords: [{ note: 'x' }] }).map((u) => u.path)).toEqual(['keywords[].note']);
  });

  it('arrays of scalars go into a Prisma scalar list', () => {
    const movies = mapped({ collections: { movies: { model: 'Movie' } } }, 'movies');
    expect(rowOf(movies, { _id: new ObjectId(), title: 'T', genres: ['Short', 'Drama "x"'] }).genres).toBe('{"Short","Drama \\"x\\""}');
  });

  it('a null element in a scalar list rejects with the element path: Prisma cannot read a list holding NULL', () => {
    // Prisma's client fails on such a row ("expected non-nullable type String, found incompatible value of null"): the application would break on it.
    const movies = mapped({ collections: { movies: { model: 'Movie' } } }, 'movies');
    const r = convertDocument(movies, { _id: new ObjectId(), title: 'T', genres: ['Short', null, 'Drama'] });
    expect(r).toMatchObject({ ok: false, path: 'genres' });
    expect(r.ok ? '' : r.reason).toMatch(/^genres element \[1\] is null: Prisma lists cannot hold null elements/);
  });

  it('an element that is neither an object nor a plain value rejects with the element path', () => {
    const movies = mapped({ collections: { movies: { model: 'Movie', children: [{ model: 'Tag', from: 'keywords' }] } } }, 'movies');
    const r = convertDocument(movies, { _id: new ObjectId(), title: 'T', keywords: ['a', ['b']] });
    expect(r).toMatchObject({ ok: false, path: 'keywords[1]', reason: 'keywords[1] is an array, expected an object or a plain value for "value"' });
  });

  it('valueField names the value column, and must be one', () => {
    const movies = mapped({ collections: { movies: { model: 'Movie', children: [{ model: 'Tag', from: 'keywords', valueField: 'value' }] } } }, 'movies');
    expect(movies.children[0]?.valueColumn).toBe('value');
    const { issues } = resolveMapping({ collections: { movies2: { model: 'Movie', children: [{ model: 'Tag', from: 'keywords', valueField: 'nope' }] } } }, schema);
    expect(issues.map((i) => i.path)).toContain('collections.movies2.children[0].valueField');
  });
});

describe('reference messages and string _ids (items 5 and 7)', () => {
  const comments = mapped({ collections: { comments: { model: 'Comment' }, users: { model: 'User' } } }, 'comments');
  const hex = '5a9427648b0beebeb69579e7';

  it('a hex string that is the referenced document’s string _id resolves to that document', () => {
    const r = convertDocument(comments, { _id: new ObjectId(), text: 'hi', userId: hex });
    if (!r.ok) throw new Error(r.reason);
    const stringIdUuid = idToUuid('users', hex);
    const orphans: string[] = [];
    const settled = settleReferences(r.doc, (_c, uuid) => uuid === stringIdUuid, () => false, (ref) => orphans.push(ref.sourceText));
    expect(settled).toEqual({ ok: true });
    expect(orphans).toEqual([]);
    expect(r.doc.rows[0]?.values).toContain(stringIdUuid);
    expect(r.doc.rows[0]?.values).not.toContain(objectIdToUuid(hex));
  });

  it('the ObjectId reading wins when both exist; neither: an orphan named by its value', () => {
    const r = convertDocument(comments, { _id: new ObjectId(), text: 'hi', userId: hex });
    if (!r.ok) throw new Error(r.reason);
    expect(settleReferences(r.doc, () => true, () => false, () => undefined)).toEqual({ ok: true });
    expect(r.doc.rows[0]?.values).toContain(objectIdToUuid(hex));
    const strict = mapped({ collections: { comments: { model: 'Comment', fields: { userId: { onMissingReference: 'reject' } } }, users: { model: 'User' } } }, 'comments');
    const r2 = convertDocument(strict, { _id: new ObjectId(), text: 'hi', userId: hex });
    if (!r2.ok) throw new Error(r2.reason);
    expect(settleReferences(r2.doc, () => false, () => false, () => undefined)).toEqual({ ok: false, path: 'userId', reason: `userId references users ${hex}, which does not exist` });
  });

  it('a reference to a document the run rejects says so, not just "missing"', () => {
    const strict = mapped({ collections: { comments: { model: 'Comment', fields: { userId: { onMissingReference: 'reject' } } }, users: { model: 'User' } } }, 'comments');
    const r = convertDocument(strict, { _id: new ObjectId(), text: 'hi', userId: new ObjectId(hex) });
    if (!r.ok) throw new Error(r.reason);
    const settled = settleReferences(r.doc, () => false, () => false, () => undefined, () => true);
    expect(settled).toMatchObject({ ok: false, reason: `userId references users ${hex}, which does not exist: that document is itself rejected (see its reason)` });
    if (!settled.ok) expect(rejectCategory(settled.reason)).toBe('missing-reference');
  });
});

describe('relations to a unique field that is not the id (item 2)', () => {
  it('are read from the schema and resolved through that field: the value is written as is', () => {
    const tx = mapped({ collections: { transactions: { model: 'Transaction', fields: { accountNumber: 'account_id' } }, accounts: { model: 'Account', fields: { accountId: 'account_id' } } } }, 'transactions');
    const col = tx.columns.find((c) => c.column.field === 'accountNumber');
    expect(col?.source).toMatchObject({ kind: 'reference', targetCollection: 'accounts', toField: 'accountId' });
    const r = convertDocument(tx, { _id: new ObjectId(), account_id: 371138, amount: 5 });
    if (!r.ok) throw new Error(r.reason);
    expect(r.doc.references).toMatchObject([{ uuid: 'accountId=371138', sourceText: 'accountId=371138', key: { kind: 'column', field: 'accountId', text: '371138' } }]);
    expect(settleReferences(r.doc, (_c, key) => key === 'accountId=371138', () => false, () => undefined)).toEqual({ ok: true });
    expect(r.doc.rows[0]?.values).toContain('371138');
    const r2 = convertDocument(tx, { _id: new ObjectId(), account_id: 1, amount: 5 });
    if (!r2.ok) throw new Error(r2.reason);
    expect(settleReferences(r2.doc, () => false, () => false, () => undefined)).toEqual({ ok: false, path: 'account_id', reason: 'account_id references accounts accountId=1, which does not exist' });
  });

  it('"by" on such a relation is a configuration error naming the relation', () => {
    const { issues } = resolveMapping({ collections: { transactions: { model: 'Transaction', fields: { accountNumber: { from: 'account_id', references: 'accounts', by: 'account_id' } } } } }, schema);
    expect(issues).toEqual([{ path: 'collections.transactions.fields.accountNumber.by', message: expect.stringContaining('relation Transaction.account (@relation(fields: [accountNumber], references: [accountId])) references Account.accountId, not its id') }]);
  });
});

describe('references by a business key (item 1)', () => {
  it('"by" needs "references", and is checked as a string', () => {
    expect(validateConfigShape({ collections: { comments: { fields: { userId: { from: 'email', by: 'email' } } } } }).map((i) => i.path)).toEqual(['collections.comments.fields.userId.by']);
    expect(validateConfigShape({ collections: { comments: { fields: { userId: { from: 'email', references: 'users', by: 3 } } } } }).map((i) => i.path)).toEqual(['collections.comments.fields.userId.by']);
  });

  it('the value is a key to resolve, not an id: nothing is written until the index resolves it', () => {
    const comments = mapped({ collections: { comments: { model: 'Comment', fields: { userId: { from: 'email', references: 'users', by: 'email' } } }, users: { model: 'User' } } }, 'comments');
    const r = convertDocument(comments, { _id: new ObjectId(), text: 'hi', email: 'sean_bean@gameofthron.es' });
    if (!r.ok) throw new Error(r.reason);
    const [ref] = r.doc.references;
    expect(ref).toMatchObject({ uuid: '', sourceText: 'email=sean_bean@gameofthron.es', key: { kind: 'source', field: ['email'], value: 'sean_bean@gameofthron.es' } });
    const user = new ObjectId();
    if (ref) ref.uuid = objectIdToUuid(user);
    expect(settleReferences(r.doc, () => true, () => false, () => undefined)).toEqual({ ok: true });
    expect(r.doc.rows[0]?.values).toContain(objectIdToUuid(user));
  });
});

describe('relations the migration cannot write are configuration errors, never an _id assumption', () => {
  it('a composite relation names the relation and the fix', () => {
    const composite = parsePrismaSchema(`
datasource db {
  provider = "postgresql"
}
model Branch {
  id      String   @id @db.Uuid
  bank    String
  code    String
  tellers Teller[]
  @@unique([bank, code])
}
model Teller {
  id         String @id @db.Uuid
  branchBank String
  branchCode String
  branch     Branch @relation(fields: [branchBank, branchCode], references: [bank, code])
}
`);
    const { issues } = resolveMapping({ collections: { tellers: { model: 'Teller' }, branches: { model: 'Branch' } } }, composite);
    expect(issues.map((i) => i.path)).toEqual(['collections.tellers.fields.branchBank', 'collections.tellers.fields.branchCode']);
    expect(issues[0]?.message).toContain('relation Teller.branch (@relation(fields: [branchBank, branchCode], references: [bank, code])) has a composite key');
  });
});

describe('messages carry the value, cut to a readable length (item 7)', () => {
  it('a missing reference by a long string id names its start', () => {
    const strict = mapped({ collections: { comments: { model: 'Comment', fields: { userId: { onMissingReference: 'reject' } } }, users: { model: 'User' } } }, 'comments');
    const long = `user-${'x'.repeat(500)}`;
    const r = convertDocument(strict, { _id: new ObjectId(), text: 'hi', userId: long });
    if (!r.ok) throw new Error(r.reason);
    const settled = settleReferences(r.doc, () => false, () => false, () => undefined);
    expect(settled.ok).toBe(false);
    if (!settled.ok) {
      expect(settled.reason).toMatch(/^userId references users str:user-x+…, which does not exist$/);
      expect(settled.reason.length).toBeLessThan(120);
    }
  });

  it('a plain array element that fits no column names its value', () => {
    const customers = mapped({ collections: { customers: { model: 'Customer', children: [{ model: 'CustomerAccount', from: 'accounts' }] }, accounts: { model: 'Account', fields: { accountId: 'account_id' } } } }, 'customers');
    const r = convertDocument(customers, { _id: new ObjectId(), username: 'u', accounts: [371138, 'x'.repeat(100)] });
    expect(r).toMatchObject({ ok: false, path: 'accounts[1].accountId' });
    if (!r.ok) expect(r.reason).toContain('"xxxxxxxxxx');
  });
});
