/**
 * Label values of the hybrid-mode metrics. Only names chosen by the application's code ever
 * become a label — a collection, a Prisma model, a command or operation name, an error's code
 * — never a value of a query, a document, an error message or a connection string, and each
 * is bounded so that a label cannot carry anything long.
 */

/** A label that does not fit the rules below. */
export const INVALID_LABEL = '_invalid';

const MAX_LABEL_LENGTH = 100;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const CODE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** A name as a label value: a string of at most 100 characters without control characters. */
export function nameLabel(name: unknown): string {
  if (name === undefined || name === null) return '';
  if (typeof name !== 'string' || name.length > MAX_LABEL_LENGTH || CONTROL.test(name)) return INVALID_LABEL;
  return name;
}

/** An identifier-like code (`P2002`, `DuplicateKey`, `MongoNetworkError`), or undefined. */
export function codeLabel(code: unknown): string | undefined {
  return typeof code === 'string' && CODE.test(code) ? code : undefined;
}

/**
 * The `code` label of a failed request: the error's own code when it is an identifier (a
 * Prisma `P2002`, a MongoDB `codeName`), else its class name (`PrismaClientValidationError`,
 * `MongoNetworkError`), else `unknown`. Never the message: it quotes the values.
 */
export function errorCodeLabel(err: unknown): string {
  const e = err as { code?: unknown; codeName?: unknown; name?: unknown } | null | undefined;
  return codeLabel(e?.codeName) ?? codeLabel(e?.code) ?? codeLabel(e?.name) ?? 'unknown';
}
