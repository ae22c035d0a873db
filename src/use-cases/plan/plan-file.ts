/**
 * Plan files: `migrations-state/plan-<timestamp>.json` and `plan-latest.json` next to the
 * configuration (or in --out). They hold what the plan found, never a connection string.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const PLAN_DIRECTORY = 'migrations-state';
export const LATEST_PLAN_FILE = 'plan-latest.json';

/** The directory plan files go to: --out, else `migrations-state/` in the configuration's directory. */
export function planDirectory(configDir: string, out?: string): string {
  return out ? resolve(out) : join(configDir, PLAN_DIRECTORY);
}

/** `plan-2025-01-31T10-15-00-123Z.json`: sortable, and valid on every file system. */
export function planFileName(createdAt: string): string {
  return `plan-${createdAt.replace(/[:.]/g, '-')}.json`;
}

/** Writes the plan and replaces plan-latest.json atomically (a reader never sees half a file). */
export async function writePlanFiles(dir: string, createdAt: string, text: string): Promise<{ path: string; latest: string }> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, planFileName(createdAt));
  const latest = join(dir, LATEST_PLAN_FILE);
  await writeFile(path, text, 'utf8');
  const tmp = `${latest}.${process.pid}.tmp`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, latest);
  return { path, latest };
}

/** The latest plan in `dir` (a plan directory), or undefined when there is none or it cannot be read. */
export async function loadLatestPlan(dir: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(join(dir, LATEST_PLAN_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
