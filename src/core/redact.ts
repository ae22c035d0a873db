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
  const out: string[] = [];
  for (const uri of uris) {
    if (!uri) continue;
    try {
      const url = new URL(uri);
      if (url.password) out.push(url.password);
    } catch {
      const m = /:\/\/[^:/@\s]*:([^@\s]*)@/.exec(uri);
      if (m?.[1]) out.push(m[1]);
    }
  }
  return out;
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
