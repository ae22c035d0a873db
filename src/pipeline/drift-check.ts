/**
 * Drift since the plan: migrate compares what it reads with the plan's type histogram and
 * warns about fields, or BSON types of a field, that the plan never saw (the mapping was
 * checked against data that no longer describes the source). Memory is bounded by the plan's
 * histogram and by `maxWarnings` distinct (path, type) pairs.
 *
 * Documents read by migrate are decoded with promoted numbers: a JS number is an Int32 or a
 * Double, so it matches a plan that saw either.
 */
import { sourceIdKey } from '../core/ids.js';
import { walkDocument, type BsonTypeName } from '../core/type-histogram.js';

export { loadLatestPlan, planDirectory } from '../use-cases/plan/plan-file.js';

/** The part of a plan file the drift check reads. */
interface PlanLike {
  createdAt?: string;
  scan?: { kind?: string };
  collections?: { name?: string; histogram?: { paths?: Record<string, { types?: Record<string, number> }>; overflow?: { occurrences?: number } } }[];
}

export interface DriftDetector {
  /** Checks one source document (as migrate decoded it). */
  observe(doc: Readonly<Record<string, unknown>>): void;
  /** One line per drift found: the collection, the path, what is new, how often, and the first document. */
  warnings(): string[];
}

interface Drift {
  path: string;
  type: BsonTypeName;
  newPath: boolean;
  count: number;
  firstId: string;
}

function compatible(type: BsonTypeName, known: ReadonlySet<string>): boolean {
  if (known.has(type)) return true;
  if (type === 'number') return known.has('int') || known.has('double');
  if (type === 'int' || type === 'double') return known.has('number');
  return false;
}

/**
 * A detector for one collection of a plan (the parsed plan file). A collection the plan does
 * not cover gives a single warning saying so.
 */
export function createDriftDetector(planJson: unknown, collection: string, opts: { maxWarnings?: number } = {}): DriftDetector {
  const plan = (planJson ?? {}) as PlanLike;
  const maxWarnings = opts.maxWarnings ?? 100;
  const when = plan.createdAt ?? 'unknown date';
  const entry = plan.collections?.find((c) => c.name === collection);
  if (!entry?.histogram?.paths) {
    let observed = 0;
    return {
      observe: () => void observed++,
      warnings: () => (observed > 0 ? [`${collection}: the plan of ${when} did not assess this collection; run "hybrid-migrate plan" again`] : []),
    };
  }
  const known = new Map<string, Set<string>>(Object.entries(entry.histogram.paths).map(([p, h]) => [p, new Set(Object.keys(h.types ?? {}))]));
  // A plan whose histogram hit its path cap does not know every path: only types of known paths are checked.
  const pathsComplete = (entry.histogram.overflow?.occurrences ?? 0) === 0;
  const sampled = plan.scan?.kind === 'sample';
  const drifts = new Map<string, Drift>();
  let dropped = 0;
  return {
    observe(doc) {
      let id: string | undefined;
      walkDocument(doc, (path, _parent, _value, type) => {
        const types = known.get(path);
        if (types ? compatible(type, types) : !pathsComplete) return;
        const key = `${path}\u0000${type}`;
        const d = drifts.get(key);
        if (d) {
          d.count++;
          return;
        }
        if (drifts.size >= maxWarnings) {
          dropped++;
          return;
        }
        id ??= safeKey(doc._id);
        drifts.set(key, { path, type, newPath: types === undefined, count: 1, firstId: id });
      });
    },
    warnings() {
      const hint = sampled ? ' (the plan was made from a sample and may have missed it)' : '';
      const lines = [...drifts.values()].map((d) => {
        const what = d.newPath
          ? `field not seen by the plan of ${when}`
          : `${d.type} values, the plan of ${when} saw only ${[...(known.get(d.path) ?? [])].join(', ')}`;
        return `${collection}.${d.path}: ${what}${hint}: ${d.count} occurrence(s), first in ${d.firstId}`;
      });
      if (dropped > 0) lines.push(`${collection}: ${dropped} more occurrence(s) of other drifts not listed`);
      return lines;
    },
  };
}

function safeKey(id: unknown): string {
  try {
    return sourceIdKey(id);
  } catch {
    return String(id);
  }
}
