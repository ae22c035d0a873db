/**
 * PostgreSQL keeps the first 63 bytes of an identifier: names that differ only after that are
 * one name to the server. The mapping check finds such collisions before any write.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePrismaSchema } from '../../src/schema/prisma-schema.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import { truncatedIdentifier } from '../../src/config/identifiers.js';

const base = readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
const long = (suffix: string) => `${'t'.repeat(63)}${suffix}`;

/** The shipped schema plus two models whose table (or column) names are given. */
function schemaWith(tableA: string, tableB: string, columnA = 'note_a', columnB = 'note_b') {
  return parsePrismaSchema(`${base}
model LongA {
  id    String @id(map: "long_a_pkey") @db.Uuid
  noteA String? @map("${columnA}")
  noteB String? @map("${columnB}")
  @@map("${tableA}")
}
model LongB {
  id String @id(map: "long_b_pkey") @db.Uuid
  @@map("${tableB}")
}
`);
}

describe('identifiers PostgreSQL would truncate', () => {
  it('truncates at 63 bytes without splitting a UTF-8 character', () => {
    expect(truncatedIdentifier('short')).toBe('short');
    expect(truncatedIdentifier(long('1-goals'))).toBe('t'.repeat(63));
    // 62 ASCII bytes then a 2-byte character: it does not fit whole, so it goes.
    expect(truncatedIdentifier(`${'a'.repeat(62)}é-x`)).toBe('a'.repeat(62));
    expect(Buffer.byteLength(truncatedIdentifier('é'.repeat(40)))).toBe(62);
  });

  it('two tables whose names differ after byte 63 are reported, naming both and the fix', () => {
    const schema = schemaWith(long('1'), long('2'));
    const { issues } = resolveMapping({ collections: { a: { model: 'LongA' }, b: { model: 'LongB' } } }, schema);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('collections.b.model');
    expect(issues[0]?.message).toContain(`"${long('1')}" (model LongA) and "${long('2')}" (model LongB) are the same table to PostgreSQL`);
    expect(issues[0]?.message).toContain('shorter @@map name');
  });

  it('two columns of one table that differ after byte 63 are reported', () => {
    const schema = schemaWith('long_a', 'long_b', long('x'), long('y'));
    const { issues } = resolveMapping({ collections: { a: { model: 'LongA' } } }, schema);
    expect(issues.map((i) => i.message)).toEqual([expect.stringContaining(`columns "${long('x')}" and "${long('y')}" of table "long_a"`)]);
  });

  it('names that differ within 63 bytes, and long collection names (only ever values), are fine', () => {
    const schema = schemaWith(`${'t'.repeat(62)}1`, `${'t'.repeat(62)}2`);
    const { issues } = resolveMapping({ collections: { [long('1-a')]: { model: 'LongA' }, [long('2-a')]: { model: 'LongB' } } }, schema);
    expect(issues).toEqual([]);
  });
});

describe("Prisma's own error for a schema it refuses", () => {
  it('is plain text: no terminal colour escapes, one line naming the field and model', () => {
    const bad = `datasource db {\n  provider = "postgresql"\n}\nmodel Session {\n  id     String @id @db.Uuid\n  userId String\n  userId String\n}\n`;
    let message = '';
    try {
      parsePrismaSchema(bad, 'prisma/schema.prisma');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/Prisma cannot parse "prisma\/schema\.prisma": error: Field "userId" is already defined on model "Session"\./);
    // eslint-disable-next-line no-control-regex
    expect(message).not.toMatch(/\u001b/);
  });
});

describe('a Prisma 5/6 schema, its connection still in the datasource', () => {
  it('parses: url, directUrl and shadowDatabaseUrl are not the data model (Prisma 7 refuses them)', () => {
    const old = `datasource db {\n  provider          = "postgresql"\n  url               = env("DATABASE_URL")\n  directUrl         = env("DIRECT_URL")\n  shadowDatabaseUrl = env("SHADOW_URL")\n}\nmodel Note {\n  id   String @id @db.Uuid\n  text String\n}\n`;
    const schema = parsePrismaSchema(old);
    expect([...schema.models.keys()]).toEqual(['Note']);
    // An error further down still names its own line.
    let message = '';
    try {
      parsePrismaSchema(`${old}model Bad {\n  id String @id\n  x Nope\n}\n`);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/schema\.prisma:13/);
  });
});

describe('a model with a composite primary key', () => {
  it('is a configuration error naming the fix (plan said fine, migrate exit 3 on a primary key that differs)', () => {
    const schema = parsePrismaSchema(`datasource db {\n  provider = "postgresql"\n}\nmodel Order {\n  id    String @id @db.Uuid\n  items OrderLine[]\n}\nmodel OrderLine {\n  orderId  String @db.Uuid\n  position Int\n  sku      String\n  order    Order  @relation(fields: [orderId], references: [id])\n  @@id([orderId, position])\n}\n`);
    const { issues } = resolveMapping({ collections: { orders: { model: 'Order', children: [{ model: 'OrderLine', from: 'items', parentField: 'orderId' }] } } }, schema);
    expect(issues).toEqual([
      {
        path: 'collections.orders.children[0].model',
        message: expect.stringContaining('model "OrderLine" has a composite primary key @@id([orderId, position]); hybrid-migrate gives every row one UUID id'),
      },
    ]);
    expect(issues[0]?.message).toContain('add `id String @id @db.Uuid` to the model and make the pair @@unique([orderId, position])');
  });
});
