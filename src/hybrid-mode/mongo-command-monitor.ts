/**
 * The MongoDB side of the hybrid-mode metrics: every command the application's client sends,
 * seen through the driver's command monitoring events (`commandStarted` / `commandSucceeded`
 * / `commandFailed`). The driver emits them only for a client created with
 * `monitorCommands: true` — `mongoose.connect(uri, { monitorCommands: true })` — and reads
 * that option when it opens its connection pools: set later on a connected client, it changes
 * nothing (checked in mongodb 7.8: each pool freezes a copy of the options). So a client that
 * is not connected yet gets the option set here; a connected one without it is refused with
 * what to do, rather than counted as silent.
 */
import { HybridMigrateError, ExitCode } from '../core/errors.js';
import type { RequestOutcome } from './hybrid-metrics.js';
import { codeLabel, errorCodeLabel, nameLabel } from './metric-labels.js';

/** The part of a driver `MongoClient` the monitor uses (structural: the application's driver version fits). */
export interface MonitorableMongoClient {
  /** The driver's options: `monitorCommands` is the one public, writable one read here. */
  options: { monitorCommands?: boolean };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the driver's and Node's listener types differ: any fits both
  on(event: string, listener: (event: any) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeListener(event: string, listener: (event: any) => void): unknown;
  db(name?: string): unknown;
}

/** A mongoose Connection (or anything with `getClient()`). */
export interface MongooseConnectionLike {
  getClient(): MonitorableMongoClient | undefined | null;
  db?: unknown;
}

/** What `instrumentHybrid` accepts as `mongo`: a MongoClient, a mongoose Connection, or the mongoose module. */
export type MongoInstrumentable = MonitorableMongoClient | MongooseConnectionLike | { connection: MongooseConnectionLike };

/** `comment` of the volume sampler's own commands: they are not the application's requests. */
export const SAMPLER_COMMENT = 'hybrid-migrate:volume-sample';

/** Commands whose first field names a collection (the rest — ping, hello, endSessions, a database-wide aggregate — get target ''). */
const COLLECTION_COMMANDS = new Set([
  'find', 'insert', 'update', 'delete', 'aggregate', 'count', 'distinct', 'findAndModify', 'findandmodify',
  'createIndexes', 'dropIndexes', 'listIndexes', 'drop', 'create', 'collStats', 'killCursors', 'collMod', 'validate', 'mapReduce',
]);

/** A failure to instrument, with what to do about it. */
export class HybridInstrumentationError extends HybridMigrateError {
  constructor(code: string, message: string, hint: string) {
    super(code, ExitCode.Config, `${message} ${hint}`, { entity: 'instrumentHybrid', hint });
  }
}

/** The driver client behind a MongoClient, a mongoose Connection or the mongoose module. */
export function mongoClientOf(m: MongoInstrumentable): MonitorableMongoClient {
  const conn = 'connection' in m && m.connection && typeof (m.connection as MongooseConnectionLike).getClient === 'function' ? (m.connection as MongooseConnectionLike) : m;
  if (typeof (conn as MongooseConnectionLike).getClient === 'function') {
    const client = (conn as MongooseConnectionLike).getClient();
    if (!client) {
      throw new HybridInstrumentationError(
        'MONGO_NOT_CONNECTED',
        'instrumentHybrid: the mongoose connection has no MongoDB client yet.',
        'Call it after mongoose.connect(uri, { monitorCommands: true }) (or createConnection(uri, { monitorCommands: true })).',
      );
    }
    return client;
  }
  if (typeof (conn as MonitorableMongoClient).on !== 'function') {
    throw new HybridInstrumentationError('MONGO_UNSUPPORTED', 'instrumentHybrid: `mongo` is neither a MongoClient nor a mongoose connection.', 'Pass mongoose, mongoose.connection or the MongoClient.');
  }
  return conn as MonitorableMongoClient;
}

/** Turns command monitoring on where it still can, or says why it cannot. */
export function ensureCommandMonitoring(client: MonitorableMongoClient): void {
  if (client.options.monitorCommands === true) return;
  // The driver creates its topology (and pools with a frozen copy of the options) in connect().
  if ((client as { topology?: unknown }).topology === undefined) {
    client.options.monitorCommands = true;
    return;
  }
  throw new HybridInstrumentationError(
    'MONGO_MONITOR_COMMANDS_OFF',
    'instrumentHybrid: this MongoDB client was connected without monitorCommands, so the driver emits no command events to count.',
    'Connect with monitorCommands: mongoose.connect(uri, { monitorCommands: true }) or new MongoClient(uri, { monitorCommands: true }); or call instrumentHybrid before connecting.',
  );
}

/** The collection a command is about: its first field's value for collection commands, `collection` for getMore. */
export function commandTarget(commandName: string, command: Record<string, unknown> | undefined): string {
  if (!command) return '';
  if (commandName === 'getMore') return typeof command.collection === 'string' ? nameLabel(command.collection) : '';
  const value = command[commandName];
  return COLLECTION_COMMANDS.has(commandName) && typeof value === 'string' ? nameLabel(value) : '';
}

/**
 * The error code of a reply that succeeded as a command but failed as a write: a duplicate
 * key in an `insert` comes back as `ok: 1` with `writeErrors`, and the driver throws it.
 */
export function replyErrorCode(reply: Record<string, unknown> | undefined): string | undefined {
  if (!reply) return undefined;
  const writeErrors = reply.writeErrors;
  if (Array.isArray(writeErrors) && writeErrors.length > 0) {
    const first = writeErrors[0] as { code?: unknown; codeName?: unknown };
    return codeLabel(first.codeName) ?? WRITE_ERROR_NAMES[Number(first.code)] ?? 'WriteError';
  }
  if (reply.writeConcernError) return 'WriteConcernError';
  return undefined;
}

const WRITE_ERROR_NAMES: Record<number, string> = { 11000: 'DuplicateKey', 11001: 'DuplicateKey', 121: 'DocumentValidationFailure' };

interface StartedEvent {
  requestId: number;
  commandName: string;
  command?: Record<string, unknown>;
}
interface SucceededEvent {
  requestId: number;
  commandName: string;
  duration: number;
  reply?: Record<string, unknown>;
}
interface FailedEvent {
  requestId: number;
  commandName: string;
  duration: number;
  failure?: unknown;
}

/** Commands in flight kept at most; beyond it (events lost), the oldest are forgotten. */
const MAX_IN_FLIGHT = 10_000;

/** Listens to one client's command events; `stop()` removes the listeners. */
export class MongoCommandMonitor {
  /** A command event arrived: monitoring is on. */
  sawCommand = false;
  private readonly inFlight = new Map<number, { target: string; operation: string; started: number } | null>();
  private readonly listeners: [string, (e: StartedEvent & SucceededEvent & FailedEvent) => void][];

  constructor(
    private readonly client: MonitorableMongoClient,
    private readonly record: (r: RequestOutcome) => void,
  ) {
    this.listeners = [
      ['commandStarted', (e: StartedEvent) => this.started(e)],
      ['commandSucceeded', (e: SucceededEvent) => this.ended(e, replyErrorCode(e.reply))],
      ['commandFailed', (e: FailedEvent) => this.ended(e, errorCodeLabel(e.failure))],
    ];
    for (const [name, fn] of this.listeners) client.on(name, fn);
  }

  stop(): void {
    for (const [name, fn] of this.listeners) this.client.removeListener(name, fn);
    this.inFlight.clear();
  }

  private started(e: StartedEvent): void {
    this.sawCommand = true;
    if (this.inFlight.size >= MAX_IN_FLIGHT) this.inFlight.delete(this.inFlight.keys().next().value as number);
    // The sampler's own commands are remembered as null: ended, but not counted.
    const own = e.command?.comment === SAMPLER_COMMENT;
    this.inFlight.set(e.requestId, own ? null : { target: commandTarget(e.commandName, e.command), operation: e.commandName, started: performance.now() });
  }

  private ended(e: SucceededEvent | FailedEvent, errorCode: string | undefined): void {
    const start = this.inFlight.get(e.requestId);
    this.inFlight.delete(e.requestId);
    if (start === null) return;
    // The driver's own `duration` is whole milliseconds; a start seen here gives the fraction.
    const seconds = start ? (performance.now() - start.started) / 1000 : e.duration / 1000;
    this.record({ database: 'mongodb', target: start?.target ?? '', operation: start?.operation ?? e.commandName, seconds, errorCode });
  }
}
