/**
 * What the reference index knows of referenced rows, by UUID, kept compact. A JavaScript Map
 * keyed by UUID strings costs about 86 bytes an entry (the 36-character string and the map's
 * slot); at 1,000,000 fixture orders the index knew 250,000 clients, and the strings were a
 * third of verify's live heap (heap snapshot: 284,000 strings, 24 MB, and 13 MB of map
 * arrays). Here a canonical UUID (lowercase hex, as every UUID the tool makes and PostgreSQL
 * prints) is 16 bytes in an open-addressing table, plus one byte for what is known of it; any
 * other key (a `<field>=<text>` key, an uppercase UUID) goes to an ordinary Map, so a key is
 * only ever equal to the very same text.
 */

export type Found = 'target' | 'source' | 'missing';

const FOUND: readonly Found[] = ['target', 'source', 'missing'];
const codeOf = (f: Found): number => FOUND.indexOf(f) + 1;

/** The four 32-bit words of the last key parsed, shared by every table: parsing and probing never await in between. */
const parsed = new Uint32Array(4);

/** Hex digit values by character code (lowercase only); -1 for anything else. */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i;

/** Four hex digits of `s` from `at` as a number, or -1. */
function hex4(s: string, at: number): number {
  let w = 0;
  for (let i = at; i < at + 4; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? (HEX[c] as number) : -1;
    if (v < 0) return -1;
    w = (w << 4) | v;
  }
  return w;
}

/** Where the eight groups of four hex digits of a canonical UUID text start (8-4-4-4-12). */
const GROUPS = [0, 4, 9, 14, 19, 24, 28, 32] as const;

/** Parses a canonical UUID text (8-4-4-4-12 lowercase hex) into `parsed`; false for anything else. */
function parseCanonicalUuid(s: string): boolean {
  if (s.length !== 36 || s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) return false;
  for (let k = 0; k < 4; k++) {
    const hi = hex4(s, GROUPS[2 * k] as number);
    const lo = hex4(s, GROUPS[2 * k + 1] as number);
    if (hi < 0 || lo < 0) return false;
    parsed[k] = ((hi << 16) | lo) >>> 0;
  }
  return true;
}

/** A slot for `parsed`: UUIDs made from ObjectIds begin with a timestamp, so every word is mixed in. */
function hashParsed(): number {
  let h = Math.imul((parsed[0] as number) ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (parsed[1] as number) ^ (h >>> 15), 0xc2b2ae35);
  h = Math.imul(h ^ (parsed[2] as number) ^ (h >>> 13), 0x85ebca6b);
  h = Math.imul(h ^ (parsed[3] as number) ^ (h >>> 16), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class KnownIds {
  /** Four words per slot. */
  private words: Uint32Array;
  /** Per slot: 0 empty, else the index in FOUND plus one. */
  private codes: Uint8Array;
  private filled = 0;
  private readonly others = new Map<string, Found>();

  constructor(initialSlots = 1024) {
    let slots = 16;
    while (slots < initialSlots) slots *= 2;
    this.words = new Uint32Array(slots * 4);
    this.codes = new Uint8Array(slots);
  }

  get size(): number {
    return this.filled + this.others.size;
  }

  get(key: string): Found | undefined {
    if (!parseCanonicalUuid(key)) return this.others.get(key);
    const code = this.codes[this.slotOfParsed()] as number;
    return code === 0 ? undefined : FOUND[code - 1];
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, found: Found): this {
    if (!parseCanonicalUuid(key)) {
      this.others.set(key, found);
      return this;
    }
    const slot = this.slotOfParsed();
    if (this.codes[slot] === 0) {
      this.words.set(parsed, slot * 4);
      this.filled++;
    }
    this.codes[slot] = codeOf(found);
    // At most half full: probes stay short.
    if (this.filled * 2 > this.codes.length) this.grow();
    return this;
  }

  /** The slot holding `parsed`, or the empty slot where it would go (linear probing). */
  private slotOfParsed(): number {
    const mask = this.codes.length - 1;
    const w = this.words;
    const a = parsed[0];
    const b = parsed[1];
    const c = parsed[2];
    const d = parsed[3];
    let slot = hashParsed() & mask;
    for (;;) {
      if (this.codes[slot] === 0) return slot;
      const j = slot * 4;
      if (w[j] === a && w[j + 1] === b && w[j + 2] === c && w[j + 3] === d) return slot;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const oldWords = this.words;
    const oldCodes = this.codes;
    this.words = new Uint32Array(oldWords.length * 2);
    this.codes = new Uint8Array(oldCodes.length * 2);
    for (let i = 0; i < oldCodes.length; i++) {
      if (oldCodes[i] === 0) continue;
      parsed.set(oldWords.subarray(i * 4, i * 4 + 4));
      const slot = this.slotOfParsed();
      this.words.set(parsed, slot * 4);
      this.codes[slot] = oldCodes[i] as number;
    }
  }
}
