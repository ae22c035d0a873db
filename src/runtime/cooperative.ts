/**
 * Cooperative slicing of CPU work: a batch decoded or converted beside another batch's write
 * gives the event loop back every SLICE_DOCS documents, so the write's next statement goes to
 * PostgreSQL (and PostgreSQL works on it) while Node goes on with the next slice.
 */

/** Documents decoded or converted between two turns of the event loop. */
export const SLICE_DOCS = 250;

/** Lets pending I/O callbacks run before the caller's next slice of CPU work. */
export const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
