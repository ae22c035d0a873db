/**
 * Structural validation of a loaded configuration object: unknown keys, wrong types, bad
 * numbers. Pure; every problem is collected with its path so the operator fixes them all
 * in one go.
 */
import type { ConfigIssue } from '../core/errors.js';

type Shape = Record<string, (value: unknown, path: string, issues: ConfigIssue[]) => void>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function positiveInt(max: number) {
  return (v: unknown, path: string, issues: ConfigIssue[]) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      issues.push({ path, message: `must be an integer from 1 to ${max}, got ${JSON.stringify(v)}` });
    }
  };
}
function nonNegativeInt(v: unknown, path: string, issues: ConfigIssue[]) {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) issues.push({ path, message: `must be an integer ≥ 0, got ${JSON.stringify(v)}` });
}
function nonEmptyString(v: unknown, path: string, issues: ConfigIssue[]) {
  if (typeof v !== 'string' || v.length === 0) issues.push({ path, message: `must be a non-empty string, got ${JSON.stringify(v)}` });
}
function oneOf(values: readonly string[]) {
  return (v: unknown, path: string, issues: ConfigIssue[]) => {
    if (typeof v !== 'string' || !values.includes(v)) issues.push({ path, message: `must be one of ${values.map((x) => `'${x}'`).join(', ')}, got ${JSON.stringify(v)}` });
  };
}
function func(v: unknown, path: string, issues: ConfigIssue[]) {
  if (typeof v !== 'function') issues.push({ path, message: 'must be a function' });
}
function stringList(v: unknown, path: string, issues: ConfigIssue[]) {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0)) issues.push({ path, message: 'must be a list of non-empty strings' });
}

function checkShape(value: unknown, shape: Shape, path: string, issues: ConfigIssue[]): void {
  if (!isObject(value)) {
    issues.push({ path: path || '(config)', message: `must be an object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}` });
    return;
  }
  for (const key of Object.keys(value)) {
    const check = Object.hasOwn(shape, key) ? shape[key] : undefined;
    const keyPath = path ? `${path}.${key}` : key;
    if (!check) {
      issues.push({ path: keyPath, message: `unknown setting; expected one of: ${Object.keys(shape).join(', ')}` });
      continue;
    }
    const v = value[key];
    if (v !== undefined) check(v, keyPath, issues);
  }
}

function record(inner: (v: unknown, path: string, issues: ConfigIssue[]) => void) {
  return (v: unknown, path: string, issues: ConfigIssue[]) => {
    if (!isObject(v)) {
      issues.push({ path, message: 'must be an object' });
      return;
    }
    for (const key of Object.keys(v)) inner(v[key], `${path}.${key}`, issues);
  };
}

const fieldMappingShape: Shape = {
  from: nonEmptyString,
  transform: func,
  references: nonEmptyString,
  by: nonEmptyString,
  duplicateKeys: oneOf(['unresolved']),
  onMissingReference: oneOf(['null', 'reject', 'keep']),
  onInvalid: oneOf(['reject', 'extra']),
  assumeTimeZone: oneOf(['UTC']),
  epoch: oneOf(['seconds', 'milliseconds']),
  nul: oneOf(['reject', 'replace']),
};

function fieldSetting(v: unknown, path: string, issues: ConfigIssue[]) {
  if (v === false) return;
  if (typeof v === 'string') return nonEmptyString(v, path, issues);
  checkShape(v, fieldMappingShape, path, issues);
  if (isObject(v) && v.by !== undefined && v.references === undefined) {
    issues.push({ path: `${path}.by`, message: 'needs "references": the collection whose documents hold that field' });
  }
  if (isObject(v) && v.duplicateKeys !== undefined && v.by === undefined) {
    issues.push({ path: `${path}.duplicateKeys`, message: 'applies to "by" (a reference by a business key): add "by", or remove it' });
  }
}

const childShape: Shape = {
  model: nonEmptyString,
  from: (v, path, issues) => (typeof v === 'function' ? undefined : nonEmptyString(v, path, issues)),
  consumes: stringList,
  fields: record(fieldSetting),
  positionField: nonEmptyString,
  parentField: nonEmptyString,
  valueField: nonEmptyString,
};

const collectionShape: Shape = {
  model: nonEmptyString,
  prepare: func,
  fields: record(fieldSetting),
  children: (v, path, issues) => {
    if (!Array.isArray(v)) return void issues.push({ path, message: 'must be a list of child mappings' });
    v.forEach((child, i) => {
      checkShape(child, childShape, `${path}[${i}]`, issues);
      if (isObject(child) && (child.model === undefined || child.from === undefined)) {
        issues.push({ path: `${path}[${i}]`, message: 'needs both "model" and "from"' });
      }
    });
  },
  extraField: (v, path, issues) => (v === false ? undefined : nonEmptyString(v, path, issues)),
  ignore: stringList,
  updatedAtField: nonEmptyString,
  batchSize: positiveInt(100_000),
  onConflict: oneOf(['skip', 'overwrite']),
  onSourceDelete: (v, path, issues) => (v === 'delete' ? undefined : checkShape(v, { mark: nonEmptyString }, path, issues)),
};

/** `lockTimeout`: milliseconds (an integer ≥ 0) or a duration such as '30s', '2m', '500ms'. */
function lockTimeoutSetting(v: unknown, path: string, issues: ConfigIssue[]) {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return;
  if (typeof v === 'string' && /^\s*\d+(?:\.\d+)?\s*(ms|s|m|h)?\s*$/.test(v)) return;
  issues.push({ path, message: "must be a duration such as '30s', '2m' or '500ms', or milliseconds (0: wait without limit)" });
}

const configShape: Shape = {
  schema: nonEmptyString,
  collections: record((v, path, issues) => checkShape(v, collectionShape, path, issues)),
  batchSize: positiveInt(100_000),
  concurrency: positiveInt(64),
  maxRejects: nonNegativeInt,
  lockTimeout: lockTimeoutSetting,
};

/** Every structural problem of a configuration object (empty when it is well-formed). */
export function validateConfigShape(config: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  checkShape(config, configShape, '', issues);
  return issues;
}
