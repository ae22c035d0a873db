/**
 * Runs Prisma's schema parser (WebAssembly) in a worker thread and posts back only the data
 * model: the parser's memory (tens of MB that WebAssembly never gives back) goes away with
 * the worker instead of staying for the whole migration.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { dmmfDatamodelJson } from './prisma-dmmf.js';

const { text } = workerData as { text: string };
try {
  parentPort?.postMessage({ ok: true, json: dmmfDatamodelJson(text) });
} catch (e) {
  parentPort?.postMessage({ ok: false, message: e instanceof Error ? e.message : String(e) });
}
