/**
 * The MongoDB side of a combined read: a mongoose Model (its query casts the filter with the
 * application's schema, and `lean()` skips hydration) or a native driver Collection. Typed
 * structurally, so the application's own mongoose/mongodb versions fit.
 */

/** The part of a mongoose Model a combined read uses. */
export interface MongooseModelLike {
  modelName: string;
  collection: { collectionName: string };
  find(filter: Record<string, unknown>): {
    sort(sort: Record<string, 1 | -1>): { lean(): { cursor(options?: { batchSize?: number }): MongoDocumentCursor } };
  };
}

/** The part of a native driver Collection a combined read uses. */
export interface NativeCollectionLike {
  collectionName: string;
  find(filter: Record<string, unknown>, options?: { sort?: Record<string, 1 | -1>; batchSize?: number }): MongoDocumentCursor;
}

export type MongoReadable = MongooseModelLike | NativeCollectionLike;

export interface MongoDocumentCursor extends AsyncIterable<unknown> {
  close(): Promise<unknown> | unknown;
}

function isModel(m: MongoReadable): m is MongooseModelLike {
  return typeof (m as MongooseModelLike).modelName === 'string' && typeof (m as MongooseModelLike).collection === 'object';
}

export function collectionNameOf(m: MongoReadable): string {
  return isModel(m) ? m.collection.collectionName : m.collectionName;
}

/** Documents in the given order, fetched `batchSize` at a time (the caller closes the cursor). */
export function mongoCursor(m: MongoReadable, filter: Record<string, unknown>, sort: Record<string, 1 | -1>, batchSize: number): MongoDocumentCursor {
  if (isModel(m)) return m.find(filter).sort(sort).lean().cursor({ batchSize });
  return m.find(filter, { sort, batchSize });
}
