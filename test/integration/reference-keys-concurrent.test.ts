/**
 * References by a business key (`by: 'email'`) looked up by two batches at once — two
 * collections referring to the same users, as migrate and verify run them in parallel. The
 * index once marked the keys "none" in its shared cache before its own query returned: the
 * second batch read "none" and wrote NULL with the e-mail in $orphans (or rejected a required
 * reference) for users that exist (found by a black-box run: 21 of 45 comment orphans false,
 * 25 of 25 sessions rejected, varying from run to run). Against the real MongoDB-wire server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { useTestDatabases } from '../support/databases.js';
import { REPO_ROOT } from '../support/migration.js';
import { parsePrismaSchema } from '../../src/schema/prisma-schema.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import { ReferenceIndex } from '../../src/pipeline/reference-index.js';
import { convertDocument, type ConvertedDocument } from '../../src/core/transform.js';
import { idToUuid } from '../../src/core/ids.js';
import type { MappedCollection } from '../../src/core/mapping.js';

const t = useTestDatabases();

describe('references by a business key, two batches at once', () => {
  it('both batches resolve every e-mail to its user; none is read as missing while a lookup is in flight', async () => {
    const users = Array.from({ length: 30 }, (_, i) => ({ _id: new ObjectId(), name: `U${i}`, email: `user${i}@example.org` }));
    await t.db.collection('users').insertMany(users);
    const schema = parsePrismaSchema(readFileSync(join(REPO_ROOT, 'test/support/real-world/schema.prisma'), 'utf8'));
    const { mapping, issues } = resolveMapping(
      { collections: { users: { model: 'User' }, comments: { model: 'Comment', fields: { userId: { from: 'email', references: 'users', by: 'email' } } } } },
      schema,
    );
    expect(issues).toEqual([]);
    const comments = mapping.collections.get('comments') as MappedCollection;
    const batch = (from: number): ConvertedDocument[] =>
      users.slice(from, from + 20).map((u) => {
        const r = convertDocument(comments, { _id: new ObjectId(), name: u.name, email: u.email, text: 'hello', date: new Date(0) });
        if (!r.ok) throw new Error(r.reason);
        return r.doc;
      });
    const index = new ReferenceIndex(mapping, { keys: t.db });
    // Overlapping keys (users 10..19 in both), looked up at the same time.
    const [a, b] = [batch(0), batch(10)];
    await Promise.all([index.load(a), index.load(b)]);
    for (const doc of [...a, ...b]) {
      const ref = doc.references.find((r) => r.key?.kind === 'source');
      const email = (ref?.key as { value: string }).value;
      const user = users.find((u) => u.email === email) as { _id: ObjectId };
      expect(ref?.uuid, email).toBe(idToUuid('users', user._id));
    }
  });
});
