/** A workspace and `n` plain orders (with one item and one status entry each): bulk data for crash, lock and signal tests. */
import { ObjectId, type Db } from 'mongodb';

export async function insertSimpleOrders(db: Db, n: number, opts: { workspaceId?: ObjectId; badEvery?: number } = {}): Promise<ObjectId> {
  const ws = opts.workspaceId ?? new ObjectId();
  if (!opts.workspaceId) await db.collection('workspaces').insertOne({ _id: ws, name: 'Shop', slug: `shop-${ws.toHexString()}`, currency: 'XOF', createdAt: new Date('2020-01-01T00:00:00Z') });
  const base = Date.UTC(2020, 0, 1);
  for (let i = 0; i < n; i += 5000) {
    const docs = [];
    for (let j = i; j < Math.min(n, i + 5000); j++) {
      const bad = opts.badEvery !== undefined && j % opts.badEvery === 0;
      docs.push({
        workspaceId: ws,
        clientName: `Client ${j}`,
        status: bad ? 'not-a-status' : 'pending',
        items: [{ name: 'Article', quantity: 1, unitPrice: 1000 + j }],
        statusHistory: [{ status: 'pending', at: new Date(base + j * 1000) }],
        createdAt: new Date(base + j * 1000),
      });
    }
    await db.collection('orders').insertMany(docs, { ordered: false });
  }
  return ws;
}

/** The j-th plain order with the given `_id` (one item, one status entry, dated `base` + j seconds), as the id-type tests insert it. */
export function simpleOrder(id: unknown, workspaceId: ObjectId, j: number, base = Date.UTC(2021, 0, 1)): Record<string, unknown> {
  return {
    _id: id,
    workspaceId,
    clientName: `Client ${j}`,
    status: 'pending',
    items: [{ name: 'Article', quantity: 1, unitPrice: 1000 + j }],
    statusHistory: [{ status: 'pending', at: new Date(base + j * 1000) }],
    createdAt: new Date(base + j * 1000),
  };
}

/** A value nested `levels` objects deep (MongoDB's limit is 100), ending in `{ leaf: 'bottom' }`. */
export function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = { leaf: 'bottom' };
  for (let i = 0; i < levels - 1; i++) v = { [`l${i}`]: v };
  return v;
}
