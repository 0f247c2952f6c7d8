/**
 * The result every diagnostic in `checks/` returns: what the admin page shows as one row and what
 * `wopi-bridge check --json` prints as one element. Plain data, safe to serialise: no field ever holds a secret or
 * a token (checks are written that way and `runChecks` scrubs the configured secrets once more).
 */

import { msg, type CheckMessages } from './checkMessages.js';

/** `skipped` = the check could not apply (e.g. no DocumentServer configured); it says why in `summary`. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

/** One diagnostic's outcome. */
export interface CheckResult {
  /** Stable snake_case id (`docs_reachable`, `jwt_secret`…): the CLI's `--only` and tests match on it. */
  id: string;
  status: CheckStatus;
  /** One sentence in plain English saying what was found. */
  summary: string;
  /** Evidence: what was asked, what came back, which cause was ruled out. */
  detail?: string;
  /** What to do, exactly: the setting to change, the `local.json` snippet, the command to run. */
  fix?: string;
  /** Wall time the check took. */
  ms: number;
  /** Machine-readable facts (version, clock skew, proof-key fingerprints…), for `--json` and the page. */
  data?: Record<string, unknown>;
  /** The same summary, detail and fix as message keys with parameters, for the page's translations. */
  messages?: CheckMessages;
}

/** A result before its duration is known (the check wrapper measures `ms`). */
export type CheckOutcome = Omit<CheckResult, 'ms'>;

/** Severity order, worst last: `skipped` < `ok` < `warn` < `fail`. */
const SEVERITY: Record<CheckStatus, number> = { skipped: 0, ok: 1, warn: 2, fail: 3 };

/**
 * The worst status of several results (what a monitoring exit code or a page banner shows).
 * @param statuses - statuses or results
 * @returns `fail` over `warn` over `ok` over `skipped`; `skipped` for an empty list
 */
export function worstStatus(statuses: Iterable<CheckStatus | Pick<CheckResult, 'status'>>): CheckStatus {
  let worst: CheckStatus = 'skipped';
  for (const s of statuses) {
    const status = typeof s === 'string' ? s : s.status;
    if (SEVERITY[status] > SEVERITY[worst]) worst = status;
  }
  return worst;
}

/**
 * Runs a check body, measures it and turns anything it throws into a `fail` result: a check never throws.
 * @param id - the check's id (also used for the failure result)
 * @param body - computes the outcome
 * @param now - clock in ms (tests)
 * @returns the outcome with `ms`
 */
export async function measureCheck(id: string, body: () => Promise<CheckOutcome>, now: () => number = Date.now): Promise<CheckResult> {
  const started = now();
  let outcome: CheckOutcome;
  try {
    outcome = await body();
  } catch (e) {
    outcome = {
      id,
      status: 'fail',
      summary: 'The check itself failed before it could reach a verdict.',
      detail: `Internal error: ${describeError(e)}`,
      fix: 'This is a bug in the bridge: report it with this message and the bridge log.',
      messages: { summary: msg('internal_error'), detail: msg('internal_error_detail', { error: describeError(e) }), fix: msg('report_bug') },
    };
  }
  return { ...outcome, id, ms: Math.max(0, Math.round(now() - started)) };
}

/**
 * One line for an unexpected error: its name and first message line, with any `user:password@` removed from URLs.
 * @param e - anything thrown
 */
export function describeError(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return (text.split('\n')[0] ?? '').replace(/(\w+:\/\/)[^/@\s]*@/g, '$1').slice(0, 300);
}
