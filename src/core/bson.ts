/**
 * The BSON library, as the MongoDB driver loads it (CommonJS). Imported as an ES module, `bson`
 * is a second instance of the same package beside the driver's, with its own 17 MB
 * serialization buffer (measured: 34 MB of ArrayBuffers for both against 17 for one).
 */
import { createRequire } from 'node:module';
import type * as Bson from 'bson';

const bson = createRequire(import.meta.url)('bson') as typeof Bson;

export const EJSON = bson.EJSON;
export const BSON = bson.BSON;
