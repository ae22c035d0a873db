/**
 * The draft init writes: models with their fields, child models, relations, and the
 * reasons for each choice. Built by draft-model.ts and draft-relations.ts, rendered by
 * render-schema.ts and render-config.ts.
 */
import type { DraftType } from './draft-types.js';

export interface DraftRelation {
  /** The referenced model and the collection holding its documents. */
  targetModel: string;
  targetCollection: string;
  /** The referenced unique field when the key is a business key (an e-mail, an account number); undefined for the id. */
  toField?: string;
  /** Share of values found among the referenced keys. */
  rate: number;
  /** Relation field on this model (`client`), relation name, back-relation field on the target (`orders`). */
  field: string;
  name: string;
  backField: string;
  /** The child's relation to its parent: rows go with it. */
  cascade?: boolean;
}

export interface DraftField {
  name: string;
  column: string;
  /** Dotted source path relative to the document or array element; '' for fields with no source (id, parent, position, extra). */
  source: string;
  type: DraftType;
  list: boolean;
  required: boolean;
  unique: boolean;
  /** The histogram path of its values (`items[].productId`, `genres[]`), for reference detection. */
  profilePath: string;
  /** Values the type cannot take: kept in legacyExtra by `onInvalid: 'extra'`. */
  invalid: number;
  assumeTimeZone?: 'UTC';
  epoch?: 'seconds';
  relation?: DraftRelation;
  role?: 'id' | 'parent' | 'position' | 'extra';
  /** Why: the comment above the field. */
  why: string[];
}

export interface DraftModel {
  name: string;
  table: string;
  /** The collection it is drafted from (top-level models) or the array path (child models). */
  collection: string;
  documents: number;
  fields: DraftField[];
  children: DraftChild[];
  /** Source fields left to legacyExtra, with why. */
  leftInExtra: string[];
  comment: string[];
  /** Uniqueness of (parent, position) for child models. */
  uniques: string[][];
  /** The collection's `_id` is not an ObjectId: its original value is kept in this field. */
  isChild: boolean;
}

export interface DraftChild {
  model: DraftModel;
  /** Source array path in the parent document. */
  from: string;
  /** For an array of plain values: the field each value goes to. */
  valueField?: string;
}

export interface Draft {
  models: DraftModel[];
  enums: Map<string, string[]>;
  /** Relations not drafted (match rate below the threshold), for the summary. */
  notRelations: string[];
  /** What the Mongoose models declared, confirmed or contradicted by the data (`--models`). */
  declarations: string[];
}

/** Every model, top-level ones first, then their children. */
export function allModels(draft: Draft): DraftModel[] {
  return draft.models.flatMap((m) => [m, ...m.children.map((c) => c.model)]);
}
