/**
 * Runs the diagnostics every N minutes in the background (CHECK_INTERVAL_MINUTES): one run at a time, on an
 * unref'd timer, stopped on shutdown. Keeps the last run and a short history of what changed, updates the
 * `wopi_bridge_check_status` gauge, and logs a check only when its status changes — a warning when it becomes
 * `fail`/`warn`, an info line when it recovers — never on every run.
 */
import type { CheckStatus } from '../checks/CheckResult.js';
import { runChecks, type CheckDefinition, type CheckRun } from '../checks/runChecks.js';
import type { Logger } from '../logging/createLogger.js';
import type { Metrics } from '../metrics/createMetrics.js';

/** A check whose status differs from the previous run (`from` null: the first run). */
export interface StatusChange {
  id: string;
  from: CheckStatus | null;
  to: CheckStatus;
}

/** One background run in the history. */
export interface CheckHistoryEntry {
  /** When the run finished (ISO). */
  at: string;
  /** Worst status of the run. */
  status: CheckStatus;
  changed: StatusChange[];
}

/** What the admin API shows. */
export interface CheckerSnapshot {
  /** The latest run with its time, null before the first. */
  last: { at: string; run: CheckRun } | null;
  /** The latest runs, newest first (at most `historySize`). */
  history: CheckHistoryEntry[];
  /** Minutes between runs; 0 = background checks are off. */
  intervalMinutes: number;
}

/** Options of {@link BackgroundChecker}. */
export interface BackgroundCheckerOptions {
  /** Fresh definitions for each run (configuredChecks shares one drive request per run; don't reuse them). */
  checks: () => CheckDefinition[];
  /** Values scrubbed from every result (configuredSecrets). */
  secrets: readonly (string | null | undefined)[];
  /** Time between the end of a run and the start of the next (ms); 0 = off. */
  intervalMs: number;
  /** Delay of the first run after start (ms); default the smaller of the interval and one minute. */
  firstRunDelayMs?: number;
  /** Limit of one run (ms); runChecks' default when absent. */
  totalTimeoutMs?: number;
  /** Runs kept in the history (default 50). */
  historySize?: number;
  log: Logger;
  metrics?: Metrics;
  /** Clock (tests). */
  now?: () => Date;
}

const STATUSES: readonly CheckStatus[] = ['ok', 'warn', 'fail', 'skipped'];
const BAD: readonly CheckStatus[] = ['fail', 'warn'];

/** The background diagnostics of one bridge instance. */
export class BackgroundChecker {
  private readonly options: BackgroundCheckerOptions;
  private readonly statuses = new Map<string, CheckStatus>();
  private readonly entries: CheckHistoryEntry[] = [];
  private last: { at: string; run: CheckRun } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<CheckRun> | null = null;
  private abort: AbortController | null = null;
  private started = false;

  constructor(options: BackgroundCheckerOptions) {
    this.options = options;
  }

  /** Minutes between runs as configured (0 = off). */
  get intervalMinutes(): number {
    return this.options.intervalMs / 60_000;
  }

  /** Schedules the first run (nothing when the interval is 0). */
  start(): void {
    if (this.started || this.options.intervalMs <= 0) return;
    this.started = true;
    this.schedule(this.options.firstRunDelayMs ?? Math.min(this.options.intervalMs, 60_000));
  }

  /** Stops the timer and cancels a run in progress (its unfinished checks end as `fail`, and are not logged). */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort();
    await this.running?.catch(() => undefined);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runNow().finally(() => {
        if (this.started) this.schedule(this.options.intervalMs);
      });
    }, ms);
    this.timer.unref();
  }

  /**
   * Runs the checks now, or joins the run in progress.
   * @returns that run
   */
  runNow(): Promise<CheckRun> {
    this.running ??= this.runOnce().finally(() => {
      this.running = null;
      this.abort = null;
    });
    return this.running;
  }

  private async runOnce(): Promise<CheckRun> {
    const abort = new AbortController();
    this.abort = abort;
    const run = await runChecks(this.options.checks(), {
      secrets: this.options.secrets,
      signal: abort.signal,
      ...(this.options.totalTimeoutMs !== undefined ? { totalTimeoutMs: this.options.totalTimeoutMs } : {}),
    });
    if (abort.signal.aborted) return run; // cancelled by stop(): not a finding
    const at = (this.options.now?.() ?? new Date()).toISOString();
    this.record(at, run);
    return run;
  }

  private record(at: string, run: CheckRun): void {
    const { log, metrics } = this.options;
    const changed: StatusChange[] = [];
    for (const r of run.results) {
      const from = this.statuses.get(r.id) ?? null;
      this.statuses.set(r.id, r.status);
      for (const s of STATUSES) metrics?.checkStatus.set({ id: r.id, status: s }, s === r.status ? 1 : 0);
      if (from === r.status) continue;
      changed.push({ id: r.id, from, to: r.status });
      const fields = { check: r.id, status: r.status, previous: from, summary: r.summary };
      if (BAD.includes(r.status)) log.warn(fields, r.status === 'fail' ? 'check failing' : 'check warning');
      else if (from !== null && BAD.includes(from)) log.info(fields, 'check recovered');
      else log.debug(fields, 'check status');
    }
    this.last = { at, run };
    this.entries.unshift({ at, status: run.status, changed });
    this.entries.length = Math.min(this.entries.length, this.options.historySize ?? 50);
  }

  /** The last run and the history, for the admin API. */
  snapshot(): CheckerSnapshot {
    return { last: this.last, history: this.entries.map((e) => ({ ...e, changed: [...e.changed] })), intervalMinutes: this.intervalMinutes };
  }
}
