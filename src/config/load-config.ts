/**
 * Finds and loads `hybrid-migrate.config.ts` (or .mts/.js/.mjs), then checks its shape.
 * TypeScript configuration files are loaded with jiti, the loader Nuxt, ESLint and
 * Tailwind use for the same job, so operators get typed config without a build step.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createJiti } from 'jiti';
import type { HybridMigrateConfig } from './define-config.js';
import { validateConfigShape } from './validate-config.js';
import { ConfigError } from '../core/errors.js';

export const CONFIG_FILE_NAMES = ['hybrid-migrate.config.ts', 'hybrid-migrate.config.mts', 'hybrid-migrate.config.js', 'hybrid-migrate.config.mjs'] as const;

export interface LoadedConfig {
  config: HybridMigrateConfig;
  /** The file it came from; undefined when none was found and defaults apply. */
  path: string | undefined;
  /** Directory relative paths in the config are resolved against. */
  dir: string;
}

/** Loads the config named by --config, or the first config file found in `cwd`; none found means defaults. */
export async function loadConfig(explicitPath: string | undefined, cwd: string = process.cwd()): Promise<LoadedConfig> {
  let path: string | undefined;
  if (explicitPath) {
    path = resolve(cwd, explicitPath);
    if (!existsSync(path)) {
      throw new ConfigError([{ path: '--config', message: `file "${explicitPath}" does not exist` }]);
    }
  } else {
    path = CONFIG_FILE_NAMES.map((n) => resolve(cwd, n)).find((p) => existsSync(p));
  }
  if (!path) return { config: {}, path: undefined, dir: cwd };

  let loaded: unknown;
  try {
    const jiti = createJiti(pathToFileURL(path).href, { moduleCache: false, fsCache: false, interopDefault: true });
    loaded = await jiti.import(path, { default: true });
  } catch (cause) {
    throw new ConfigError([{ path, message: `cannot load: ${loadErrorText(cause)}` }], { cause });
  }
  const issues = validateConfigShape(loaded);
  if (issues.length > 0) throw new ConfigError(issues.map((i) => ({ ...i, path: `${path}: ${i.path}` })));
  return { config: loaded as HybridMigrateConfig, path, dir: dirname(path) };
}

/**
 * The loader's message, with the place it names: a syntax error's second line is where it is
 * (`ParseError: Unexpected token, expected "," at /srv/shop/hybrid-migrate.config.ts:4:4`).
 */
export function loadErrorText(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const where = lines.slice(1).find((l) => /:\d+:\d+$/.test(l));
  return where ? `${lines[0]} at ${where}` : (lines[0] ?? message);
}
