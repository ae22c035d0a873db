/**
 * Writes a report as two files side by side, `<kind>-<time>.md` and `.html`, in a directory
 * created when missing (default: `migrations-state/reports/` next to the configuration).
 * Each file is written to a temporary name and renamed, so a reader never sees half a report.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { MigrateResult } from '../use-cases/migrate/migrate.js';
import type { VerifyResult } from '../use-cases/verify/verify-result.js';
import { dryRunHtml, dryRunMarkdown } from './dry-run-report.js';
import { verifyHtml, verifyMarkdown } from './verify-report.js';

/** Where reports go when no --out is given, relative to the configuration's directory. */
export const DEFAULT_REPORT_DIR = join('migrations-state', 'reports');

export interface WrittenReport {
  markdown: string;
  html: string;
}

/** The default report directory for a configuration directory. */
export function reportDirFor(configDir: string, out?: string): string {
  return out ? resolve(out) : resolve(configDir, DEFAULT_REPORT_DIR);
}

function stamp(iso: string): string {
  // 2024-05-01T12:34:56.789Z → 20240501T123456789Z: sortable, and valid in every file system.
  return iso.replace(/[-:.]/g, '');
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, path);
}

async function writePair(dir: string, base: string, markdown: string, htmlText: string): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const out = { markdown: join(dir, `${base}.md`), html: join(dir, `${base}.html`) };
  await writeAtomically(out.markdown, markdown);
  await writeAtomically(out.html, htmlText);
  return out;
}

/** Writes the verification report (Markdown and HTML) into `dir`. */
export async function writeVerifyReport(result: VerifyResult, dir: string): Promise<WrittenReport> {
  return writePair(dir, `verify-${stamp(result.startedAt)}`, verifyMarkdown(result), verifyHtml(result));
}

/** Writes the report of a dry run (`migrate --dry-run` / `verify --dry-run`) into `dir`. */
export async function writeDryRunReport(result: MigrateResult, dir: string): Promise<WrittenReport> {
  const generatedAt = new Date().toISOString();
  return writePair(dir, `dry-run-${stamp(generatedAt)}`, dryRunMarkdown(result, generatedAt), dryRunHtml(result, generatedAt));
}
