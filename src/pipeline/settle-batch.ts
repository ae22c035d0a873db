/**
 * The pipeline's middle steps, the same for every use (migrate, incremental, dry run, plan,
 * verify): decoded source documents → converted (convertDocument) → their references looked up
 * once for the batch and settled by each field's policy (settleReferences). What comes out is
 * the documents a write would send to PostgreSQL and those set aside, with the reason.
 */
import type { Db, Document } from 'mongodb';
import type { MappedCollection } from '../core/mapping.js';
import { convertDocument, settleReferences, type ConvertedDocument, type PendingReference } from '../core/transform.js';
import { canonicalExtendedJson } from '../core/canonical.js';
import type { BatchDocument, RejectRecord } from '../target/batch-writer.js';
import type { ReferenceIndex } from './reference-index.js';
import { SLICE_DOCS, Slices } from '../runtime/cooperative.js';
import { idOfSourceKey } from './source-keys.js';

/** What the pipeline tells about each document as it goes (counters, plan findings, drift). */
export interface PipelineObserver {
  /** Every decoded source document, before conversion. */
  source?(doc: Document): void;
  /** A document set aside: by the conversion, a reference policy, or PostgreSQL (written or predicted). */
  rejected?(reject: RejectRecord): void;
  /** A reference to a row that does not exist; `deferred`: one the second pass of a foreign-key cycle writes. */
  orphan?(doc: ConvertedDocument, ref: PendingReference, deferred: boolean): void;
  /** A document converted with its references settled: what a write sends to PostgreSQL. */
  settled?(doc: ConvertedDocument): void;
}

/** Milliseconds spent per step, added up over batches. */
export interface PipelineTiming {
  convertMs: number;
  referenceMs: number;
  writeMs: number;
}

export const newTiming = (): PipelineTiming => ({ convertMs: 0, referenceMs: 0, writeMs: 0 });

export interface SettleSteps {
  references: ReferenceIndex;
  observer?: PipelineObserver;
  timing: PipelineTiming;
  /**
   * 'second-pass' (migrate, plan): a deferred reference of a foreign-key cycle is NULL now and
   * recorded for the second pass. 'settle' (verify, after the second pass): like any other.
   */
  deferred: 'second-pass' | 'settle';
  /** The source database, to resolve references by a business key (`by`) when the index has none. */
  keys?: Db;
  /**
   * Writing (not predicting): a child row whose reference into the collection itself names a
   * document not written yet but present in the source (a later batch, another range) is held
   * back and recorded; completeHeldChildRows writes the document again, whole, once the
   * collection's rows are all there. Off for that completion itself.
   */
  holdLaterChildRows?: boolean;
}

export interface SettledBatch {
  /** Documents to write, in source order, with the references left to the second pass. */
  docs: BatchDocument[];
  /** Documents set aside by the conversion or a reference policy. */
  rejects: RejectRecord[];
}

/** A batch converted (pure CPU, no I/O), its references not looked up yet. */
export interface ConvertedBatch {
  /** `source` gives the document back, for a reject's record (decoded again when the batch came as BSON). */
  converted: { doc: ConvertedDocument; source: () => Document }[];
  /** Documents the conversion set aside. */
  rejects: RejectRecord[];
}

export async function settleBatch(collection: MappedCollection, docs: readonly Document[], steps: SettleSteps): Promise<SettledBatch> {
  return settleConverted(collection, convertBatch(collection, docs, steps), steps);
}

/**
 * The conversion alone, in one piece: synchronous and without I/O (verify and bench-stages;
 * beside a write, convertBatchYielding). Its references are looked up afterwards, by
 * settleConverted.
 */
export function convertBatch(collection: MappedCollection, docs: readonly Document[], steps: Pick<SettleSteps, 'references' | 'observer' | 'timing'>): ConvertedBatch {
  const rejects: RejectRecord[] = [];
  const started = performance.now();
  const converted: ConvertedBatch['converted'] = [];
  convertRange(collection, documentsAt(docs), 0, docs.length, steps, rejects, converted);
  steps.timing.convertMs += performance.now() - started;
  return { converted, rejects };
}

/**
 * convertBatch a slice of documents at a time, letting pending I/O run between slices: a
 * range worker converts batch n+1 this way while batch n's statements go to PostgreSQL, so
 * PostgreSQL works on one batch while Node converts the next (a conversion in one piece would
 * hold the event loop, and with it the write, until it ended). Only the slices' own time counts
 * as converting.
 */
export async function convertBatchYielding(collection: MappedCollection, docs: readonly Document[] | DocumentsAt, steps: Pick<SettleSteps, 'references' | 'observer' | 'timing'>): Promise<ConvertedBatch> {
  const list = documentsAt(docs);
  const rejects: RejectRecord[] = [];
  const converted: ConvertedBatch['converted'] = [];
  const slices = new Slices();
  let started = performance.now();
  for (let start = 0; start < list.count; start += SLICE_DOCS) {
    if (start > 0 && slices.due()) {
      steps.timing.convertMs += performance.now() - started;
      await slices.next();
      started = performance.now();
    }
    convertRange(collection, list, start, Math.min(list.count, start + SLICE_DOCS), steps, rejects, converted);
  }
  steps.timing.convertMs += performance.now() - started;
  return { converted, rejects };
}

/**
 * A batch's documents by position, each decoded when asked for (a RawBatch): converted one
 * at a time, a decoded document is garbage as soon as its rows are made, and dies young. Held
 * decoded through the batch's write, 5,000 orders' objects outlived the young generation, were
 * copied into the old one and made most of the full collections.
 */
export interface DocumentsAt {
  readonly count: number;
  decodeAt(i: number): Document;
}

export function documentsAt(docs: readonly Document[] | DocumentsAt): DocumentsAt {
  return 'decodeAt' in docs ? docs : { count: docs.length, decodeAt: (i) => docs[i] as Document };
}

/** Looks up a converted batch's references and settles them by each field's policy. */
export async function settleConverted(collection: MappedCollection, batch: ConvertedBatch, steps: SettleSteps): Promise<SettledBatch> {
  const { references, observer, timing } = steps;
  const { converted } = batch;
  const rejects = [...batch.rejects];
  let started = performance.now();
  await references.load(converted.map((c) => c.doc), steps.keys);
  timing.referenceMs += performance.now() - started;
  started = performance.now();
  const out: BatchDocument[] = [];
  // A reference into the collection itself may name a document of this very batch: its row is
  // written in the same transaction, the batch's own rows before any child row, so it exists by
  // the time the reference is checked by PostgreSQL (unless it is set aside itself).
  // (Made on the first such reference: most collections never refer to themselves.)
  let inBatch: Set<string> | undefined;
  const setAside = new Set<string>();
  const exists = (target: string, uuid: string) =>
    references.exists(target, uuid) || (target === collection.name && (inBatch ??= new Set(converted.map((c) => c.doc.uuid))).has(uuid) && !setAside.has(uuid));
  const later = steps.holdLaterChildRows && steps.keys ? await laterSelfReferences(collection, converted, exists, references, steps.keys) : undefined;
  let sliceStarted = started;
  const slices = new Slices();
  for (let i = 0; i < converted.length; i++) {
    if (i > 0 && i % SLICE_DOCS === 0 && slices.due()) {
      // Beside another batch's write, a slice at a time (only the slices count as converting).
      timing.convertMs += performance.now() - sliceStarted;
      await slices.next();
      sliceStarted = performance.now();
    }
    const { doc, source } = converted[i] as ConvertedBatch['converted'][number];
    const deferred: BatchDocument['deferred'] = [];
    const held = new Set<number>();
    const settled = settleReferences(
      doc,
      exists,
      (ref) => (steps.deferred === 'second-pass' && deferToSecondPass(doc, ref, deferred, steps)) || holdChildRow(doc, ref, later, held, deferred),
      (ref) => observer?.orphan?.(doc, ref, false),
      (target, uuid) => references.isRejected(target, uuid),
    );
    if (!settled.ok) {
      setAside.add(doc.uuid);
      reject(collection, steps, rejects, { sourceKey: doc.sourceKey, fieldPath: settled.path, reason: settled.reason, document: canonicalExtendedJson(source()) }, doc.uuid);
      continue;
    }
    if (held.size > 0) withoutRows(doc, held);
    observer?.settled?.(doc);
    // Settled and counted: a write needs the rows alone from here on, not the references and
    // coercions, which would otherwise be kept (5,000 documents of them) until the batch commits.
    doc.references = [];
    doc.coercions = [];
    out.push({ converted: doc, sourceJson: () => canonicalExtendedJson(source()), deferred });
  }
  timing.convertMs += performance.now() - sliceStarted;
  return { docs: out, rejects };
}

function convertRange(
  collection: MappedCollection,
  docs: DocumentsAt,
  start: number,
  end: number,
  steps: Pick<SettleSteps, 'references' | 'observer'>,
  rejects: RejectRecord[],
  converted: ConvertedBatch['converted'],
): void {
  for (let i = start; i < end; i++) {
    const source = docs.decodeAt(i);
    steps.observer?.source?.(source);
    const r = convertDocument(collection, source);
    if (r.ok) converted.push({ doc: r.doc, source: () => docs.decodeAt(i) });
    else reject(collection, steps, rejects, { sourceKey: r.sourceKey, fieldPath: r.path, reason: r.reason, document: canonicalExtendedJson(source) }, r.uuid);
  }
}

/** Whether a child row of the collection can refer to a document of the collection itself (`products.related[]` → products). */
export function childRowsReferToItself(collection: MappedCollection): boolean {
  return collection.children.some((child) => child.columns.some((c) => c.source.kind === 'reference' && c.source.targetCollection === collection.name));
}

/**
 * The UUIDs that child rows of this batch reference in the collection itself, whose rows do not
 * exist yet (not written, not in this batch) but whose documents are in the source: a later
 * batch or another range writes them. One source query per batch, for collections that have
 * such references only.
 */
async function laterSelfReferences(
  collection: MappedCollection,
  converted: ConvertedBatch['converted'],
  exists: (target: string, uuid: string) => boolean,
  references: ReferenceIndex,
  source: Db,
): Promise<Set<string> | undefined> {
  if (!childRowsReferToItself(collection)) return undefined;
  const wanted = new Map<string, PendingReference>();
  for (const { doc } of converted) {
    for (const ref of doc.references) {
      if (ref.row === 0 || ref.targetCollection !== collection.name || ref.uuid === '' || ref.key !== undefined) continue;
      if (!wanted.has(ref.uuid) && !exists(ref.targetCollection, ref.uuid)) wanted.set(ref.uuid, ref);
    }
  }
  return wanted.size === 0 ? undefined : references.laterInSource(source, collection.name, [...wanted.values()]);
}

/**
 * A child row whose reference into the collection itself names a document written later in
 * this run: the row is held back (the foreign key would refuse it now) and the document
 * recorded, once per child field, in deferred_refs (under the field's label, `related[].relatedId`,
 * which no Prisma field name can be); completeHeldChildRows writes it whole.
 */
function holdChildRow(doc: ConvertedDocument, ref: PendingReference, later: Set<string> | undefined, held: Set<number>, deferred: BatchDocument['deferred']): boolean {
  // Only a document whose `_id` a query finds again can be completed later (not a date or binary `_id`).
  if (!later?.has(ref.uuid) || ref.row === 0 || !idOfSourceKey(doc.sourceKey)) return false;
  held.add(ref.row);
  const field = ref.mapped.label;
  if (!deferred.some((d) => d.field === field)) deferred.push({ rowUuid: doc.uuid, field, targetCollection: ref.targetCollection, targetUuid: ref.uuid, sourceText: ref.sourceText });
  return true;
}

/** Drops the held-back rows from a settled document (its references are settled: none refers to a row index any more). */
function withoutRows(doc: ConvertedDocument, held: ReadonlySet<number>): void {
  doc.rows = doc.rows.filter((_, i) => !held.has(i));
  doc.references = [];
}

/** A reference of a foreign-key cycle's optional side: NULL now, written by the second pass. Reported when its target is missing. */
function deferToSecondPass(doc: ConvertedDocument, ref: PendingReference, deferred: BatchDocument['deferred'], steps: SettleSteps): boolean {
  const src = ref.mapped.source;
  if (src.kind !== 'reference' || !src.deferred || ref.row !== 0) return false;
  deferred.push({ rowUuid: doc.uuid, field: ref.mapped.column.field, targetCollection: ref.targetCollection, targetUuid: ref.uuid, sourceText: ref.sourceText });
  if (steps.observer?.orphan && !steps.references.exists(ref.targetCollection, ref.uuid)) steps.observer.orphan(doc, ref, true);
  return true;
}

/** Sets a document aside: recorded, observed, and (in a prediction) references to it dangle from now on. */
export function reject(collection: MappedCollection, steps: Pick<SettleSteps, 'references' | 'observer'>, into: RejectRecord[], record: RejectRecord, uuid: string | undefined): void {
  into.push(record);
  steps.references.markRejected(collection.name, uuid);
  steps.observer?.rejected?.(record);
}
