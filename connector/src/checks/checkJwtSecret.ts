/**
 * Does DocumentServer accept the bridge's JWT secret, and does it require one? Probes the command service's
 * `{"c":"version"}` at once with:
 * - a body token signed with the configured secret (the way that works whatever DS's header name is);
 * - the same token only in the configured header (a custom `token.inbox.header` on DS makes this one fail with 6
 *   while the body token passes — captures `80`–`82` — the mismatch the connectors' check cannot see);
 * - a body token signed with a random secret (error 0 = DS does not check tokens, captures `77`–`79`);
 * - without a secret configured: no token at all.
 * Error 6 = invalid token, 7 = expired (DS's clock ahead of the bridge's by more than the token's 5 minutes plus DS's
 * 60 s tolerance, capture `93`); the skew is measured from DS's `Date` header.
 */
import { measureCheck, type CheckOutcome, type CheckResult } from './CheckResult.js';
import { msg, type CheckMessages } from './checkMessages.js';
import { DEFAULT_JWT_HEADER, LOCAL_JSON, RESTART_DS, SETTING, type CheckOptions, type DocsChecksConfig } from './ChecksConfig.js';
import { commandErrorMeaning } from './docServiceAnswers.js';
import { parseHttpUrl } from './docsUrls.js';
import { transportFail, unexpectedAnswer } from './explainAnswer.js';
import { inboxHeaderFix, jwtEnableFix, readDsSecretHint } from './localJsonSnippets.js';
import { isTransportFailure, resolveTls } from './probeHttp.js';
import { COMMAND_PATH, DS_CLOCK_TOLERANCE_S, PROBE_TOKEN_LIFETIME_S, probeVersionCommand, type VersionProbe } from './versionCommand.js';

export const JWT_SECRET_ID = 'jwt_secret';

/** Shorter HS256 secrets are refused by some JWT libraries (php-jwt ≥ 7: onlyoffice-nextcloud#1187) and guessable. */
export const MIN_SECRET_BYTES = 32;

/** Clock skew worth a warning even while tokens still pass (a third of the probe token's lifetime). */
export const SKEW_WARN_S = 120;

/**
 * The JWT verdict in `data.jwt`: `match`, `mismatch` and `not_configured` as the admin page shows them, plus the
 * finer causes.
 */
export type JwtState =
  | 'match'
  | 'mismatch'
  | 'not_configured'
  | 'header_mismatch'
  | 'clock_skew'
  | 'not_enforced'
  | 'ds_requires_token'
  | 'unknown';

/** What {@link decideJwt} looks at: the probes made (by placement) and the secret's facts (never the secret). */
export interface JwtEvidence {
  /** Bytes of the configured secret (UTF-8); 0 = none configured. */
  secretBytes: number;
  /** The header the bridge sends the token in. */
  header: string;
  body?: VersionProbe;
  headerOnly?: VersionProbe;
  wrongSecret?: VersionProbe;
  unsigned?: VersionProbe;
}

/**
 * Runs the JWT probes against DS's command service.
 * @param cfg - `internalUrl`, `jwtSecret`, `jwtHeader`, TLS, `timeoutMs`, `now`
 * @param opts - cancellation
 * @returns ok (secret matches and DS enforces tokens), warn (DS does not check tokens; secret shorter than 32 bytes;
 *   clocks more than 2 minutes apart), fail (mismatch, expired token = clock skew, header-name mismatch, DS requires
 *   a token the bridge does not have, DS refuses or does not answer), skipped (no usable DS address)
 */
export function checkJwtSecret(cfg: DocsChecksConfig, opts: CheckOptions = {}): Promise<CheckResult> {
  return measureCheck(JWT_SECRET_ID, () => jwtSecret(cfg, opts), cfg.now);
}

async function jwtSecret(cfg: DocsChecksConfig, opts: CheckOptions): Promise<CheckOutcome> {
  const id = JWT_SECRET_ID;
  const base = parseHttpUrl(cfg.internalUrl);
  if (!base) return { id, status: 'skipped', summary: 'No usable DocumentServer address is configured (see the reachability check).' };
  const tls = await resolveTls(cfg);
  if (isTransportFailure(tls)) return transportFail(id, tls, 'TLS settings');
  const probeOpts = { timeoutMs: cfg.timeoutMs, tls, signal: opts.signal, now: cfg.now ?? Date.now };
  const url = base.toString();
  const secret = cfg.jwtSecret || null;
  const header = cfg.jwtHeader || DEFAULT_JWT_HEADER;
  if (!secret) {
    const unsigned = await probeVersionCommand(url, { kind: 'none' }, probeOpts);
    return decideJwt({ secretBytes: 0, header, unsigned });
  }
  const [body, headerOnly, wrongSecret] = await Promise.all([
    probeVersionCommand(url, { kind: 'body', secret }, probeOpts),
    probeVersionCommand(url, { kind: 'header', secret, header }, probeOpts),
    probeVersionCommand(url, { kind: 'wrong_secret' }, probeOpts),
  ]);
  return decideJwt({ secretBytes: Buffer.byteLength(secret, 'utf8'), header, body, headerOnly, wrongSecret });
}

function skewOf(e: JwtEvidence): number | null {
  for (const p of [e.body, e.headerOnly, e.wrongSecret, e.unsigned]) if (p?.skewMs !== null && p?.skewMs !== undefined) return p.skewMs;
  return null;
}

/** Lower-cases a leading article (`A proxy…` → `a proxy…`), never a name such as DocumentServer. */
function lowerFirst(s: string): string {
  return /^(A|An|The|No|Some) /.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s;
}

/** `DS's clock is 10 min 3 s ahead of the bridge's`. */
export function describeSkew(skewMs: number): string {
  const s = Math.round(Math.abs(skewMs) / 1000);
  if (s < 2) return 'the clocks of DocumentServer and the bridge agree (within the second)';
  const text = s >= 60 ? `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}` : `${s} s`;
  return `DocumentServer's clock is ${text} ${skewMs > 0 ? 'ahead of' : 'behind'} the bridge's`;
}

const NTP_FIX = 'Synchronise both clocks with NTP (`timedatectl set-ntp true`, or chrony/ntpd) on the DocumentServer host and on the bridge\'s host; containers use their host\'s clock.';

/**
 * The verdict from the probes (pure: unit-tested on each combination), with its message keys for the page.
 * @param e - probes and the secret's length
 */
export function decideJwt(e: JwtEvidence): CheckOutcome {
  const out = decideJwtText(e);
  if (out.messages) return out; // transport failures and odd answers bring their own
  return { ...out, messages: jwtMessages(out, e) };
}

/** The message keys of a verdict of {@link decideJwtText}, told apart by status and `data`. */
function jwtMessages(out: CheckOutcome, e: JwtEvidence): CheckMessages {
  const d = out.data ?? {};
  const skewMs = skewOf(e);
  const skew = { seconds: skewMs === null ? '?' : Math.round(Math.abs(skewMs) / 1000), setting: SETTING.jwtSecret, header: e.header, headerSetting: SETTING.jwtHeader, localJson: LOCAL_JSON };
  const ahead = skewMs !== null && skewMs > 0;
  const snippet = { ...skew, snippet: snippetOf(out.fix ?? '') };
  switch (d.jwt) {
    case 'not_configured':
      return { summary: msg('jwt_insecure_none'), fix: msg('jwt_enable_fix', snippet) };
    case 'ds_requires_token':
      return { summary: msg('jwt_ds_requires', skew), fix: msg('jwt_ds_requires_fix', skew) };
    case 'clock_skew':
      return { summary: msg(skewMs === null ? 'jwt_expired' : 'jwt_expired_skew', { ...skew, direction: ahead ? 'ahead' : 'behind' }), fix: msg('ntp_fix') };
    case 'mismatch':
      return { summary: msg('jwt_mismatch'), fix: msg('jwt_mismatch_fix', skew) };
    case 'not_enforced':
      return { summary: msg('jwt_not_enforced'), fix: msg('jwt_enable_fix', snippet) };
    case 'header_mismatch':
      return { summary: msg('jwt_header_mismatch', skew), fix: msg('jwt_header_mismatch_fix', snippet) };
    case 'match':
      if (out.status === 'ok') return { summary: msg('jwt_ok', skew) };
      if (typeof d.secretBytes === 'number') return { summary: msg('jwt_short', { bytes: d.secretBytes, min: MIN_SECRET_BYTES }), fix: msg('jwt_short_fix', skew) };
      return { summary: msg('jwt_skew', { ...skew, direction: ahead ? 'ahead' : 'behind' }), fix: msg('ntp_fix') };
    default:
      return {
        summary: msg('jwt_unexpected', { code: typeof d.commandError === 'number' ? d.commandError : '?' }),
        fix: msg('ds_docservice_log_fix'),
      };
  }
}

/** The JSON snippet of a fix text (the first block from a line starting with `{` to a line `}`); '' without one. */
export function snippetOf(text: string): string {
  const m = /(^|\n)(\{\n[\s\S]*?\n\})(\n|$)/.exec(text);
  return m?.[2] ?? '';
}

function decideJwtText(e: JwtEvidence): CheckOutcome {
  const id = JWT_SECRET_ID;
  const skewMs = skewOf(e);
  const skewS = skewMs === null ? null : Math.round(skewMs / 1000);
  const data = (jwt: JwtState, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    jwt,
    header: e.header,
    secretConfigured: e.secretBytes > 0,
    clockSkewSeconds: skewS,
    ...extra,
  });

  // Whatever did not answer as a command service decides first: nothing else can be concluded.
  for (const p of [e.body, e.headerOnly, e.wrongSecret, e.unsigned]) {
    if (!p) continue;
    if (!p.outcome.ok) {
      const out = transportFail(id, p.outcome.failure, `POST ${p.outcome.url} {"c":"version"}`);
      return { ...out, data: { ...data('unknown'), ...(out.data ?? {}) } };
    }
    if (!p.answer) {
      const out = unexpectedAnswer(id, p.outcome, 'JSON {"error":N}', COMMAND_PATH);
      return { ...out, summary: `The JWT secret cannot be checked, because ${lowerFirst(out.summary)}`, data: { ...data('unknown'), ...(out.data ?? {}) } };
    }
  }
  const code = (p: VersionProbe | undefined): number | undefined => p?.answer?.error;
  const unexpected = (p: VersionProbe, what: string): CheckOutcome => ({
    id,
    status: 'fail',
    summary: `DocumentServer answered ${what} with error ${code(p)} (${commandErrorMeaning(code(p) ?? -1)}), which no token problem explains.`,
    detail: 'Error 6 (invalid token) and 7 (token expired) are the token errors; this one comes from DS itself.',
    fix: 'Look at DocService\'s log (/var/log/onlyoffice/documentserver/docservice/out.log) at the time of this check.',
    data: data('unknown', { commandError: code(p) }),
  });

  if (e.secretBytes === 0) {
    const u = e.unsigned;
    if (!u) throw new Error('decideJwt: without a secret the unsigned probe is required');
    if (code(u) === 0) {
      return {
        id,
        status: 'warn',
        summary: 'Insecure: neither the bridge nor DocumentServer use a JWT secret — DS accepts requests without any token.',
        detail: 'Anyone who can reach DocumentServer can send it commands and conversions. Since version 7.2 DS requires tokens by default; this one has them switched off.',
        fix: jwtEnableFix(),
        data: data('not_configured', { dsRequiresToken: false }),
      };
    }
    if (code(u) === 6) {
      return {
        id,
        status: 'fail',
        summary: `DocumentServer requires a token, but the bridge has no JWT secret (${SETTING.jwtSecret} is not set): DS rejects every request of the bridge.`,
        detail: 'The command service answered error 6 (invalid token) to a request without a token.',
        fix: `Set ${SETTING.jwtSecret} to DocumentServer's secret. ${readDsSecretHint()}.`,
        data: data('ds_requires_token', { dsRequiresToken: true }),
      };
    }
    return unexpected(u, 'a request without a token');
  }

  const body = e.body;
  const headerOnly = e.headerOnly;
  const wrong = e.wrongSecret;
  if (!body || !headerOnly || !wrong) throw new Error('decideJwt: with a secret the body, header and wrong-secret probes are required');
  const shortSecret = e.secretBytes < MIN_SECRET_BYTES;
  const shortNote = shortSecret
    ? ` The secret is also short: ${e.secretBytes} bytes, less than the ${MIN_SECRET_BYTES} HS256 needs (generate one with \`openssl rand -hex 32\`).`
    : '';

  if (code(body) === 7 || code(headerOnly) === 7) {
    return {
      id,
      status: 'fail',
      summary: `DocumentServer rejects the bridge's tokens as expired (error 7): ${skewMs === null ? 'its clock is ahead of the bridge\'s' : describeSkew(skewMs)}.`,
      detail:
        `The bridge's tokens are valid for ${PROBE_TOKEN_LIFETIME_S / 60} minutes and DS tolerates ${DS_CLOCK_TOLERANCE_S} s; ` +
        `a DS clock more than ${(PROBE_TOKEN_LIFETIME_S + DS_CLOCK_TOLERANCE_S) / 60} minutes ahead sees them as expired.` +
        (skewMs === null ? ' DS sent no Date header, so the skew could not be measured.' : ` Measured from DS's Date header: ${skewS} s.`),
      fix: NTP_FIX,
      data: data('clock_skew'),
    };
  }
  if (code(body) === 6) {
    const dsAhead = skewMs !== null && skewMs / 1000 > PROBE_TOKEN_LIFETIME_S + DS_CLOCK_TOLERANCE_S;
    return {
      id,
      status: 'fail',
      summary: `DocumentServer rejects tokens signed with the bridge's secret (error 6, invalid token): the secrets differ.${dsAhead ? ` Besides, ${describeSkew(skewMs)}, which alone expires the tokens.` : ''}`,
      detail:
        'A token signed with the configured secret, sent in the request body (which DS reads whatever its header setting), was refused.' +
        (skewMs === null ? '' : ` ${describeSkew(skewMs)}.`) +
        shortNote,
      fix:
        `Set ${SETTING.jwtSecret} to DocumentServer's inbox secret, or set DS's secrets to the bridge's. ${readDsSecretHint()}. ` +
        `Use one secret for inbox, outbox and browser on DS (services.CoAuthoring.secret.*.string in ${LOCAL_JSON}), ${RESTART_DS}.` +
        (dsAhead ? ` ${NTP_FIX}` : ''),
      data: data('mismatch'),
    };
  }
  if (code(body) !== 0) return unexpected(body, 'a correctly signed request');

  // The secret works in the body. Does DS check tokens at all?
  if (code(wrong) === 0) {
    return {
      id,
      status: 'warn',
      summary: 'Insecure: DocumentServer does not check tokens — it accepted a request signed with a wrong secret (inbox JWT is off).',
      detail:
        'The bridge signs its requests, but DS would take anyone\'s. Whether DS reads the token from the configured header cannot be told while it checks nothing.' +
        shortNote,
      fix: jwtEnableFix(),
      data: data('not_enforced', { dsRequiresToken: false, secretBytes: e.secretBytes }),
    };
  }
  if (code(wrong) !== 6) return unexpected(wrong, 'a request signed with a wrong secret');

  if (code(headerOnly) === 6) {
    return {
      id,
      status: 'fail',
      summary: `Header name mismatch: DocumentServer accepts the bridge's token in the request body but not in the ${e.header} header, so it reads its token from another header.`,
      detail:
        `The same token was accepted in the body (error 0) and refused in "${e.header}: Bearer …" (error 6). ` +
        'DS prefers a body token, which hides this mismatch from body-only checks; requests that carry the token only in the header fail.',
      fix: inboxHeaderFix(e.header),
      data: data('header_mismatch'),
    };
  }
  if (code(headerOnly) !== 0) return unexpected(headerOnly, `a token in the ${e.header} header`);

  if (shortSecret) {
    return {
      id,
      status: 'warn',
      summary: `The JWT secret matches DocumentServer's, but it is only ${e.secretBytes} bytes long (at least ${MIN_SECRET_BYTES} are needed).`,
      detail: 'HS256 keys shorter than 32 bytes can be guessed and are refused by some JWT libraries (php-jwt 7 and later).',
      fix:
        `Generate a new secret with \`openssl rand -hex 32\`, put it in ${LOCAL_JSON} (services.CoAuthoring.secret.inbox/outbox/browser.string) ` +
        `and in ${SETTING.jwtSecret}, ${RESTART_DS}.`,
      data: data('match', { secretBytes: e.secretBytes }),
    };
  }
  if (skewS !== null && Math.abs(skewS) >= SKEW_WARN_S) {
    return {
      id,
      status: 'warn',
      summary: `The JWT secret matches, but ${describeSkew(skewMs as number)}.`,
      detail: `Tokens still pass, but a DS clock more than ${(PROBE_TOKEN_LIFETIME_S + DS_CLOCK_TOLERANCE_S) / 60} minutes ahead makes them expire (error 7), and WOPI proof timestamps are only accepted within 20 minutes.`,
      fix: NTP_FIX,
      data: data('match'),
    };
  }
  return {
    id,
    status: 'ok',
    summary: `The JWT secret matches DocumentServer's, DS requires tokens, and it reads them from the ${e.header} header.`,
    data: data('match', { dsRequiresToken: true }),
  };
}
