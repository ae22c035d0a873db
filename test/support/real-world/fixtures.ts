/**
 * Deterministic fixtures for the second data model (schema.prisma beside this file), shaped
 * like MongoDB's public sample data sets as a user from another domain would bring them:
 * sample_mflix (movies with genre lists and keyword arrays, users, comments that name their
 * user by e-mail, theaters with GeoJSON coordinates) and sample_analytics (accounts with a
 * numeric account_id, customers holding arrays of those numbers and a tier map, transaction
 * buckets per account number). Like the originals, no collection maintains an `updatedAt`
 * except `accounts` (which does, so both kinds are present); movies carry sample_mflix's
 * `lastupdated` as a string.
 *
 * Same scale and seed: identical documents, ids included.
 */
import { ObjectId, type Db } from 'mongodb';
import { Rng } from '../../../dev/fixtures/prng.js';

export interface RealWorldOptions {
  /** Movies; the other collections scale from it (default 50). */
  scale?: number;
  seed?: number;
}

export interface RealWorldCounts {
  theaters: number;
  users: number;
  movies: number;
  comments: number;
  accounts: number;
  customers: number;
  transactions: number;
}

const GENRES = ['Drama', 'Comedy', 'Short', 'Western', 'Romance', 'Crime', 'Documentary', 'Animation'];
const WORDS = ['smith', 'anvil', 'train', 'robbery', 'sheriff', 'harbor', 'storm', 'letter', 'garden', 'mirror'];
const FIRST = ['Ned', 'Robert', 'Arya', 'Sansa', 'Jon', 'Catelyn', 'Theon', 'Brienne', 'Davos', 'Missandei'];
const LAST = ['Stark', 'Baratheon', 'Snow', 'Greyjoy', 'Tarth', 'Seaworth', 'Lannister', 'Tyrell'];
const TIERS = ['Bronze', 'Silver', 'Gold', 'Platinum'];
const PRODUCTS = ['Derivatives', 'InvestmentStock', 'Commodity', 'CurrencyService', 'Brokerage', 'InvestmentFund'];

/** An ObjectId whose timestamp and counter come from the generator: deterministic. */
function objectId(rand: () => number, base: number, i: number): ObjectId {
  const hex = (base + i).toString(16).padStart(8, '0') + Math.floor(rand() * 0xffffffff).toString(16).padStart(8, '0') + i.toString(16).padStart(8, '0');
  return new ObjectId(hex);
}

export function countsFor(scale: number): RealWorldCounts {
  return { theaters: Math.max(2, Math.round(scale / 5)), users: Math.max(2, Math.round(scale / 2)), movies: scale, comments: scale * 2, accounts: scale, customers: Math.max(1, Math.round(scale / 2)), transactions: scale };
}

/** Writes the seven collections (which must be empty or absent) and returns their sizes. */
export async function loadRealWorldFixtures(db: Db, opts: RealWorldOptions = {}): Promise<RealWorldCounts> {
  const scale = opts.scale ?? 50;
  const rng = new Rng(opts.seed ?? 42, 18, 0);
  const rand = () => rng.float();
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const n = countsFor(scale);
  const base = 0x5a000000;

  const theaters = Array.from({ length: n.theaters }, (_, i) => ({
    _id: objectId(rand, base, i),
    theaterId: 1000 + i,
    location: {
      address: { street1: `${100 + i} Main St`, city: pick(['Bloomington', 'Portland', 'Austin']), state: pick(['MN', 'OR', 'TX']), zipcode: String(55400 + i) },
      geo: { type: 'Point', coordinates: [Math.round((-120 + rand() * 50) * 1e5) / 1e5, Math.round((30 + rand() * 15) * 1e5) / 1e5] },
    },
  }));
  const users = Array.from({ length: n.users }, (_, i) => {
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    return { _id: objectId(rand, base + 0x100000, i), name, email: `${name.toLowerCase().replace(' ', '_')}.${i}@gameofthron.es`, password: `$2b$12$${Math.floor(rand() * 1e12).toString(36)}` };
  });
  const movies = Array.from({ length: n.movies }, (_, i) => ({
    _id: objectId(rand, base + 0x200000, i),
    title: `${pick(['The', 'A', 'Last', 'Blue'])} ${pick(WORDS)} ${i}`,
    year: 1900 + Math.floor(rand() * 120),
    genres: Array.from(new Set([pick(GENRES), pick(GENRES)])),
    keywords: Array.from({ length: Math.floor(rand() * 4) }, () => pick(WORDS)),
    imdb: { rating: Math.round(rand() * 90) / 10, votes: Math.floor(rand() * 50000), id: 1000 + i },
    lastupdated: `2015-0${1 + Math.floor(rand() * 9)}-1${Math.floor(rand() * 9)} 00:27:59.177000000`,
  }));
  const comments = Array.from({ length: n.comments }, (_, i) => {
    const user = pick(users);
    return { _id: objectId(rand, base + 0x300000, i), name: user.name, email: user.email, movie_id: pick(movies)._id, text: `${pick(WORDS)} ${pick(WORDS)} ${i}`, date: new Date(Date.UTC(2000, 0, 1) + Math.floor(rand() * 6e11)) };
  });
  const accounts = Array.from({ length: n.accounts }, (_, i) => ({
    _id: objectId(rand, base + 0x400000, i),
    account_id: 370000 + i * 7,
    limit: pick([3000, 5000, 9000, 10000]),
    products: Array.from(new Set([pick(PRODUCTS), pick(PRODUCTS)])),
    updatedAt: new Date(Date.UTC(2020, 0, 1) + i * 60_000),
  }));
  const customers = Array.from({ length: n.customers }, (_, i) => {
    const held = Array.from(new Set(Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(accounts).account_id)));
    const tiers = Object.fromEntries(Array.from({ length: 1 + Math.floor(rand() * 2) }, (_, k) => [`t${i}x${k}`, { tier: pick(TIERS), benefits: ['car rental'], active: rand() > 0.2 }]));
    return { _id: objectId(rand, base + 0x500000, i), username: `customer${i}`, name: `${pick(FIRST)} ${pick(LAST)}`, accounts: held, tier_and_details: tiers };
  });
  const transactions = Array.from({ length: n.transactions }, (_, i) => ({
    _id: objectId(rand, base + 0x600000, i),
    account_id: (accounts[i % accounts.length] as { account_id: number }).account_id,
    transaction_count: 1 + Math.floor(rand() * 100),
    bucket_start_date: new Date(Date.UTC(1970, 0, 1) + Math.floor(rand() * 1e12)),
  }));

  const all: [keyof RealWorldCounts, Record<string, unknown>[]][] = [
    ['theaters', theaters],
    ['users', users],
    ['movies', movies],
    ['comments', comments],
    ['accounts', accounts],
    ['customers', customers],
    ['transactions', transactions],
  ];
  for (const [name, docs] of all) if (docs.length > 0) await db.collection(name).insertMany(docs, { ordered: true });
  return n;
}

/**
 * The configuration a user of this model writes from the README (an .mjs module: `tierNames`
 * needs a function): references by e-mail, by a numeric key through a relation to a unique
 * column, arrays of scalars as a list (genres) and as child rows (keywords, account numbers),
 * array-index paths (coordinates).
 */
export function realWorldConfigSource(schemaPath: string): string {
  return `export default {
  schema: ${JSON.stringify(schemaPath)},
  collections: {
    theaters: { model: 'Theater', fields: { longitude: 'location.geo.coordinates.0', latitude: 'location.geo.coordinates.1' } },
    users: { model: 'User' },
    movies: { model: 'Movie', children: [{ model: 'Tag', from: 'keywords' }] },
    comments: { model: 'Comment', fields: { userId: { from: 'email', references: 'users', by: 'email' } } },
    accounts: { model: 'Account', fields: { accountId: 'account_id' } },
    customers: {
      model: 'Customer',
      fields: { tierNames: { from: 'tier_and_details', transform: (v) => (v && typeof v === 'object' ? Object.values(v).map((t) => t.tier) : undefined) } },
      children: [{ model: 'CustomerAccount', from: 'accounts' }],
    },
    transactions: { model: 'Transaction', fields: { accountNumber: 'account_id', amount: 'transaction_count' } },
  },
};
`;
}
