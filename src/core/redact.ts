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
    const user = url.username ? `${decodeSafe(url.username)}:***@` : url.password ? '***@' : '';
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
 * Scrubs a free text (an error message from a driver, a log line): every URI in it is
 * redacted, and every known secret, in every form, is replaced by ***.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(URI_PATTERN, (uri) => redactUri(uri));
  for (const secret of secrets) {
    for (const form of secretForms(secret)) out = out.split(form).join('***');
  }
  return out;
}
