/**
 * Escaping for reports. Every value shown comes from the source database or from
 * PostgreSQL and is hostile until escaped: markup, Markdown syntax, control characters,
 * megabyte-long strings.
 */

/** Longest value shown in a report cell; longer ones are cut with a note of their length. */
export const MAX_CELL = 300;

/** A value cut to `max` code points, with its full length noted. */
export function shorten(value: string, max = MAX_CELL): string {
  const points = [...value];
  return points.length <= max ? value : `${points.slice(0, max).join('')}… (${points.length} characters)`;
}

/** Control characters shown as visible escapes so nothing is hidden in a cell. */
function visibleControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text for HTML element content and attribute values. */
export function html(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A database value for an HTML cell: NULL shown as such, controls visible, long values cut. */
export function htmlValue(value: string | null): string {
  if (value === null) return '<span class="null">NULL</span>';
  return html(shorten(visibleControls(value)));
}

/** Text for a Markdown table cell: no table breaks, no markup, no HTML. */
export function md(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  // One pass, so that the entities written are not escaped again.
  return visibleControls(String(value)).replace(/[&<>|\\`*_{}[\]()#+!~]/g, (c) => ('&<>|'.includes(c) ? `&#${c.charCodeAt(0)};` : `\\${c}`));
}

/** A database value for a Markdown cell. */
export function mdValue(value: string | null): string {
  return value === null ? '*NULL*' : md(shorten(value));
}
