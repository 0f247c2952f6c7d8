/**
 * DocumentServer's version, from the command service's `{"c":"version"}` (signed with the configured secret when
 * there is one), else from the `/index.html` banner (no token, no ipfilter), compared with the versions the bridge
 * supports.
 */
import { measureCheck, type CheckOutcome, type CheckResult } from './CheckResult.js';
import { SETTING, type CheckOptions, type DocsChecksConfig } from './ChecksConfig.js';
import { commandErrorMeaning, compareDsVersions, isIpFilterAnswer, parseDsVersion, parseIndexBanner, type DsVersion } from './docServiceAnswers.js';
import { endpoint, parseHttpUrl } from './docsUrls.js';
import { statusText, transportFail, unexpectedAnswer } from './explainAnswer.js';
import { isTransportFailure, preview, probeHttp, resolveTls } from './probeHttp.js';
import { COMMAND_PATH, probeVersionCommand } from './versionCommand.js';
import { msg, type CheckMessage, type MessageParams } from './checkMessages.js';

export const DOCS_VERSION_ID = 'docs_version';

/**
 * Below this, DocumentServer has no WOPI at all ("Starting from version 6.4, ONLYOFFICE Docs offers support for
 * WOPI", api.onlyoffice.com, Using WOPI → Overview): the bridge cannot work → `fail`.
 */
export const WOPI_MIN_DS_VERSION = '6.4';

/**
 * The oldest version the bridge supports; below it → `warn` (editing may work, but not as the bridge expects):
 * - 8.0: DS's editor adds `WOPISrc` to every browser → DS request (Docs API changelog / Using WOPI: "Starting from
 *   version 8.0, the WOPISrc query parameter is added to browser requests"), which lets a load balancer keep every
 *   editor of one document on one node — the cluster behind nginx of the seeds' guide needs it for co-editing;
 * - 7.1: PutFile carries `X-LOOL-WOPI-IsModifiedByUser` / `IsAutosave` / `IsExitSave` (Docs API changelog 7.1),
 *   which the bridge reads (`wopi/wopiHeaders.ts`) to tell autosaves from the final save;
 * - 7.2: JWT on by default with a generated secret, the setup the JWT check's advice is written for.
 * The only version whose answers this project has pinned is 9.3.1 (shared/fixtures/onlyoffice), well above it.
 */
export const MIN_SUPPORTED_DS_VERSION = '8.0';

const WOPI_MIN = parseDsVersion(WOPI_MIN_DS_VERSION) as DsVersion;
const SUPPORTED_MIN = parseDsVersion(MIN_SUPPORTED_DS_VERSION) as DsVersion;

/**
 * Reads DS's version and compares it with {@link MIN_SUPPORTED_DS_VERSION} and {@link WOPI_MIN_DS_VERSION}.
 * @param cfg - `internalUrl`, `jwtSecret`, TLS, `timeoutMs`
 * @param opts - cancellation
 * @returns ok (≥ 8.0), warn (6.4 ≤ v < 8.0, or a version string the bridge cannot read), fail (< 6.4, or the version
 *   cannot be learned: unreachable, refused, not DocumentServer), skipped (no usable DS address)
 */
export function checkDocsVersion(cfg: DocsChecksConfig, opts: CheckOptions = {}): Promise<CheckResult> {
  return measureCheck(DOCS_VERSION_ID, () => version(cfg, opts), cfg.now);
}

/**
 * The verdict on a version (pure).
 * @param text - the version as DS reported it
 * @param source - where it was read
 * @param note - what else the admin should know (e.g. why the command service did not answer)
 */
export function judgeDsVersion(text: string, source: 'command service' | '/index.html', note?: string, noteMessage?: CheckMessage): CheckOutcome {
  const id = DOCS_VERSION_ID;
  const data = { version: text, source, minimumSupported: MIN_SUPPORTED_DS_VERSION, wopiMinimum: WOPI_MIN_DS_VERSION };
  const v = parseDsVersion(text);
  const noted = note ? { detail: note } : {};
  const p = { version: text, min: MIN_SUPPORTED_DS_VERSION, wopiMin: WOPI_MIN_DS_VERSION };
  const notedMessage = noteMessage ? { detail: noteMessage } : {};
  const upgrade = msg('version_upgrade_fix', p);
  if (!v) {
    return {
      id,
      status: 'warn',
      summary: `DocumentServer reports the version "${text}", which the bridge cannot read.`,
      fix: `Make sure the address is an ONLYOFFICE DocumentServer ${MIN_SUPPORTED_DS_VERSION} or later.`,
      ...noted,
      data,
      messages: { summary: msg('version_unreadable', p), fix: msg('version_unreadable_fix', p), ...notedMessage },
    };
  }
  if (compareDsVersions(v, WOPI_MIN) < 0) {
    return {
      id,
      status: 'fail',
      summary: `DocumentServer ${text} is too old: WOPI exists only since ${WOPI_MIN_DS_VERSION}, so the bridge cannot work with it.`,
      fix: `Upgrade DocumentServer to ${MIN_SUPPORTED_DS_VERSION} or later (the bridge is tested with 9.3).`,
      ...noted,
      data,
      messages: { summary: msg('version_no_wopi', p), fix: upgrade, ...notedMessage },
    };
  }
  if (compareDsVersions(v, SUPPORTED_MIN) < 0) {
    return {
      id,
      status: 'warn',
      summary: `DocumentServer ${text} is older than ${MIN_SUPPORTED_DS_VERSION}, the oldest version the bridge supports.`,
      detail:
        `${note ? `${note} ` : ''}Before 8.0 the editor does not add WOPISrc to its requests, so a load-balanced cluster cannot keep the editors ` +
        'of one document on one node; before 7.1 saves do not say whether they are autosaves or the final save.',
      fix: `Upgrade DocumentServer to ${MIN_SUPPORTED_DS_VERSION} or later (the bridge is tested with 9.3).`,
      data,
      messages: { summary: msg('version_old', p), detail: msg('version_old_detail'), fix: upgrade },
    };
  }
  return { id, status: 'ok', summary: `DocumentServer ${text} (supported: ${MIN_SUPPORTED_DS_VERSION} or later).`, ...noted, data, messages: { summary: msg('version_ok', p), ...notedMessage } };
}

async function version(cfg: DocsChecksConfig, opts: CheckOptions): Promise<CheckOutcome> {
  const id = DOCS_VERSION_ID;
  const base = parseHttpUrl(cfg.internalUrl);
  if (!base) {
    return { id, status: 'skipped', summary: 'No usable DocumentServer address is configured (see the reachability check).', messages: { summary: msg('no_docs_url') } };
  }
  const tls = await resolveTls(cfg);
  if (isTransportFailure(tls)) return transportFail(id, tls, 'TLS settings');
  const now = cfg.now ?? Date.now;
  const secret = cfg.jwtSecret || null;
  const probe = await probeVersionCommand(base.toString(), secret ? { kind: 'body', secret } : { kind: 'none' }, {
    timeoutMs: cfg.timeoutMs,
    tls,
    signal: opts.signal,
    now,
  });
  const res = probe.outcome;
  if (!res.ok) return transportFail(id, res.failure, `POST ${res.url} {"c":"version"}`);
  if (probe.answer?.error === 0 && probe.answer.version) return judgeDsVersion(probe.answer.version, 'command service');

  // The command service did not say: the token was refused, the ipfilter blocks, or this is not DS.
  const why = probe.answer
    ? `The command service answered error ${probe.answer.error} (${commandErrorMeaning(probe.answer.error)})${probe.answer.error === 6 || probe.answer.error === 7 ? ' — see the JWT check' : ''}`
    : `The command service answered ${statusText(res.status)}${res.body.trim() ? ` ${preview(res.body)}` : ''}${isIpFilterAnswer(res) ? ' (DS\'s ipfilter refuses the bridge)' : ''}`;
  const index = await probeHttp(endpoint(base.toString(), '/index.html'), { timeoutMs: cfg.timeoutMs, tls, signal: opts.signal });
  const banner = index.ok && index.status === 200 ? parseIndexBanner(index.body) : null;
  const tokenish = probe.answer?.error === 6 || probe.answer?.error === 7;
  const whyParams: MessageParams = probe.answer ? { code: probe.answer.error, meaning: commandErrorMeaning(probe.answer.error) } : { status: statusText(res.status) };
  if (banner) {
    const note = probe.answer ? msg(tokenish ? 'version_from_index_token' : 'version_from_index_error', whyParams) : msg('version_from_index_http', whyParams);
    return judgeDsVersion(banner.text, '/index.html', `${why}; the version was read from /index.html instead.`, note);
  }

  if (!probe.answer) {
    const explained = unexpectedAnswer(id, res, 'JSON {"error":0,"version":"…"}', COMMAND_PATH);
    return { ...explained, summary: `The version of DocumentServer cannot be read: ${explained.summary}` }; // the answer's own messages say why
  }
  return {
    id,
    status: 'fail',
    summary: `The version of DocumentServer cannot be read: ${why.charAt(0).toLowerCase()}${why.slice(1)}, and /index.html shows no version banner.`,
    detail: index.ok ? `/index.html answered ${statusText(index.status)} ${preview(index.body)}.` : `/index.html: ${index.failure.summary}`,
    fix:
      probe.answer.error === 6 || probe.answer.error === 7
        ? `Fix the token problem the JWT check reports (${SETTING.jwtSecret}, ${SETTING.jwtHeader}, clocks).`
        : `Check that ${SETTING.internalUrl} points at ONLYOFFICE DocumentServer.`,
    data: { commandError: probe.answer.error },
    messages: {
      summary: msg('version_unknown'),
      detail: msg(tokenish ? 'version_command_token' : 'version_command_error', whyParams),
      fix:
        probe.answer.error === 6 || probe.answer.error === 7
          ? msg('version_token_fix', { setting: SETTING.jwtSecret, headerSetting: SETTING.jwtHeader })
          : msg('version_not_ds_fix', { setting: SETTING.internalUrl }),
    },
  };
}
