/**
 * Whether a collection's `updatedAt` is usable by the incremental sync, as far as a scan can
 * honestly tell: documents where it is missing, where it is not a date, and — once the
 * collection was migrated — documents whose converted rows differ from what the migration
 * recorded (so they changed since) while their `updatedAt` is not after that write (so the
 * field was not maintained when they changed). Any of them: the sync cannot see every change,
 * and `migrate --incremental --detect-changes` is recommended.
 */
import type { Document } from 'mongodb';
import type pg from 'pg';
import type { MappedCollection } from '../../core/mapping.js';
import type { ConvertedDocument } from '../../core/transform.js';
import { SAMPLE_IDS } from '../../core/plan-findings.js';
import { sourceIdKey } from '../../core/ids.js';
import { sourceHash } from '../../target/batch-writer.js';
import { recordedWrites } from '../../state/registry-status.js';

export interface UpdatedAtFinding {
  field: string;
  /** Documents scanned without the field (or null). */
  missing: { count: number; sampleIds: string[] };
  /** Documents scanned where it is not a date. */
  notDate: { count: number; sampleIds: string[] };
  /** Migrated documents changed since (rows differ from those recorded) whose updatedAt is not after the migration's write. */
  notMaintained: { count: number; sampleIds: string[] };
  /** Whether the comparison with the migration's records ran (false: never migrated, no state, or the mapping changed since). */
  comparedWithMigration: boolean;
  /** False when any of the three was found: the sync alone cannot see every change. */
  usable: boolean;
}

const empty = () => ({ count: 0, sampleIds: [] as string[] });
const note = (f: { count: number; sampleIds: string[] }, id: string) => {
  f.count++;
  if (f.sampleIds.length < SAMPLE_IDS) f.sampleIds.push(id);
};

export class UpdatedAtCheck {
  private readonly finding: UpdatedAtFinding;

  /** `pool` undefined: no comparison with the migration (never migrated, or the mapping changed since). */
  constructor(private readonly collection: MappedCollection, private readonly pool: pg.Pool | undefined) {
    this.finding = { field: collection.updatedAtField, missing: empty(), notDate: empty(), notMaintained: empty(), comparedWithMigration: pool !== undefined, usable: true };
  }

  /** The source documents of a batch, as the sync reads them (the field at the top level). */
  observe(docs: readonly Document[]): void {
    for (const doc of docs) {
      const v = doc[this.finding.field];
      if (v === undefined || v === null) note(this.finding.missing, sourceIdKey(doc._id));
      else if (!(v instanceof Date)) note(this.finding.notDate, sourceIdKey(doc._id));
    }
  }

  /** The batch's converted documents against what the migration recorded when it wrote them. */
  async compare(docs: readonly Document[], converted: readonly ConvertedDocument[]): Promise<void> {
    if (!this.pool || converted.length === 0) return;
    const recorded = await recordedWrites(this.pool, this.collection.name, converted.map((c) => c.sourceKey));
    const updatedAt = new Map(docs.map((d) => [sourceIdKey(d._id), d[this.finding.field] as unknown]));
    for (const c of converted) {
      const r = recorded.get(c.sourceKey);
      if (!r || r.sourceHash === null || r.sourceHash === sourceHash(c)) continue;
      const v = updatedAt.get(c.sourceKey);
      if (v instanceof Date && v.getTime() <= r.migratedAt.getTime()) note(this.finding.notMaintained, c.sourceKey);
    }
  }

  toJSON(): UpdatedAtFinding {
    const f = this.finding;
    return { ...f, usable: f.missing.count + f.notDate.count + f.notMaintained.count === 0 };
  }
}
