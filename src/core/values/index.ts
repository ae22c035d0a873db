/** Exact conversion of one source value into one target column kind. Pure, no I/O. */
export { type Conversion, ok, fail, bsonTypeOf, isObjectIdLike, isDate, kindOf, show } from './conversion.js';
export {
  type DecimalParts,
  parseDecimalLiteral,
  parseNumericString,
  formatDecimal,
  precisionProblem,
  numberParts,
} from './decimal-text.js';
export { type DecimalOptions, toDecimal, toInt32, toBigInt, toFloat8 } from './numeric.js';
export { type TimestampOptions, toTimestamp, MIN_TIMESTAMP_MS, MAX_TIMESTAMP_MS } from './timestamp.js';
export { type TextOptions, toText, toTextArray, toBoolean, toEnum, codePointLength } from './text.js';
export { type JsonOptions, toJson, formatJsonPath, DEFAULT_JSON_MAX_DEPTH } from './json.js';
