/**
 * Load shapes: a closed loop (N clients, each sending its next request when the previous one is answered) bounded
 * in both time and count, and a recorder of per-operation latencies and errors.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { summarize, type Summary } from './stats.js';
import type { HttpResult } from './httpClient.js';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU time a process has used so far (user + system), in ms, from /proc/<pid>/stat. On a shared machine this is
 * steadier than wall time: work per request does not change when other processes take the CPU.
 * @param pid process id; this process when omitted
 */
export function cpuMsOf(pid?: number): number {
  if (pid === undefined || pid === process.pid) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  return ticksToMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * CPU time of a process's main thread alone (JavaScript runs there; GC helpers and the libuv pool do not), in ms.
 * @param pid process id
 */
export function mainThreadCpuMsOf(pid: number): number {
  return ticksToMs(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
}

/** user + system time of a /proc stat line, in ms. */
function ticksToMs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/** CPU used by the bench itself and by the measured process during a phase. */
export interface CpuUse {
  /** ms of CPU the measured process (the bridge) used. */
  serverMs: number;
  /** ms of CPU this process (the load generator) used. */
  clientMs: number;
  /** serverMs per request. */
  serverMsPerRequest: number;
  /** Share of one core the server used over the phase (1 = one core busy all the time). */
  serverCores: number;
  /** CPU of the server's main thread (its JavaScript) per request: 1000 / this bounds its requests per second. */
  serverMainThreadMsPerRequest: number;
  clientCores: number;
}

/** Latencies and errors per operation name. */
export class Recorder {
  private readonly latencies = new Map<string, number[]>();
  private readonly errorCounts = new Map<string, number>();
  /** The first few errors, for the report. */
  readonly firstErrors: string[] = [];
  enabled = true;

  /**
   * Records one request.
   * @param op operation name
   * @param msTaken its latency
   * @param error why it failed, or null
   */
  record(op: string, msTaken: number, error: string | null): void {
    if (!this.enabled) return;
    let list = this.latencies.get(op);
    if (!list) this.latencies.set(op, (list = []));
    list.push(msTaken);
    if (error !== null) {
      this.errorCounts.set(op, (this.errorCounts.get(op) ?? 0) + 1);
      if (this.firstErrors.length < 10) this.firstErrors.push(`${op}: ${error}`);
    }
  }

  /**
   * Sends a request through `fn`, records it under `op` (an error when not 2xx, or when `check` says so).
   * @returns the response, or null when the request itself failed
   */
  async time(op: string, fn: () => Promise<HttpResult>, check?: (r: HttpResult) => string | null): Promise<HttpResult | null> {
    const started = performance.now();
    try {
      const r = await fn();
      const problem = r.status < 200 || r.status >= 300 ? `HTTP ${r.status}${r.body ? ` ${r.body.toString('utf8').slice(0, 200)}` : ''}` : (check?.(r) ?? null);
      this.record(op, r.ms, problem);
      return r;
    } catch (e) {
      this.record(op, performance.now() - started, (e as Error).message);
      return null;
    }
  }

  ops(): string[] {
    return [...this.latencies.keys()];
  }

  count(op?: string): number {
    if (op !== undefined) return this.latencies.get(op)?.length ?? 0;
    let n = 0;
    for (const l of this.latencies.values()) n += l.length;
    return n;
  }

  errors(op?: string): number {
    if (op !== undefined) return this.errorCounts.get(op) ?? 0;
    let n = 0;
    for (const c of this.errorCounts.values()) n += c;
    return n;
  }

  summary(op?: string): Summary {
    if (op !== undefined) return summarize(this.latencies.get(op) ?? []);
    return summarize([...this.latencies.values()].flat());
  }
}

/** Result of {@link closedLoop}. */
export interface LoopResult {
  recorder: Recorder;
  /** Wall time of the measured phase. */
  elapsedMs: number;
  /** Requests per second over the measured phase (all operations). */
  perSecond: number;
  /** With `serverPid`: CPU used over the measured phase. */
  cpu?: CpuUse;
}

/**
 * Runs `concurrency` clients in a closed loop: each calls `task` again as soon as the previous call resolved, until
 * `durationMs` has passed or `maxOps` tasks have started. A warm-up phase of the same shape runs first and is not
 * recorded.
 * @param opts.task one iteration of one client; records its requests on the recorder
 */
export async function closedLoop(opts: {
  concurrency: number;
  durationMs: number;
  maxOps: number;
  warmupMs?: number;
  /** A process whose CPU use is measured over the measured phase (the bridge). */
  serverPid?: number;
  task: (client: number, iteration: number, rec: Recorder) => Promise<void>;
}): Promise<LoopResult> {
  const rec = new Recorder();
  const phase = async (ms: number, max: number): Promise<number> => {
    const started = performance.now();
    const until = started + ms;
    let started_ = 0;
    await Promise.all(
      Array.from({ length: opts.concurrency }, async (_, client) => {
        for (let it = 0; performance.now() < until && started_ < max; it++) {
          started_++;
          await opts.task(client, it, rec);
        }
      }),
    );
    return performance.now() - started;
  };
  if ((opts.warmupMs ?? 0) > 0) {
    rec.enabled = false;
    await phase(opts.warmupMs as number, opts.maxOps);
    rec.enabled = true;
  }
  const server0 = opts.serverPid !== undefined ? cpuMsOf(opts.serverPid) : 0;
  const main0 = opts.serverPid !== undefined ? mainThreadCpuMsOf(opts.serverPid) : 0;
  const client0 = cpuMsOf();
  const elapsedMs = await phase(opts.durationMs, opts.maxOps);
  const result: LoopResult = { recorder: rec, elapsedMs, perSecond: (rec.count() / elapsedMs) * 1000 };
  if (opts.serverPid !== undefined) {
    const serverMs = cpuMsOf(opts.serverPid) - server0;
    const clientMs = cpuMsOf() - client0;
    const mainMs = mainThreadCpuMsOf(opts.serverPid) - main0;
    const n = Math.max(1, rec.count());
    result.cpu = { serverMs, clientMs, serverMsPerRequest: serverMs / n, serverCores: serverMs / elapsedMs, clientCores: clientMs / elapsedMs, serverMainThreadMsPerRequest: mainMs / n };
  }
  return result;
}

/**
 * Runs `fn` over items, `concurrency` at a time (setup work: seeding files, opening ids).
 * @returns results in item order
 */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
}
