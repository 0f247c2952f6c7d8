/**
 * Can DocumentServer reach the bridge, and do its tokens verify there? DS is asked for a conversion
 * (`POST /ConvertService.ashx`, the token in the body as in capture `30`) whose source is a one-time probe URL of
 * the bridge, `{PUBLIC_URL}/probe/<id>`. DS's FileConverter downloads it with its outbox token in the outbox header
 * (`Authorization: Bearer …` by default, capture `c30`; another name when `token.outbox.header` is set, `c83`).
 * The probe endpoint (probe/probeRouter.ts, on whichever instance the request reaches) records what arrived in the
 * state store; this check then tells apart:
 * - nothing arrived: DS answered `-4` (download failed — refused, DNS, TLS, DS's private-IP filter, HTTP error all
 *   look the same, captures `84`, `85`, `87`), or DS did not answer in time;
 * - arrived without a token (outbox JWT off on DS, or a proxy stripping `Authorization`), with the token in another
 *   header (outbox header name differs from `DOCS_JWT_HEADER`), with a token that does not verify (outbox secret
 *   differs), or with an expired one (clock skew);
 * - arrived and verified.
 * DS refusing the conversion request itself (`-8`, the ipfilter, not DS at all) means the question could not be
 * asked: that is a `fail` too, saying why.
 */
import jwt from 'jsonwebtoken';
import { measureCheck, type CheckOutcome, type CheckResult } from './CheckResult.js';
import { DEFAULT_JWT_HEADER, LOCAL_JSON, RESTART_DS, SETTING, type CheckOptions, type DocsChecksConfig } from './ChecksConfig.js';
import { msg, type CheckMessages } from './checkMessages.js';
import { formatMs } from './classifyTransportError.js';
import { convertErrorMeaning, parseConvertAnswer, type ConvertAnswer } from './docServiceAnswers.js';
import { displayUrl, endpoint, parseHttpUrl } from './docsUrls.js';
import { transportFail, unexpectedAnswer } from './explainAnswer.js';
import { isTransportFailure, probeHttp, resolveTls, type ProbeOutcome } from './probeHttp.js';
import type { ProbeArrival, ProbeRecord, ProbeRecords } from './probe/ProbeRecords.js';
import { signDocsToken } from './versionCommand.js';

export const DOCS_REACHES_BRIDGE_ID = 'docs_reaches_bridge';

/** The conversion endpoint (served by every DS version; `/converter` only since 7.x). */
export const CONVERT_PATH = '/ConvertService.ashx';

/**
 * Extra time DS gets beyond DOCS_TIMEOUT_MS: a failed download is tried 3 times 1 s apart (`downloadAttemptMaxCount`,
 * `downloadAttemptDelay`), so a `-4` comes after about 4 s (captures `84`, `85`, `87`).
 */
export const DS_DOWNLOAD_RETRY_MS = 6000;

/** How the token DS sent to the probe was judged (`data.token`). */
export type ProbeTokenVerdict = 'verified' | 'bad_signature' | 'expired' | 'malformed' | 'none';

/** The verdict in `data.reach`. */
export type ReachState =
  | 'verified'
  | 'arrived_unsigned'
  | 'arrived_unverifiable'
  | 'no_token'
  | 'header_mismatch'
  | 'bad_token'
  | 'expired_token'
  | 'not_arrived'
  | 'other_server'
  | 'not_asked';

/** What {@link decideReachesBridge} looks at. */
export interface ReachEvidence {
  /** The probe URL as shown (no id: `…/probe/<id>`). */
  probeUrl: string;
  /** PUBLIC_URL. */
  bridgeUrl: string;
  /** The header the bridge reads DS's tokens from (DOCS_JWT_HEADER). */
  header: string;
  secretConfigured: boolean;
  /** The conversion request's outcome. */
  convert: ProbeOutcome;
  /** Its parsed answer (null when there was none or it was garbage). */
  answer: ConvertAnswer | null;
  /** The requests that reached the probe, each with its token verdict in the configured header. */
  arrivals: Array<{ arrival: ProbeArrival; verdict: ProbeTokenVerdict; otherHeaders: string[] }>;
  /** Our own deadline of the conversion request (for the message). */
  timeoutMs: number;
}

/** Input of the check: the DS settings plus where probe records live. */
export interface ReachesBridgeInput extends DocsChecksConfig {
  /** Probe records over the running bridge's state store; null = not available (the check is skipped). */
  probes: ProbeRecords | null;
}

/**
 * Runs the check.
 * @param cfg - DS settings (`internalUrl`, `bridgeUrl`, `jwtSecret`, `jwtHeader`, TLS, `timeoutMs`) and the probe records
 * @param opts - cancellation
 * @returns ok (arrived, token verified; or arrived unsigned where neither side uses a secret), warn (arrived with a
 *   token the bridge cannot verify because it has no secret), fail (nothing arrived, no token, token in another
 *   header, token does not verify or expired, DS refused the conversion request, DS or something else answered
 *   garbage, transport failures), skipped (no DS, no PUBLIC_URL, no state store)
 */
export function checkDocsReachesBridge(cfg: ReachesBridgeInput, opts: CheckOptions = {}): Promise<CheckResult> {
  return measureCheck(DOCS_REACHES_BRIDGE_ID, () => reachesBridge(cfg, opts), cfg.now);
}

/** Time limit of the whole check (ms): the conversion request's deadline plus the state store's round trips. */
export function reachesBridgeTimeoutMs(timeoutMs: number): number {
  return timeoutMs + DS_DOWNLOAD_RETRY_MS + 2000;
}

async function reachesBridge(cfg: ReachesBridgeInput, opts: CheckOptions): Promise<CheckOutcome> {
  const id = DOCS_REACHES_BRIDGE_ID;
  const base = parseHttpUrl(cfg.internalUrl);
  if (!base) {
    return { id, status: 'skipped', summary: 'No usable DocumentServer address is configured (see the reachability check).', messages: { summary: msg('no_docs_url') } };
  }
  const bridge = parseHttpUrl(cfg.bridgeUrl);
  if (!bridge) {
    return {
      id,
      status: 'skipped',
      summary: `The bridge's public URL (${SETTING.bridgeUrl}) is not set, so there is no address DocumentServer could be asked to fetch.`,
      fix: `Set ${SETTING.bridgeUrl} to the address under which DocumentServer reaches the bridge.`,
      messages: { summary: msg('reach_no_public_url', { setting: SETTING.bridgeUrl }), fix: msg('reach_no_public_url_fix', { setting: SETTING.bridgeUrl }) },
    };
  }
  if (cfg.probes === null) {
    return {
      id,
      status: 'skipped',
      summary: "Not run here: it needs the bridge's state store, where the probe endpoint records what arrives.",
      fix: 'Run it from the admin page, or from `wopi-bridge check` on the bridge\'s host (same DATA_DIR or REDIS_URL).',
      messages: { summary: msg('reach_no_state'), fix: msg('reach_no_state_fix') },
    };
  }
  const tls = await resolveTls(cfg);
  if (isTransportFailure(tls)) return transportFail(id, tls, 'TLS settings');

  const bridgeUrl = bridge.toString().replace(/\/+$/, '');
  let probe: { id: string; url: string };
  try {
    probe = await cfg.probes.create(bridgeUrl);
  } catch {
    return {
      id,
      status: 'fail',
      summary: "The bridge's state store does not answer, so no probe could be set up.",
      fix: 'See the bridge log and /readyz: with REDIS_URL, Redis must be reachable; otherwise DATA_DIR must be writable.',
      messages: { summary: msg('reach_state_down'), fix: msg('reach_state_down_fix') },
    };
  }
  const secret = cfg.jwtSecret || null;
  const now = cfg.now ?? Date.now;
  const request = { async: false, filetype: 'txt', key: `probe-${probe.id}`, outputtype: 'docx', title: 'wopi-bridge-probe.txt', url: probe.url };
  const body = secret ? { ...request, token: signDocsToken(request, secret, now()) } : request;
  const timeoutMs = cfg.timeoutMs + DS_DOWNLOAD_RETRY_MS;
  const convert = await probeHttp(endpoint(base.toString(), CONVERT_PATH), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
    timeoutMs,
    tls,
    signal: opts.signal,
  });
  let record: ProbeRecord | null = null;
  try {
    record = await cfg.probes.take(probe.id);
  } catch {
    // as if nothing arrived: the answer of DS still tells a lot
  }
  const header = cfg.jwtHeader || DEFAULT_JWT_HEADER;
  const arrivals = (record?.arrivals ?? []).map((arrival) => judgeArrival(arrival, secret, header, probe.url, now()));
  return decideReachesBridge({
    probeUrl: `${displayUrl(bridgeUrl)}/probe/<id>`,
    bridgeUrl: displayUrl(bridgeUrl),
    header,
    secretConfigured: secret !== null,
    convert,
    answer: convert.ok ? parseConvertAnswer(convert) : null,
    arrivals,
    timeoutMs,
  });
}

/**
 * Judges the token of one arrival: the one in the configured header, verified with the bridge's secret the way DS
 * signs outbox tokens (HS256, `{payload:{url}}`, `exp` = `iat` + 5 min). DS's tokens carry no audience, so none
 * is required; the URL in the payload must be the probe's.
 */
export function judgeArrival(
  arrival: ProbeArrival,
  secret: string | null,
  header: string,
  probeUrl: string,
  nowMs: number,
): { arrival: ProbeArrival; verdict: ProbeTokenVerdict; otherHeaders: string[] } {
  const wanted = header.toLowerCase();
  const mine = arrival.tokens.find((t) => t.header === wanted);
  const otherHeaders = [...new Set(arrival.tokens.filter((t) => t.header !== wanted).map((t) => t.header))];
  if (!mine) return { arrival, verdict: 'none', otherHeaders };
  if (secret === null) return { arrival, verdict: 'malformed', otherHeaders };
  let verdict: ProbeTokenVerdict;
  try {
    const claims = jwt.verify(mine.token, secret, { algorithms: ['HS256'], clockTimestamp: Math.floor(nowMs / 1000), clockTolerance: 60, maxAge: '1h' });
    const url = typeof claims === 'object' && claims !== null ? ((claims as { payload?: { url?: unknown } }).payload?.url ?? (claims as { url?: unknown }).url) : undefined;
    verdict = url === undefined || url === probeUrl ? 'verified' : 'bad_signature';
  } catch (e) {
    verdict = e instanceof jwt.TokenExpiredError ? 'expired' : e instanceof jwt.JsonWebTokenError && /malformed|invalid token|jwt must/i.test(e.message) ? 'malformed' : 'bad_signature';
  }
  return { arrival, verdict, otherHeaders };
}

/** Where the page and the fixes point: the curl to run on the DS host. */
function curlHint(probeUrl: string): string {
  return `From the DocumentServer host (or inside its container: \`docker exec <ds-container> curl -sv ${probeUrl}\`) the probe URL must answer`;
}

const REACH_CAUSES = [
  'DNS: the host name of the bridge must resolve on DocumentServer\'s side (inside a container: its network and /etc/hosts)',
  'network: a firewall or a container network between DS and the bridge',
  `DS's private-IP filter: when the bridge's address is private (10.x, 172.16–31.x, 192.168.x, 127.x), merge {"services":{"CoAuthoring":{"request-filtering-agent":{"allowPrivateIPAddress":true}}}} into ${LOCAL_JSON}`,
  `TLS on DS's side: a self-signed or private-CA certificate of the bridge is refused — merge {"services":{"CoAuthoring":{"requestDefaults":{"rejectUnauthorized":false}}}} into ${LOCAL_JSON} (Docker: -e USE_UNAUTHORIZED_STORAGE=true), or give DS the CA (NODE_EXTRA_CA_CERTS)`,
  `the bridge itself: it must run and answer at ${SETTING.bridgeUrl}, and a proxy in front of it must pass /probe/ through`,
];

/**
 * The verdict (pure: unit-tested on each combination).
 * @param e - the conversion's outcome and what reached the probe
 */
export function decideReachesBridge(e: ReachEvidence): CheckOutcome {
  const id = DOCS_REACHES_BRIDGE_ID;
  const convertError = e.answer?.kind === 'error' ? e.answer.error : null;
  const data = (reach: ReachState, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    reach,
    probeUrl: e.probeUrl,
    header: e.header,
    arrivals: e.arrivals.length,
    convertError,
    ...extra,
  });
  const result = (status: CheckOutcome['status'], reach: ReachState, summary: string, messages: CheckMessages, rest: { detail?: string; fix?: string; extra?: Record<string, unknown> } = {}): CheckOutcome => ({
    id,
    status,
    summary,
    ...(rest.detail !== undefined ? { detail: rest.detail } : {}),
    ...(rest.fix !== undefined ? { fix: rest.fix } : {}),
    data: data(reach, rest.extra),
    messages,
  });

  // 1. Something arrived: its token decides.
  if (e.arrivals.length > 0) {
    const verified = e.arrivals.find((a) => a.verdict === 'verified');
    const last = e.arrivals[e.arrivals.length - 1] as ReachEvidence['arrivals'][number];
    const n = e.arrivals.length;
    const p = { url: e.probeUrl, header: e.header, setting: SETTING.jwtSecret, headerSetting: SETTING.jwtHeader, count: n };
    if (!e.secretConfigured) {
      if (last.arrival.tokens.length === 0) {
        return result('ok', 'arrived_unsigned', `DocumentServer reached the bridge at ${e.probeUrl}; neither side signs these requests (no JWT secret).`, {
          summary: msg('reach_ok_unsigned', p),
        });
      }
      return result(
        'warn',
        'arrived_unverifiable',
        `DocumentServer reached the bridge at ${e.probeUrl} and signed its request, but the bridge has no JWT secret (${SETTING.jwtSecret}) to verify it.`,
        { summary: msg('reach_unverifiable', p), fix: msg('reach_unverifiable_fix', p) },
        { fix: `Set ${SETTING.jwtSecret} to DocumentServer's secret (services.CoAuthoring.secret.outbox.string in ${LOCAL_JSON}).` },
      );
    }
    if (verified) {
      return result('ok', 'verified', `DocumentServer reached the bridge at ${e.probeUrl}, and its token in the ${e.header} header verified with the bridge's secret.`, {
        summary: msg('reach_ok', p),
      });
    }
    const detail = `${n} request${n > 1 ? 's' : ''} reached ${e.probeUrl} (DS tries a failed download 3 times); User-Agent "${last.arrival.userAgent}".`;
    if (last.verdict === 'expired') {
      return result(
        'fail',
        'expired_token',
        `DocumentServer reached the bridge, but its token had already expired when it arrived: the clocks of DS and the bridge differ.`,
        { summary: msg('reach_expired'), detail: msg('reach_detail', p), fix: msg('ntp_fix') },
        {
          detail,
          fix: "Synchronise both clocks with NTP (`timedatectl set-ntp true`, or chrony/ntpd) on the DocumentServer host and on the bridge's host; containers use their host's clock.",
        },
      );
    }
    if (last.verdict === 'bad_signature' || last.verdict === 'malformed') {
      return result(
        'fail',
        'bad_token',
        `DocumentServer reached the bridge, but its token in the ${e.header} header does not verify with the bridge's secret: DS's outbox secret differs.`,
        { summary: msg('reach_bad_token', p), detail: msg('reach_detail', p), fix: msg('reach_bad_token_fix', p) },
        {
          detail,
          fix:
            `Use one secret on both sides: DS signs its downloads and callbacks with services.CoAuthoring.secret.outbox.string in ${LOCAL_JSON} ` +
            `(the Docker image's JWT_SECRET sets inbox, outbox and browser alike); it must equal ${SETTING.jwtSecret}, ${RESTART_DS}.`,
        },
      );
    }
    const others = last.otherHeaders;
    if (others.length > 0) {
      const other = others[0] as string;
      return result(
        'fail',
        'header_mismatch',
        `Header name mismatch: DocumentServer sends its token in the ${other} header, but the bridge reads ${e.header} (${SETTING.jwtHeader}).`,
        { summary: msg('reach_header_mismatch', { ...p, other }), detail: msg('reach_detail', p), fix: msg('reach_header_mismatch_fix', { ...p, other }) },
        {
          detail,
          fix:
            `Set ${SETTING.jwtHeader} to ${other}, or make DS use ${e.header}: merge {"services":{"CoAuthoring":{"token":{"outbox":{"header":"${e.header}"}}}}} ` +
            `into ${LOCAL_JSON} (Docker: JWT_HEADER), ${RESTART_DS}.`,
          extra: { dsHeader: other },
        },
      );
    }
    return result(
      'fail',
      'no_token',
      `DocumentServer reached the bridge, but its request carried no token${last.arrival.hasAuthorization ? ` in the ${e.header} header` : ''}: DS does not sign its downloads, or a proxy removes the ${e.header} header.`,
      { summary: msg('reach_no_token', p), detail: msg('reach_detail', p), fix: msg('reach_no_token_fix', p) },
      {
        detail,
        fix:
          `Turn on DS's outbox tokens: merge {"services":{"CoAuthoring":{"token":{"enable":{"request":{"outbox":true}}}}}} into ${LOCAL_JSON}, ${RESTART_DS}. ` +
          `If they are on, a reverse proxy in front of the bridge drops the ${e.header} header: make it pass the header through ` +
          '(Apache: `SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1`; nginx passes it unless `proxy_set_header Authorization ""` is set).',
      },
    );
  }

  // 2. Nothing arrived: why DS did not come.
  if (!e.convert.ok) {
    if (e.convert.failure.kind === 'timeout') {
      return result(
        'fail',
        'not_arrived',
        `No request reached the bridge at ${e.probeUrl}, and DocumentServer did not answer the conversion request within ${formatMs(e.timeoutMs)}.`,
        { summary: msg('reach_timeout', { url: e.probeUrl, time: formatMs(e.timeoutMs) }), detail: msg('reach_causes'), fix: msg('reach_not_arrived_fix', { url: e.probeUrl }) },
        {
          detail: `A DS whose download hangs (a firewall dropping packets) answers late; the reachability check shows whether DS itself answers. Possible causes: ${REACH_CAUSES.join('; ')}.`,
          fix: `${curlHint(e.probeUrl)}; see the possible causes above.`,
          extra: { transport: 'timeout' },
        },
      );
    }
    const out = transportFail(id, e.convert.failure, `POST ${e.convert.url}`);
    return { ...out, data: { ...data('not_asked'), ...(out.data ?? {}) } };
  }
  if (e.answer === null) {
    const out = unexpectedAnswer(id, e.convert, 'JSON {"error":N} or {"endConvert":true}', CONVERT_PATH);
    return {
      ...out,
      summary: `DocumentServer could not be asked to fetch the probe, because ${out.summary.charAt(0).toLowerCase()}${out.summary.slice(1)}`,
      data: { ...data('not_asked'), ...(out.data ?? {}) },
      // the page shows the cause (translated) without the English lead-in
      ...(out.messages ? { messages: out.messages } : {}),
    };
  }
  if (convertError === -8) {
    return result(
      'fail',
      'not_asked',
      'DocumentServer refused the conversion request with error -8 (invalid token), so it never tried to fetch the probe.',
      { summary: msg('reach_refused_token'), fix: msg('reach_refused_token_fix', { setting: SETTING.jwtSecret }) },
      {
        fix: e.secretConfigured
          ? `The secrets differ: see the JWT secret check, and set ${SETTING.jwtSecret} to DocumentServer's inbox secret.`
          : `DocumentServer requires a token: set ${SETTING.jwtSecret} to its secret (see the JWT secret check).`,
      },
    );
  }
  if (convertError === -4) {
    return result(
      'fail',
      'not_arrived',
      `DocumentServer cannot reach the bridge: it answered error -4 (download failed) and no request arrived at ${e.probeUrl}.`,
      { summary: msg('reach_not_arrived', { url: e.probeUrl }), detail: msg('reach_causes'), fix: msg('reach_not_arrived_fix', { url: e.probeUrl }) },
      {
        detail: `DS answers -4 alike for a refused connection, a DNS failure, a TLS failure, its private-IP filter and an HTTP error (after 3 tries). Possible causes: ${REACH_CAUSES.join('; ')}.`,
        fix: `${curlHint(e.probeUrl)} with "wopi-bridge probe: …" (try it with any id of 32 hex digits); see the possible causes above.`,
      },
    );
  }
  if (convertError === null || convertError === 0 || convertError === -3) {
    // DS fetched something (the conversion started or ended) but no bridge sharing this state store saw it.
    return result(
      'fail',
      'other_server',
      `DocumentServer fetched ${e.probeUrl}, but no bridge sharing this one's state recorded the request: ${SETTING.bridgeUrl} leads to another server or to an instance with its own state.`,
      { summary: msg('reach_other_server', { url: e.probeUrl, setting: SETTING.bridgeUrl }), fix: msg('reach_other_server_fix', { setting: SETTING.bridgeUrl }) },
      {
        detail: convertError === null ? 'DS reported the conversion as done.' : `DS answered error ${convertError} (${convertErrorMeaning(convertError)}) after downloading the file.`,
        fix: `Point ${SETTING.bridgeUrl} at this bridge; several instances behind a load balancer must share one state store (set REDIS_URL on every instance).`,
      },
    );
  }
  return result(
    'fail',
    'not_asked',
    `DocumentServer answered the conversion request with error ${convertError} (${convertErrorMeaning(convertError)}), and no request reached the bridge.`,
    { summary: msg('reach_convert_error', { code: convertError, meaning: convertErrorMeaning(convertError) }), fix: msg('ds_log_fix') },
    { fix: "Look at DocumentServer's converter log (/var/log/onlyoffice/documentserver/converter/out.log) at the time of this check." },
  );
}
