/**
 * Cooperative slicing of CPU work: a batch decoded or converted beside another batch's write
 * gives the event loop back every few milliseconds, so the write's next statement goes to
 * PostgreSQL (and PostgreSQL works on it) while Node goes on with the next slice.
 *
 * By time, not by a count of documents: a slice of 250 documents held the event loop for
 * about 75 ms on a machine converting 3,000 documents a second, and every statement of the
 * write in flight (a batch has about ten) waited for the slice to end before going out.
 */

/** Documents decoded or converted between two looks at the clock. */
export const SLICE_DOCS = 16;

/** Milliseconds of CPU work after which the event loop is given back. */
export const SLICE_MS = 4;

/** Lets pending I/O callbacks run before the caller's next slice of CPU work. */
export const yieldToIo = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The clock of one sliced piece of work: `due()` once the current slice has run SLICE_MS; then `next()`. */
export class Slices {
  private started = performance.now();

  due(): boolean {
    return performance.now() - this.started >= SLICE_MS;
  }

  /** Gives the event loop back; the next slice starts when it returns. */
  async next(): Promise<void> {
    await yieldToIo();
    this.started = performance.now();
  }
}
