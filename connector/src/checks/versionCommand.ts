/**
 * The command service's `{"c":"version"}` as a probe: unsigned, with a body token, with the token only in the
 * configured header, or signed with a throwaway wrong secret. DS answers HTTP 200 JSON `{"error":N}` in every
 * token case (captures `10`–`17`, `77`–`82`), so the error code is what tells the cases apart.
 */
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { parseCommandAnswer, measureSkewMs, type CommandAnswer } from './docServiceAnswers.js';
import { endpoint } from './docsUrls.js';
import { probeHttp, type ProbeOutcome, type ProbeTls } from './probeHttp.js';

/**
 * Legacy route, served by every DS version (the captured 9.3.1 too); `/command` exists only since 8.2 and the
 * Nextcloud/ownCloud connectors still call this one.
 */
export const COMMAND_PATH = '/coauthoring/CommandService.ashx';

/** Lifetime of the probe tokens: 5 minutes, the connectors' `jwt_expiration` default. */
export const PROBE_TOKEN_LIFETIME_S = 300;

/** DS's `token.verifyOptions.clockTolerance` default, in seconds. */
export const DS_CLOCK_TOLERANCE_S = 60;

/** How the probe carries (or not) a token. */
export type TokenPlacement =
  | { kind: 'none' }
  /** `token` field in the JSON body, flat claims (DS prefers it over any header). */
  | { kind: 'body'; secret: string }
  /** Only in `<header>: Bearer <jwt>` with `{payload:{…}}` claims: catches a header-name mismatch the body hides. */
  | { kind: 'header'; secret: string; header: string }
  /** A body token signed with a fresh random secret: accepted only when DS does not check tokens. */
  | { kind: 'wrong_secret' };

/** One probe's result. */
export interface VersionProbe {
  placement: TokenPlacement['kind'];
  outcome: ProbeOutcome;
  /** The JSON answer, when DS gave one. */
  answer: CommandAnswer | null;
  /** DS's clock minus the bridge's, from the `Date` header (ms), when known. */
  skewMs: number | null;
}

/** Transport options of the probe. */
export interface VersionProbeOptions {
  timeoutMs: number;
  tls: ProbeTls;
  signal?: AbortSignal | undefined;
  /** The bridge's clock (ms). */
  now: () => number;
  setting?: string;
}

/**
 * An HS256 token as DS expects it, with `iat` and `exp` from the given clock (no `nbf`: DS reports a future `nbf`
 * as error 6, not 7 — capture `94` — which would hide clock skew behind "invalid token").
 * @param claims - flat body claims or `{ payload }`
 * @param secret - HS256 key
 * @param nowMs - the bridge's time
 */
export function signDocsToken(claims: Record<string, unknown>, secret: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  return jwt.sign({ ...claims, iat, exp: iat + PROBE_TOKEN_LIFETIME_S }, secret, { algorithm: 'HS256', noTimestamp: true });
}

/**
 * Sends `{"c":"version"}` to the command service.
 * @param base - DS base URL
 * @param placement - where the token goes
 * @param opts - deadline, TLS, cancellation, clock
 * @returns the outcome with the parsed answer and the measured clock skew; never throws
 */
export async function probeVersionCommand(base: string, placement: TokenPlacement, opts: VersionProbeOptions): Promise<VersionProbe> {
  const command = { c: 'version' };
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
  let body: Record<string, unknown> = { ...command };
  const t0 = opts.now();
  if (placement.kind === 'body') body = { ...command, token: signDocsToken(command, placement.secret, t0) };
  if (placement.kind === 'wrong_secret') body = { ...command, token: signDocsToken(command, randomBytes(32).toString('hex'), t0) };
  if (placement.kind === 'header') headers[placement.header] = `Bearer ${signDocsToken({ payload: command }, placement.secret, t0)}`;
  const outcome = await probeHttp(endpoint(base, COMMAND_PATH), {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    timeoutMs: opts.timeoutMs,
    tls: opts.tls,
    signal: opts.signal,
    ...(opts.setting ? { setting: opts.setting } : {}),
  });
  const t1 = opts.now();
  if (!outcome.ok) return { placement: placement.kind, outcome, answer: null, skewMs: null };
  return { placement: placement.kind, outcome, answer: parseCommandAnswer(outcome), skewMs: measureSkewMs(outcome.headers.date, t0, t1) };
}
