/**
 * A self-contained HTML page: inline CSS, no script, no external asset, so it opens from a
 * file anywhere (and a strict Content-Security-Policy says so to the browser).
 */
import { html } from './escape.js';

const CSS = `
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; --head: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, "DejaVu Sans", sans-serif; color: #1f2328; margin: 0; padding: 24px 32px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.meta { color: var(--muted); margin: 0 0 16px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; font-weight: 600; font-size: 13px; vertical-align: middle; }
.badge.ok { background: var(--ok); } .badge.bad { background: var(--bad); }
table { border-collapse: collapse; margin: 6px 0 14px; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bad { color: var(--bad); font-weight: 600; }
td.value { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; white-space: pre-wrap; word-break: break-all; max-width: 420px; }
td > code { white-space: nowrap; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.null { color: var(--muted); font-style: italic; }
.note { color: var(--muted); }
`;

/** The whole page: title, then `body` (already escaped HTML). */
export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${html(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/** An HTML table; `cells` are escaped HTML already. `numeric` columns are right-aligned. */
export function htmlTable(id: string | undefined, headers: readonly string[], rows: readonly (readonly string[])[], numeric: readonly number[] = [], rowAttr?: (i: number) => string): string {
  const th = headers.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ''}>${html(h)}</th>`).join('');
  const tr = rows.map((r, ri) => `<tr${rowAttr ? ` ${rowAttr(ri)}` : ''}>${r.map((c, i) => (c.startsWith('<td') ? c : numeric.includes(i) ? `<td class="num">${c}</td>` : `<td>${c}</td>`)).join('')}</tr>`).join('\n');
  return `<table${id ? ` id="${html(id)}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

/** A cell with a database value (monospace, wrapping). */
export function valueCell(escaped: string): string {
  return `<td class="value">${escaped}</td>`;
}
