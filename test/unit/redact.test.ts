import { describe, expect, it } from 'vitest';
import { passwordsOf, redactText, redactUri, secretForms } from '../../src/core/redact.js';

/** Every form in which the password could leak. */
function leakForms(password: string): string[] {
  const forms = new Set([password, encodeURIComponent(password)]);
  for (const f of [...forms]) forms.add(Buffer.from(f, 'utf8').toString('base64'));
  return [...forms];
}

describe('redactUri', () => {
  it.each<[string, string]>([
    ['postgresql://u:S3cr3t!p@ss%2F@h:5432/db', 'postgresql://u:***@h:5432/db'],
    ['postgres://u:p%40ss@h/db?sslmode=require', 'postgres://u:***@h/db'],
    ['mongodb://admin:pa%24%24w0rd@mongo1:27017/shop?authSource=admin&replicaSet=rs0', 'mongodb://admin:***@mongo1:27017/shop'],
    ['mongodb+srv://admin:pa55@cluster0.abcde.mongodb.net/shop?retryWrites=true&w=majority', 'mongodb+srv://admin:***@cluster0.abcde.mongodb.net/shop'],
    ['postgresql://h/db?user=u&password=secretpw', 'postgresql://h/db'],
    ['postgresql://:onlypw@h/db', 'postgresql://***@h/db'],
    ['postgresql://h:5432', 'postgresql://h:5432'],
    // No password: nothing to hide, and `postgres:***@` suggested one (found by a black-box run).
    ['postgresql://postgres@127.0.0.1:5432/postgres', 'postgresql://postgres@127.0.0.1:5432/postgres'],
    // WHATWG URL cannot parse a multi-host list: only the scheme is kept (safe, if terse)
    ['mongodb://admin:pa%24%24w0rd@mongo1:27017,mongo2:27017/shop?authSource=admin', 'mongodb://***'],
    ['not a uri at all password=x', '***'],
  ])('%s', (uri, expected) => {
    const out = redactUri(uri);
    expect(out).toBe(expected);
    for (const pw of ['S3cr3t', 'p%40ss', 'pa%24%24w0rd', 'pa$$w0rd', 'pa55', 'secretpw', 'onlypw']) expect(out).not.toContain(pw);
  });
});

describe('passwordsOf / secretForms', () => {
  it('finds passwords in parsable and unparsable URIs', () => {
    expect(passwordsOf(['postgresql://u:p%40ss@h/db', undefined, 'postgresql://h/db'])).toEqual(['p%40ss']);
    expect(passwordsOf(['mongodb://admin:pa%24%24w0rd@mongo1:27017,mongo2:27017/shop'])).toEqual(['pa%24%24w0rd']);
  });
  it('lists raw, URL-encoded, decoded and base64 forms', () => {
    const forms = secretForms('p%40ss');
    expect(forms).toEqual(expect.arrayContaining(['p%40ss', 'p@ss', 'p%2540ss', Buffer.from('p@ss').toString('base64')]));
    expect(secretForms('')).toEqual([]);
  });
});

describe('redactText', () => {
  it('scrubs a driver error quoting the URI and the raw / URL-encoded / base64 password', () => {
    const uri = 'postgresql://migrator:S3cr3t!p@ss%2F@db.internal:5432/shop';
    const decoded = 'S3cr3t!p@ss/';
    const message =
      `error: password authentication failed for user "migrator" (${uri})\n` +
      `  password: ${decoded}\n  urlencoded: ${encodeURIComponent(decoded)}\n` +
      `  base64: ${Buffer.from(decoded).toString('base64')}\n  dsn: "${uri}"`;
    const out = redactText(message, passwordsOf([uri]));
    for (const form of leakForms(decoded)) expect(out.split(form).length - 1).toBe(0);
    expect(out).toContain('postgresql://migrator:***@db.internal:5432/shop');
    expect(out).toContain('password: ***');
  });

  it('scrubs MongoDB URIs with query options and multiple hosts', () => {
    const uri = 'mongodb://admin:pa%24%24w0rd@mongo1:27017,mongo2:27017/shop?authSource=admin&replicaSet=rs0';
    const message = `MongoServerSelectionError: connect ECONNREFUSED (${uri}) auth with pa$$w0rd / ${Buffer.from('pa$$w0rd').toString('base64')}`;
    const out = redactText(message, passwordsOf([uri]));
    for (const form of [...leakForms('pa$$w0rd'), 'pa%24%24w0rd']) expect(out).not.toContain(form);
    expect(out).not.toContain('authSource');
  });

  it('scrubs a password given in the query string of a URI in the text', () => {
    const out = redactText('cannot connect to postgresql://h/db?user=u&password=secretpw now', []);
    expect(out).not.toContain('secretpw');
  });

  it('leaves text without secrets untouched', () => {
    expect(redactText('42 rows loaded', ['secretpw'])).toBe('42 rows loaded');
  });

  // The password exactly as typed inside the URI, when only some of its characters are
  // percent-encoded ('S3cr3t!p@ss%2F': '@' raw, '/' encoded): URL parsing normalises it to
  // 'S3cr3t!p%40ss%2F', so passwordsOf must also return the raw userinfo text.
  it('scrubs the password as typed in the URI (partially encoded)', () => {
    const uri = 'postgresql://u:S3cr3t!p@ss%2F@h:5432/db';
    const out = redactText('config: password S3cr3t!p@ss%2F rejected', passwordsOf([uri]));
    expect(out).not.toContain('S3cr3t!p@ss%2F');
  });

  // A password passed as `?password=` in a URI is a secret too.
  it('scrubs a query-string password quoted outside the URI', () => {
    const uri = 'postgresql://h/db?user=u&password=secretpw';
    const out = redactText('auth failed for password secretpw', passwordsOf([uri]));
    expect(out).not.toContain('secretpw');
  });
});
