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
  const labels = new Map<string, { target: string; operation: string }>();
  const labelsOf = (model: string | undefined, operation: string) => {
    const key = `${model ?? ''}.${operation}`;
    let l = labels.get(key);
    if (!l) labels.set(key, (l = { target: nameLabel(model), operation: nameLabel(operation) }));
    return l;
  };
  return prisma.$extends({
    name: 'hybrid-migrate-metrics',
    query: {
      // Not async: `then` on Prisma's promise directly saves the extra turns an `await` of a foreign thenable costs.
      $allOperations({ model, operation, args, query }: QueryHookArgs) {
        if (!isActive()) return query(args);
        const { target, operation: op } = labelsOf(model, operation);
        const started = performance.now();
        const failed = (err: unknown): never => {
          record({ database: 'postgresql', target, operation: op, seconds: (performance.now() - started) / 1000, errorCode: errorCodeLabel(err) });
          throw err;
        };
        let pending: PromiseLike<unknown>;
        try {
          pending = query(args);
        } catch (err) {
          return failed(err);
        }
        return pending.then((result) => {
          record({ database: 'postgresql', target, operation: op, seconds: (performance.now() - started) / 1000 });
          return result;
        }, failed);
      },
    },
  }) as P;
}
