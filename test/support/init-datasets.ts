/**
 * A small data set from other domains than the customer's, shaped like MongoDB's public
 * samples: movies with comments referencing users by e-mail, bank customers holding arrays of
 * numeric account numbers, transactions by account number, sales with line items, nested
 * objects and free-form ones, documents without updatedAt. Deterministic.
 */
import { ObjectId, type Db } from 'mongodb';

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length] as T;
const oid = (n: number) => new ObjectId((0x5a000000 + n).toString(16).padStart(8, '0') + 'a1b2c3d4e5f6'.slice(0, 16).padEnd(16, '0'));

export async function loadOtherDomains(db: Db): Promise<void> {
  const users = Array.from({ length: 12 }, (_, i) => ({ _id: oid(i), name: `User ${i}`, email: `user${i}@example.org`, password: `$2b$12$hash${i}` }));
  const movies = Array.from({ length: 20 }, (_, i) => ({
    _id: oid(100 + i),
    title: `Movie ${i}`,
    year: 1990 + i,
    genres: [pick(['Drama', 'Comedy', 'Short'], i), ...(i % 2 ? ['Action'] : [])],
    imdb: { rating: 5 + (i % 40) / 10 + 0.05, votes: 1000 + i * 37, id: 10000 + i },
    released: new Date(Date.UTC(1990 + i, i % 12, 1)),
    ...(i % 3 ? { runtime: 80 + i } : {}),
    cast: [`Actor ${i}`, `Actor ${i + 1}`],
  }));
  const comments = Array.from({ length: 60 }, (_, i) => ({
    _id: oid(200 + i),
    name: `User ${i % 12}`,
    // One comment by an e-mail no user has: an orphan, kept (not a reject).
    email: i === 59 ? 'ghost@example.org' : `user${i % 12}@example.org`,
    movie_id: oid(100 + (i % 20)),
    text: `Comment ${i}`,
    date: new Date(Date.UTC(2010, 0, 1 + i)),
  }));
  const accounts = Array.from({ length: 15 }, (_, i) => ({ _id: oid(300 + i), account_id: 371138 + i * 1111, limit: 10000, products: ['Brokerage', pick(['InvestmentStock', 'Commodity', 'CurrencyService'], i)] }));
  const customers = Array.from({ length: 10 }, (_, i) => ({
    _id: oid(400 + i),
    username: `cust${i}`,
    name: `Customer ${i}`,
    email: `cust${i}@example.com`,
    birthdate: new Date(Date.UTC(1970 + i, 3, 2)),
    accounts: [371138 + i * 1111, 371138 + ((i + 3) % 15) * 1111],
    // Keys are ids: a free-form object, kept as JSON.
    tier_and_details: { [`k${i}a`]: { tier: 'Gold', benefits: ['sports tickets'], active: true }, [`k${i}b`]: { tier: 'Bronze', benefits: [], active: i % 2 === 0 } },
  }));
  const transactions = Array.from({ length: 15 }, (_, i) => ({
    _id: oid(500 + i),
    account_id: 371138 + i * 1111,
    transaction_count: 2,
    bucket_start_date: new Date(Date.UTC(1969, 1, 4)),
    transactions: [0, 1].map((k) => ({ date: new Date(Date.UTC(2003, k, 1 + i)), amount: 1000 + k * i, transaction_code: k ? 'sell' : 'buy', symbol: pick(['amzn', 'msft', 'nvda'], i + k), price: `${12 + i}.${k}4567`, total: `${1234 + i}.${k}5` })),
  }));
  const sales = Array.from({ length: 60 }, (_, i) => ({
    _id: oid(600 + i),
    saleDate: new Date(Date.UTC(2015, i % 12, 1 + (i % 27), 10, 30)),
    items: Array.from({ length: 1 + (i % 3) }, (_, k) => ({ name: pick(['printer paper', 'notepad', 'pens', 'envelopes'], i + k), tags: ['office', pick(['school', 'general'], k)], price: 10 + ((i * 7 + k) % 90) + 0.25 * (k % 4), quantity: 1 + ((i + k) % 9) })),
    storeLocation: pick(['Denver', 'Seattle', 'London', 'Austin'], i),
    customer: { gender: pick(['M', 'F'], i), age: 20 + (i % 50), email: `buyer${i}@example.net`, satisfaction: 1 + (i % 5) },
    couponUsed: i % 3 === 0,
    purchaseMethod: pick(['Online', 'Phone', 'InStore'], i),
  }));
  await db.collection('users').insertMany(users);
  await db.collection('movies').insertMany(movies);
  await db.collection('comments').insertMany(comments);
  await db.collection('accounts').insertMany(accounts);
  await db.collection('customers').insertMany(customers);
  await db.collection('transactions').insertMany(transactions);
  await db.collection('sales').insertMany(sales);
}

/**
 * Shapes that trip naive drafting: string and numeric `_id`s referenced by other collections,
 * a self-reference, arrays of ObjectId references, a collection named like another's child
 * table, source keys named `id` and `position`, a field whose type varies, a value no type
 * takes, a collection with no documents.
 */
export async function loadAwkwardShapes(db: Db): Promise<void> {
  const categories = Array.from({ length: 6 }, (_, i) => ({ _id: `cat-${i}`, label: `Category ${i}`, ...(i > 0 ? { parent: `cat-${i - 1}` } : {}) }));
  const tags = Array.from({ length: 8 }, (_, i) => ({ _id: oid(700 + i), word: `tag${i}` }));
  const shops = Array.from({ length: 5 }, (_, i) => ({ _id: 1000 + i, city: pick(['Lyon', 'Dakar'], i) }));
  const orders = Array.from({ length: 30 }, (_, i) => ({
    _id: oid(800 + i),
    id: `legacy-${i}`,
    shop_id: 1000 + (i % 5),
    category: `cat-${i % 6}`,
    tagIds: [oid(700 + (i % 8)), oid(700 + ((i + 1) % 8))],
    // A number in most documents, a word in one: stays Int, the word goes to legacyExtra.
    quantity: i === 4 ? 'a few' : 1 + (i % 4),
    // Varies between a number, a string and an object: JSON.
    meta: i % 3 === 0 ? 5 : i % 3 === 1 ? 'x' : { k: i },
    items: Array.from({ length: 1 + (i % 2) }, (_, k) => ({ position: k + 1, sku: `S${k}`, options: [{ size: 'M' }] })),
  }));
  const orderItems = Array.from({ length: 5 }, (_, i) => ({ _id: oid(900 + i), note: `separate collection ${i}` }));
  await db.collection<{ _id: string }>('categories').insertMany(categories);
  await db.collection('tags').insertMany(tags);
  await db.collection<{ _id: number }>('shops').insertMany(shops);
  await db.collection('orders').insertMany(orders);
  await db.collection('order_items').insertMany(orderItems);
  await db.createCollection('empty_things');
}

/** Mongoose model files for the other-domain data set, as an application would have them (CommonJS), some declarations right and some wrong. */
export const OTHER_DOMAIN_MODELS: Record<string, string> = {
  'Comment.js': `const mongoose = require('mongoose');
const commentSchema = new mongoose.Schema({
  name: { type: String, required: true },
  email: { type: String, required: true },
  movie_id: { type: mongoose.Schema.Types.ObjectId, ref: 'Movie' },
  text: String,
  date: Date,
  // Declared, but no document has it yet.
  rating: Number,
  reviewer: { type: mongoose.Schema.Types.ObjectId, ref: 'Critic' },
});
module.exports = mongoose.model('Comment', commentSchema);
`,
  'Sale.js': `const mongoose = require('mongoose');
const saleSchema = new mongoose.Schema({
  saleDate: Date,
  storeLocation: String,
  // The data also holds 'InStore': contradicted.
  purchaseMethod: { type: String, enum: ['Online', 'Phone'] },
  // The data holds booleans: contradicted.
  couponUsed: Number,
  items: [{ name: String, price: Number, quantity: Number, tags: [String] }],
}, { timestamps: true });
module.exports = mongoose.model('Sale', saleSchema);
`,
  'Movie.js': `const mongoose = require('mongoose');
// The application connects when this file is loaded (init has MONGO_URI set): init must not.
mongoose.connect(process.env.MONGO_URI).then((m) => {
  if (m.connection.readyState === 1) require('fs').writeFileSync(require('path').join(__dirname, 'CONNECTED'), 'the model file connected');
});
module.exports = mongoose.model('Movie', new mongoose.Schema({ title: { type: String, required: true }, year: Number, genres: [String] }));
`,
  'Critic.js': `const mongoose = require('mongoose');
module.exports = mongoose.model('Critic', new mongoose.Schema({ name: String }));
`,
};
