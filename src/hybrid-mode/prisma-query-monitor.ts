/**
 * The PostgreSQL side of the hybrid-mode metrics: every Prisma operation — model operations
 * (`prisma.order.findUnique`…) and raw queries (`$queryRaw`, `$executeRawUnsafe`…), inside
 * transactions too — timed by a query extension (`$extends({ query: { $allOperations } })`).
 * `$extends` returns a NEW client: only requests made through that one are counted, so the
 * application must use it in place of its original client.
 */
import type { RequestOutcome } from './hybrid-metrics.js';
import { errorCodeLabel, nameLabel } from './metric-labels.js';

/**
 * A Prisma client (any generated one: only `$extends` is used). `any` on purpose: each
 * generated client has its own extension types, and only `any` lets every one of them fit.
 */
export interface ExtendablePrismaClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  $extends(extension: any): unknown;
}

interface QueryHookArgs {
  model?: string;
  operation: string;
  args: unknown;
  query: (args: unknown) => PromiseLike<unknown>;
}

/**
 * The client extended with the timing of every operation. Typed as the client it extends: a
 * query extension changes what happens, not the client's API.
 */
export function instrumentPrismaClient<P extends ExtendablePrismaClient>(prisma: P, record: (r: RequestOutcome) => void, isActive: () => boolean): P {
  return prisma.$extends({
    name: 'hybrid-migrate-metrics',
    query: {
      async $allOperations({ model, operation, args, query }: QueryHookArgs) {
        if (!isActive()) return query(args);
        const started = performance.now();
        try {
          const result = await query(args);
          record({ database: 'postgresql', target: nameLabel(model), operation: nameLabel(operation), seconds: (performance.now() - started) / 1000 });
          return result;
        } catch (err) {
          record({ database: 'postgresql', target: nameLabel(model), operation: nameLabel(operation), seconds: (performance.now() - started) / 1000, errorCode: errorCodeLabel(err) });
          throw err;
        }
      },
    },
  }) as P;
}
