/**
 * The pipeline's last step, pluggable: a settled batch is WRITTEN (one PostgreSQL transaction
 * with its progress; PostgreSQL refuses what breaks a unique constraint) or PREDICTED (the
 * unique keys of the documents a write would send are tracked in `_id` order, and the ones
 * PostgreSQL would refuse are refused here, with the field path a write records).
 */
import type pg from 'pg';
import type { MappedCollection } from '../core/mapping.js';
import { uniqueChecks, UniqueTracker, type UniqueViolation } from '../core/plan-uniques.js';
import { SAMPLE_IDS } from '../core/plan-findings.js';
import { writeBatch, type BatchInput, type RejectRecord, type WriteOptions, type WritePlan } from '../target/batch-writer.js';
import type { SettledBatch } from './settle-batch.js';

export interface SinkOutcome {
  written: number;
  /** Documents PostgreSQL refused (or would refuse), besides the batch's own rejects. */
  refused: RejectRecord[];
  /** Source keys of the documents left alone for the application (it changed their rows since, or wrote their row itself). */
  skippedModified: readonly string[];
  /** Upsert with onConflict 'overwrite': documents the application had changed or deleted, replaced on request. */
  overwritten: number;
  /** Upsert: documents whose rows are exactly as written before. */
  unchanged: number;
}

export interface BatchSink {
  put(batch: SettledBatch): Promise<SinkOutcome>;
}

/** How a batch is written, and the progress it records in its transaction. */
export interface BatchWrite {
  options: WriteOptions;
  progress: BatchInput['progress'];
  whilePostgresWorks?: BatchInput['whilePostgresWorks'];
}

/** Writes the batch, its rejects and its progress in one transaction (target/batch-writer). */
export function writeSink(pool: pg.Pool, plan: WritePlan, runId: string, write: BatchWrite, beforeWrite?: (client: pg.PoolClient) => Promise<void>): BatchSink {
  return {
    async put(batch) {
      const progress: BatchInput['progress'] = async (client, done) => {
        if (beforeWrite && (done.written > 0 || done.rejected > 0 || done.conflicts > 0)) await beforeWrite(client);
        await write.progress(client, done);
      };
      const outcome = await writeBatch(pool, plan, runId, { docs: batch.docs, rejects: batch.rejects, progress, whilePostgresWorks: write.whilePostgresWorks }, write.options);
      return { written: outcome.written, refused: outcome.refused, skippedModified: outcome.skippedModified, overwritten: outcome.overwritten.length, unchanged: outcome.unchanged };
    },
  };
}

export interface DuplicateFinding {
  model: string;
  /** The unique constraint's fields (`workspaceId,phone`). */
  fields: string;
  /** Documents PostgreSQL would refuse. */
  count: number;
  /** `{id, firstId}`: the refused document and the one holding the key first. */
  samples: { id: string; firstId: string }[];
}

/**
 * Writes nothing: predicts what PostgreSQL's unique constraints would refuse, for one
 * collection (shared by its ranges and batches: a key taken in one batch is taken for the next).
 */
export class UniqueKeyPrediction implements BatchSink {
  private readonly tracker: UniqueTracker;
  private readonly found = new Map<string, DuplicateFinding>();
  /** Rows the documents that would be written become (child rows included). */
  rows = 0;

  constructor(collection: MappedCollection, cap?: number) {
    this.tracker = new UniqueTracker(uniqueChecks(collection), cap);
  }

  /** The unique-key memory bound was reached: duplicates are a lower bound. */
  get incomplete(): boolean {
    return this.tracker.incomplete;
  }

  duplicates(): DuplicateFinding[] {
    return [...this.found.values()];
  }

  put(batch: SettledBatch): Promise<SinkOutcome> {
    let written = 0;
    const refused: RejectRecord[] = [];
    for (const d of batch.docs) {
      const doc = d.converted;
      const violation = this.tracker.check(doc);
      if (!violation) {
        written++;
        this.rows += doc.rows.length;
        continue;
      }
      refused.push({ sourceKey: doc.sourceKey, fieldPath: violation.fields, reason: duplicateReason(violation), document: d.sourceJson() });
      this.remember(violation, doc.sourceKey);
    }
    return Promise.resolve({ written, refused, skippedModified: [], overwritten: 0, unchanged: 0 });
  }

  private remember(violation: UniqueViolation, id: string): void {
    const key = `${violation.model}.${violation.fields}`;
    let d = this.found.get(key);
    if (!d) this.found.set(key, (d = { model: violation.model, fields: violation.fields, count: 0, samples: [] }));
    d.count++;
    if (d.samples.length < SAMPLE_IDS) d.samples.push({ id, firstId: violation.firstId });
  }
}

function duplicateReason(v: UniqueViolation): string {
  return `duplicate key (${v.fields.replaceAll(',', ', ')}) of ${v.model}: the document ${v.firstId} holds it first`;
}
