/**
 * CPU accounting for the benchmark, from /proc (Linux): the tool's CLI child, PostgreSQL's
 * backends of one database, and a local source server's process tree. All in CPU seconds;
 * the report divides them by the documents moved (CPU-s per 1,000 documents).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type pg from 'pg';

const TICK = 100; // USER_HZ: /proc times are in 1/100 s on Linux

interface ProcTimes {
  /** utime + stime of the process itself. */
  self: number;
  /** cutime + cstime: its children that have exited and were reaped. */
  children: number;
  ppid: number;
}

function procTimes(pid: number): ProcTimes | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(f[i - 3]);
    return { self: (n(14) + n(15)) / TICK, children: (n(16) + n(17)) / TICK, ppid: n(4) };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function processCpu(pid: number): number {
  return procTimes(pid)?.self ?? 0;
}

/** CPU seconds of this process's reaped children (a CLI child counts here exactly, once it has exited). */
export function reapedChildrenCpu(): number {
  return procTimes(process.pid)?.children ?? 0;
}

/** CPU seconds of a process and all its live descendants, including the children each has reaped. */
export function treeCpu(root: number): number {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const t = procTimes(pid);
    if (t) parents.set(t.ppid, [...(parents.get(t.ppid) ?? []), pid]);
  }
  let total = 0;
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    const t = procTimes(pid);
    if (t) total += t.self + t.children;
    stack.push(...(parents.get(pid) ?? []));
  }
  return total;
}

/** The pid of the local process listening on TCP `port` (IPv4 or IPv6), if any (needs to see its /proc/<pid>/fd). */
export function listeningPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN.
      if (f[3] === '0A' && Number.parseInt(f[1]?.split(':')[1] ?? '', 16) === port && f[9]) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1] as string)) return pid;
      }
    } catch {
      /* not ours to read, or gone */
    }
  }
  return undefined;
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/**
 * Samples the CPU of every PostgreSQL backend connected to `database` while a measure runs
 * (backends exit with their connections, so the last sample of each is kept): start(), then
 * stop() returns the CPU seconds they used in between. A sample every 100 ms misses at most
 * that much of each backend's last moments.
 */
export class BackendCpu {
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly admin: pg.Pool,
    private readonly database: string,
  ) {}

  async start(): Promise<void> {
    await this.sample();
    this.timer = setInterval(() => void this.sample(), 100);
  }

  async stop(): Promise<number> {
    clearInterval(this.timer);
    await this.sample();
    let total = 0;
    for (const [pid, cpu] of this.last) total += cpu - (this.first.get(pid) ?? 0);
    return total;
  }

  private async sample(): Promise<void> {
    const r = await this.admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [this.database]).catch(() => ({ rows: [] }));
    for (const { pid } of r.rows) {
      const t = procTimes(pid);
      if (!t) continue;
      // A backend first seen now started within this measure: everything it used counts.
      if (!this.first.has(pid)) this.first.set(pid, this.timer === undefined ? t.self : 0);
      this.last.set(pid, t.self);
    }
  }
}

/** CPU seconds of the source server's local processes (and of their descendants), read before and after a measure. */
export class SourceCpu {
  constructor(private readonly pids: readonly number[]) {}

  get local(): boolean {
    return this.pids.length > 0;
  }

  read(): number {
    return this.pids.reduce((sum, pid) => sum + treeCpu(pid), 0);
  }
}
