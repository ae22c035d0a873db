/**
 * A password that is also an ordinary word of the output (`orders`, a collection name) is
 * masked where it stands as a credential — in a URI, a userinfo, a password setting — and not
 * everywhere the word appears (the summary once showed the collection `orders` as `***`).
 * A password that could not be ordinary text stays masked wherever it appears, in every form.
 */
import { describe, expect, it } from 'vitest';
import { passwordsOf, redactText } from '../../src/core/redact.js';

const pg = (pw: string) => `postgresql://app:${encodeURIComponent(pw)}@db.internal:5432/shop`;
const scrubWith = (pw: string) => {
  const secrets = passwordsOf([pg(pw)]);
  return (text: string) => redactText(text, secrets);
};

describe('a password that is a common word', () => {
  const scrub = scrubWith('orders');

  it('leaves the word alone where it is not a credential', () => {
    const summary = 'Migration 3f0c\n\ncollection  status  read\norders      done    300\n  orders.items[].unitPrice: 12';
    expect(scrub(summary)).toBe(summary);
    expect(scrub('{"collection":"orders","msg":"collection started"}')).toBe('{"collection":"orders","msg":"collection started"}');
  });

  it('masks it inside any URI, keeping user, host and database', () => {
    expect(scrub(`connecting to ${pg('orders')} for orders`)).toBe('connecting to postgresql://app:***@db.internal:5432/shop for orders');
    expect(scrub('{"url":"mongodb://app:orders@h1:27017,h2:27017/shop?replicaSet=rs0","collection":"orders"}')).toBe('{"url":"mongodb://***","collection":"orders"}');
    expect(scrub('dsn=postgres://app:orders@db/shop?sslmode=require; orders read')).toBe('dsn=postgres://app:***@db/shop orders read');
  });

  it.each([
    ['app:orders@db.internal:5432 refused', 'app:***@db.internal:5432 refused'],
    ['password=orders', 'password=***'],
    ['password: orders', 'password: ***'],
    ['{"user":"app","password":"orders"}', '{"user":"app","password":"***"}'],
    ["PGPASSWORD='orders' psql", "PGPASSWORD='***' psql"],
    ['auth failed for password orders (orders collection)', 'auth failed for password *** (orders collection)'],
    ['sslpassword=orders&x=1', 'sslpassword=***&x=1'],
    ['pwd orders', 'pwd ***'],
  ])('masks it as a credential: %s', (text, expected) => {
    expect(scrub(text)).toBe(expected);
  });

  it('masks its base64 form anywhere (it cannot be a word of the output)', () => {
    const b64 = Buffer.from('orders').toString('base64');
    expect(scrub(`auth payload ${b64} for orders`)).toBe('auth payload *** for orders');
  });

  it('keeps a longer word that merely contains it', () => {
    expect(scrub('password=ordersX and orders_items')).toBe('password=ordersX and orders_items');
  });
});

describe('other passwords that could be ordinary text', () => {
  it('a number: counts stay, the credential is masked', () => {
    const scrub = scrubWith('20240');
    expect(scrub('read 20240 documents, wrote 20240')).toBe('read 20240 documents, wrote 20240');
    expect(scrub('password=20240; user app:20240@db')).toBe('password=***; user app:***@db');
  });

  it('a capitalised word', () => {
    const scrub = scrubWith('Orders');
    expect(scrub('Orders: 3 read')).toBe('Orders: 3 read');
    expect(scrub('password "Orders" rejected')).toBe('password "***" rejected');
  });

  it('a two-character password, never masked in free text before, is masked as a credential', () => {
    const scrub = scrubWith('pw');
    expect(scrub('password=pw; upgrade pwned')).toBe('password=***; upgrade pwned');
    expect(scrub(`${pg('pw')}`)).toBe('postgresql://app:***@db.internal:5432/shop');
  });
});

describe('passwords that could not be ordinary text are masked everywhere, in every form', () => {
  it.each(['orders2024', 'hunter2!', 'S3cr3t!p@ss/', 'correct horse battery staple'])('%s', (pw) => {
    const scrub = scrubWith(pw);
    const forms = [pw, encodeURIComponent(pw), Buffer.from(pw).toString('base64')];
    const text = forms.map((f) => `said ${f} in passing`).join('\n');
    const out = scrub(text);
    for (const f of forms) expect(out).not.toContain(f);
  });
});
