/**
 * The application's Mongoose models as a second source for init (`--models <dir|glob>`):
 * each model file is loaded with `mongoose` resolved to this package's own instance, whose
 * connect functions are disabled first, so loading a model declares its schema and can
 * neither connect to anything nor start the application's server through mongoose.
 * What each schema declares per path: type, ref, required, unique, enum, default, timestamps.
 */
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createJiti } from 'jiti';
import mongoose from 'mongoose';
import { ConfigError } from '../../core/errors.js';

export interface DeclaredPath {
  /** Mongoose's type name: String, Number, Date, Boolean, ObjectId, Decimal128, Array, Mixed… */
  type: string;
  /** For arrays: the element's type (`ObjectId`, `String`, or `Subdocument` for arrays of records). */
  elementType?: string;
  ref?: string;
  required: boolean;
  unique: boolean;
  enum?: string[];
  hasDefault: boolean;
}

export interface ModelDeclaration {
  model: string;
  collection: string;
  file: string;
  timestamps: boolean;
  paths: Map<string, DeclaredPath>;
}

const MODEL_FILE = /\.(c|m)?(j|t)s$/;

/** The model files a `--models` argument names: a directory (its .js/.cjs/.mjs/.ts files, not in node_modules) or a `dir/*.js` pattern. */
export function modelFiles(arg: string): string[] {
  const star = arg.includes('*');
  const dir = resolve(star ? dirname(arg) : arg);
  const pattern = star ? new RegExp(`^${basename(arg).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`) : MODEL_FILE;
  let names: string[];
  try {
    names = statSync(dir).isDirectory() ? readdirSync(dir) : [];
  } catch {
    names = [];
  }
  const files = names.filter((n) => pattern.test(n) && MODEL_FILE.test(n) && !n.endsWith('.d.ts') && !/\.test\./.test(n)).map((n) => join(dir, n)).sort();
  if (files.length === 0) throw new ConfigError([{ path: '--models', message: `no model file (.js, .cjs, .mjs, .ts) found at "${arg}"` }], { hint: 'Pass the directory holding the Mongoose models (e.g. --models models) or a pattern (--models "src/models/*.js").' });
  return files;
}

/** Loads the files and returns every model they declared on mongoose. */
export async function loadModelDeclarations(files: readonly string[]): Promise<ModelDeclaration[]> {
  disableConnections();
  const mongoosePath = createRequire(import.meta.url).resolve('mongoose');
  const before = new Set(mongoose.modelNames());
  const fileOf = new Map<string, string>();
  for (const file of files) {
    const jiti = createJiti(pathToFileURL(file).href, { moduleCache: false, fsCache: false, interopDefault: true, alias: { mongoose: mongoosePath } });
    try {
      await jiti.import(file);
    } catch (cause) {
      throw new ConfigError([{ path: file, message: `cannot load the model file: ${(cause as Error).message?.split('\n')[0] ?? String(cause)}` }], { cause, hint: 'A model file must load on its own (its imports resolvable from its folder); init never connects or starts the application.' });
    }
    for (const name of mongoose.modelNames()) if (!before.has(name) && !fileOf.has(name)) fileOf.set(name, file);
  }
  return [...fileOf].map(([name, file]) => declarationOf(mongoose.model(name) as unknown as ModelLike, file));
}

/** Mongoose's own connect functions do nothing while models load: a model file that connects at import connects nowhere. */
function disableConnections(): void {
  const noop = (() => Promise.resolve(mongoose)) as unknown as typeof mongoose.connect;
  mongoose.connect = noop;
  mongoose.createConnection = ((..._args: unknown[]) => mongoose.connection) as unknown as typeof mongoose.createConnection;
}

interface SchemaTypeLike {
  instance: string;
  options: { ref?: unknown; unique?: unknown; default?: unknown };
  isRequired?: boolean;
  enumValues?: unknown[];
  embeddedSchemaType?: { instance: string; options?: { ref?: unknown } };
  schema?: unknown;
}

interface ModelLike {
  modelName: string;
  collection: { collectionName: string };
  schema: { paths: Record<string, unknown>; get(key: string): unknown };
}

function declarationOf(model: ModelLike, file: string): ModelDeclaration {
  const schema = model.schema;
  const paths = new Map<string, DeclaredPath>();
  for (const [path, raw] of Object.entries(schema.paths)) {
    const t = raw as unknown as SchemaTypeLike;
    const element = t.schema ? 'Subdocument' : t.embeddedSchemaType?.instance;
    const ref = typeof t.options.ref === 'string' ? t.options.ref : typeof t.embeddedSchemaType?.options?.ref === 'string' ? t.embeddedSchemaType.options.ref : undefined;
    const declared: DeclaredPath = { type: t.instance, required: Boolean(t.isRequired), unique: Boolean(t.options.unique), hasDefault: t.options.default !== undefined };
    if (element) declared.elementType = element;
    if (ref) declared.ref = ref;
    if (Array.isArray(t.enumValues) && t.enumValues.length > 0) declared.enum = t.enumValues.map(String);
    paths.set(path, declared);
  }
  return { model: model.modelName, collection: model.collection.collectionName, file, timestamps: Boolean(schema.get('timestamps')), paths };
}
