/**
 * Connection strings are secrets. Everything the tool prints, logs or stores goes through
 * these helpers so that a password never leaves the process, in any encoding.
 */

const URI_PATTERN = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@'"]*@)?([^\s/?#'"]*)([^\s'"]*)/gi;

/**
 * Shows a connection string as `scheme://user:***@host/db` — user, host and database are
 * kept because they tell an operator which database is meant; the password, the query
 * string (which may hold `password=`) and anything after it are not.
 */
export function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    // `user:***@` only where a password stands: a URL without one is shown as written (`postgres@host`).
    const user = url.username ? `${decodeSafe(url.username)}${url.password ? ':***' : ''}@` : url.password ? '***@' : '';
    const path = url.pathname && url.pathname !== '/' ? url.pathname : '';
    return `${url.protocol}//${user}${url.host}${path}`;
  } catch {
    // Not a URL we can parse (mongodb+srv with odd hosts, key=value DSNs): keep only the scheme.
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(uri)?.[0];
    return scheme ? `${scheme}***` : '***';
  }
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // Pure: a malformed %-escape (URIError) is shown as typed, which is what the operator wrote.
    return s;
  }
}

/** The forms in which a secret could leak: raw, URL-encoded (both ways) and base64. */
export function secretForms(secret: string): string[] {
  if (secret.length === 0) return [];
  const forms = new Set<string>([secret, encodeURIComponent(secret), decodeSafe(secret)]);
  for (const f of [...forms]) forms.add(Buffer.from(f, 'utf8').toString('base64'));
  return [...forms].filter((f) => f.length >= 3);
}

/** The passwords found in connection strings, to scrub from any text (driver errors quote them). */
export function passwordsOf(uris: readonly (string | undefined)[]): string[] {
  const out = new Set<string>();
  for (const uri of uris) {
    if (!uri) continue;
    // As typed: the userinfo runs to the LAST '@' of the authority (a password may hold '@' or a
    // partial percent-encoding that URL parsing would normalise away).
    const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(uri)?.[1] ?? '';
    const at = authority.lastIndexOf('@');
    const colon = authority.indexOf(':');
    if (at > 0 && colon >= 0 && colon < at) out.add(authority.slice(colon + 1, at));
    try {
      const url = new URL(uri);
      if (url.password) out.add(url.password);
      for (const key of ['password', 'pass', 'pwd', 'sslpassword']) {
        const v = url.searchParams.get(key);
        if (v) out.add(v);
      }
    } catch {
      // not parseable as a URL: the raw userinfo above is all we can know
    }
  }
  return [...out].filter((p) => p.length > 0);
}

/**
 * Whether a form of a secret could be ordinary text of the output: a word (letters, `_`, `-`),
 * a number, or a fragment shorter than 3 characters. Such a password (`orders`) is masked only
 * where it stands as a credential — replaced everywhere it would mask a collection name, a field
 * or a count. Any other form (mixed letters and digits, punctuation, an encoding) is masked
 * wherever it appears.
 */
function couldBeOrdinaryText(form: string): boolean {
  return form.length < 3 || /^[\p{L}\p{M}_-]+$/u.test(form) || /^\p{N}+$/u.test(form);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The places where a text shows a password as a credential: the password of a userinfo
 * (`user:<pw>@host`, also outside a URI), and the value of a password setting
 * (`password=<pw>`, `password: <pw>`, `"password":"<pw>"`, `PGPASSWORD=<pw>`, `pwd <pw>`…).
 */
function credentialPattern(form: string): RegExp {
  const f = escapeRegExp(form);
  const key = '(?:pass(?:word|wd|phrase)?|pwd|secret|credentials?)';
  return new RegExp(`(?<=:)${f}(?=@)|(?<=${key}["']?\\s*[:=]?\\s*["']?)${f}(?![\\p{L}\\p{N}_])`, 'giu');
}

/** Every form of a secret, short ones included (masked only where they stand as a credential). */
function allForms(secret: string): string[] {
  if (secret.length === 0) return [];
  const forms = new Set<string>([secret, encodeURIComponent(secret), decodeSafe(secret)]);
  for (const f of [...forms]) forms.add(Buffer.from(f, 'utf8').toString('base64'));
  return [...forms].filter((f) => f.length > 0);
}

/**
 * Scrubs a free text (an error message from a driver, a log line): every URI in it is
 * redacted (`user:***@host/db`, whatever its password), and every known secret, in every form,
 * is replaced by *** — everywhere when it could not be anything but the secret, and only where
 * it stands as a credential when it could be a word of the output (a password `orders` does not
 * mask the collection `orders`).
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(URI_PATTERN, (uri) => redactUri(uri));
  // Longest first: a form that contains another is masked whole.
  const forms = [...new Set(secrets.flatMap(allForms))].sort((a, b) => b.length - a.length);
  for (const form of forms) {
    out = couldBeOrdinaryText(form) ? out.replace(credentialPattern(form), '***') : out.split(form).join('***');
  }
  return out;
}
