/**
 * Runs diagnostics all at once with a total time limit, reporting progress as each finishes. Every check gets a
 * result — one that throws, rejects, returns garbage or overruns its time becomes a `fail` — and the results come
 * back in the order the checks were given, not the order they finished.
 */
import { setMaxListeners } from 'node:events';
import { describeError, worstStatus, type CheckResult, type CheckStatus } from './CheckResult.js';
import { formatMs } from './classifyTransportError.js';
import { isCheckMessages, msg, type CheckMessage } from './checkMessages.js';

/** One check to run. */
export interface CheckDefinition {
  /** Stable id; the result carries it whatever the check returns. */
  id: string;
  /** Short name for progress displays (`DocumentServer reachable`). */
  title?: string;
  /** The check's own limit in ms (its requests' timeouts plus a margin); the run's total limit applies too. */
  timeoutMs?: number;
  /** Runs the check; `signal` aborts when its time is up. Should not throw (it is caught anyway). */
  run(signal: AbortSignal): Promise<CheckResult>;
}

/** Progress events, in the order they happen. */
export type CheckProgress =
  | { kind: 'started'; id: string; title?: string; total: number }
  | { kind: 'finished'; id: string; result: CheckResult; done: number; total: number };

/** Options of {@link runChecks}. */
export interface RunChecksOptions {
  /** Called on each start and finish; an exception in it is ignored. */
  onProgress?: (event: CheckProgress) => void;
  /** Longest the whole run may take (ms); default 60 000. Checks still running then get a `fail` result. */
  totalTimeoutMs?: number;
  /** Cancels the run (the page was closed…): unfinished checks get a `fail` result at once. */
  signal?: AbortSignal;
  /** Values that must never appear in a result (the configured secrets): replaced by `[redacted]`. */
  secrets?: readonly (string | null | undefined)[];
}

/** The run's report. */
export interface CheckRun {
  /** One per check, in the order given. */
  results: CheckResult[];
  /** The worst status (`skipped` only when every check was skipped or there were none). */
  status: CheckStatus;
  /** Wall time of the whole run. */
  ms: number;
}

const DEFAULT_TOTAL_MS = 60_000;
const STATUSES: readonly CheckStatus[] = ['ok', 'warn', 'fail', 'skipped'];

/**
 * Runs the checks in parallel.
 * @param checks - the checks (ids should be unique)
 * @param options - progress callback, total timeout, cancellation, secrets to scrub
 * @returns every check's result, in the order given, with the worst status; never rejects
 */
export async function runChecks(checks: readonly CheckDefinition[], options: RunChecksOptions = {}): Promise<CheckRun> {
  // One abort listener per check on the caller's signal: more than Node's default warning threshold of 10.
  if (options.signal) setMaxListeners(checks.length + 10, options.signal);
  const started = performance.now();
  const total = checks.length;
  const totalMs = options.totalTimeoutMs ?? DEFAULT_TOTAL_MS;
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === 'string' && s.length >= 4);
  let done = 0;
  const emit = (event: CheckProgress): void => {
    try {
      options.onProgress?.(event);
    } catch {
      // A broken progress display must not break the run.
    }
  };

  const results = await Promise.all(
    checks.map(async (check) => {
      const t0 = performance.now();
      emit({ kind: 'started', id: check.id, ...(check.title ? { title: check.title } : {}), total });
      const limit = Math.min(check.timeoutMs ?? totalMs, totalMs);
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const stop = new Promise<CheckResult>((resolve) => {
        const give = (why: string, message: CheckMessage): void => {
          controller.abort();
          resolve(failResult(check.id, why, performance.now() - t0, false, message));
        };
        timer = setTimeout(
          () =>
            give(
              `The check did not finish within ${formatMs(limit)}${limit === totalMs ? ' (the time limit of the whole run)' : ''}.`,
              msg(limit === totalMs ? 'run_timeout_total' : 'run_timeout', { time: formatMs(limit) }),
            ),
          limit,
        );
        onAbort = () => give('The check run was cancelled before this check finished.', msg('run_cancelled'));
        if (options.signal?.aborted) onAbort();
        else options.signal?.addEventListener('abort', onAbort, { once: true });
      });
      let result: CheckResult;
      try {
        const ran = Promise.resolve()
          .then(() => check.run(controller.signal))
          .then(
            (r) => normalise(check.id, r, performance.now() - t0),
            (e: unknown) =>
              failResult(check.id, `The check crashed: ${describeError(e)}`, performance.now() - t0, true, msg('run_crashed', { error: describeError(e) })),
          );
        result = await Promise.race([ran, stop]);
      } finally {
        clearTimeout(timer);
        if (onAbort) options.signal?.removeEventListener('abort', onAbort);
      }
      result = scrub(result, secrets);
      done += 1;
      emit({ kind: 'finished', id: check.id, result, done, total });
      return result;
    }),
  );
  return { results, status: worstStatus(results), ms: Math.round(performance.now() - started) };
}

function failResult(id: string, summary: string, ms: number, bug: boolean, message: CheckMessage): CheckResult {
  return {
    id,
    status: 'fail',
    summary,
    fix: bug
      ? 'This is a bug in the bridge: report it with this message and the bridge log.'
      : 'The address this check asks does not answer in time: see the other results for which one, or raise the timeout.',
    ms: Math.round(ms),
    messages: { summary: message, fix: msg(bug ? 'report_bug' : 'run_timeout_fix') },
  };
}

/** Keeps a well-formed result (with the definition's id); anything else becomes a `fail`. */
function normalise(id: string, r: unknown, ms: number): CheckResult {
  if (typeof r !== 'object' || r === null) return failResult(id, 'The check returned no result.', ms, true, msg('run_no_result'));
  const o = r as Partial<CheckResult>;
  if (!STATUSES.includes(o.status as CheckStatus) || typeof o.summary !== 'string') {
    return failResult(id, 'The check returned a malformed result.', ms, true, msg('run_malformed'));
  }
  const out: CheckResult = { id, status: o.status as CheckStatus, summary: o.summary, ms: typeof o.ms === 'number' ? o.ms : Math.round(ms) };
  if (typeof o.detail === 'string') out.detail = o.detail;
  if (typeof o.fix === 'string') out.fix = o.fix;
  if (o.data && typeof o.data === 'object') out.data = o.data;
  if (isCheckMessages(o.messages)) out.messages = o.messages;
  return out;
}

/** Replaces every secret in every string of the result, `data` included. */
function scrub(result: CheckResult, secrets: string[]): CheckResult {
  if (secrets.length === 0) return result;
  const clean = (v: unknown): unknown => {
    if (typeof v === 'string') return secrets.reduce((s, secret) => s.split(secret).join('[redacted]'), v);
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x)]));
    return v;
  };
  return clean(result) as CheckResult;
}
