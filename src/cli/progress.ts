/**
 * Progress on stderr: a cli-progress bar per collection on a terminal; otherwise pino
 * NDJSON lines (cron and CI logs), at most one per collection every few seconds.
 */
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import type { CollectionSummary, MigrateEvents } from '../use-cases/migrate/migrate.js';

export interface ProgressReporter extends MigrateEvents {
  stop(): void;
}

export function createProgress(opts: { tty: boolean; logger: Logger; quiet: boolean }): ProgressReporter {
  if (opts.tty && !opts.quiet) return barProgress();
  return logProgress(opts.logger);
}

function barProgress(): ProgressReporter {
  const multibar = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format: ' {name} |{bar}| {percentage}% | {value}/{total} docs | {speed} docs/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, { bar: cliProgress.SingleBar; started: number; value: number }>();
  return {
    collectionStarted(name, total) {
      bars.set(name, { bar: multibar.create(Math.max(total, 1), 0, { name: name.padEnd(14), speed: 0 }), started: Date.now(), value: 0 });
    },
    batchDone(name, read) {
      const b = bars.get(name);
      if (!b) return;
      b.value += read;
      const speed = Math.round((b.value * 1000) / Math.max(1, Date.now() - b.started));
      if (b.value > b.bar.getTotal()) b.bar.setTotal(b.value);
      b.bar.update(b.value, { speed });
    },
    collectionFinished(s: CollectionSummary) {
      const b = bars.get(s.name);
      if (b) b.bar.setTotal(Math.max(b.value, 1));
      b?.bar.update(b.value);
    },
    stop() {
      multibar.stop();
    },
  };
}

function logProgress(logger: Logger): ProgressReporter {
  const state = new Map<string, { read: number; total: number; lastLog: number; started: number }>();
  return {
    collectionStarted(name, total) {
      state.set(name, { read: 0, total, lastLog: Date.now(), started: Date.now() });
      logger.info({ collection: name, total }, 'collection started');
    },
    batchDone(name, read) {
      const s = state.get(name);
      if (!s) return;
      s.read += read;
      const now = Date.now();
      if (now - s.lastLog >= 5000) {
        s.lastLog = now;
        logger.info({ collection: name, read: s.read, total: s.total, docsPerSecond: Math.round((s.read * 1000) / Math.max(1, now - s.started)) }, 'progress');
      }
    },
    collectionFinished(s) {
      logger.info({ collection: s.name, status: s.status, read: s.read, migrated: s.migrated, rejected: s.rejected, durationMs: s.durationMs, timings: s.timings }, 'collection finished');
    },
    stop() {},
  };
}
