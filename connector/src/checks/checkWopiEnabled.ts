/**
 * Is WOPI switched on in DocumentServer? `GET /hosting/discovery` answers the discovery XML when `wopi.enable` is
 * true, `404 Not Found` (plain text) when it is false (capture `70`; DS's default is false), and the ipfilter's
 * `403 Forbidden` when the bridge is filtered (`74`; `wopi.enable` is checked first).
 */
import { describeError, measureCheck, type CheckOutcome, type CheckResult } from './CheckResult.js';
import { SETTING, type CheckOptions, type DocsChecksConfig } from './ChecksConfig.js';
import { parseDiscovery, type Discovery } from '../discovery/parseDiscovery.js';
import { isDiscoveryError } from '../discovery/DiscoveryError.js';
import { endpoint, parseHttpUrl } from './docsUrls.js';
import { statusText, transportFail, unexpectedAnswer } from './explainAnswer.js';
import { wopiEnableFix, wopiEnableSnippet } from './localJsonSnippets.js';
import { msg } from './checkMessages.js';
import { LOCAL_JSON } from './ChecksConfig.js';
import { isTransportFailure, preview, probeHttp, resolveTls, type ProbeOutcome } from './probeHttp.js';

export const WOPI_ENABLED_ID = 'wopi_enabled';

/** The formats the bridge's users edit most: discovery must offer `edit` for each. */
const CORE_EDIT_FORMATS = ['docx', 'xlsx', 'pptx'] as const;

/** Discovery fetched and parsed, or why not (shared with the proof-key check). */
export type DiscoveryFetch =
  | { ok: true; discovery: Discovery; res: ProbeOutcome & { ok: true } }
  | { ok: false; outcome: ProbeOutcome; parseError?: string };

/**
 * Fetches and parses `/hosting/discovery`.
 * @param base - DS base URL
 * @param probe - deadline, TLS, cancellation
 */
export async function fetchDiscoveryForCheck(base: string, probe: Parameters<typeof probeHttp>[1]): Promise<DiscoveryFetch> {
  const res = await probeHttp(endpoint(base, '/hosting/discovery'), probe);
  if (!res.ok || res.status !== 200) return { ok: false, outcome: res };
  try {
    return { ok: true, discovery: parseDiscovery(res.body), res };
  } catch (e) {
    return { ok: false, outcome: res, parseError: isDiscoveryError(e) ? e.message : describeError(e) };
  }
}

/**
 * Checks DS's discovery.
 * @param cfg - `internalUrl`, TLS, `timeoutMs`
 * @param opts - cancellation
 * @returns ok (discovery with apps; the data says how many and whether proof keys are published), warn (no `edit`
 *   action for docx/xlsx/pptx), fail (404 → `wopi.enable` snippet, 403 → `ipfilter` snippet, not XML, not a
 *   discovery, transport failures), skipped (no usable DS address)
 */
export function checkWopiEnabled(cfg: DocsChecksConfig, opts: CheckOptions = {}): Promise<CheckResult> {
  return measureCheck(WOPI_ENABLED_ID, () => wopiEnabled(cfg, opts), cfg.now);
}

async function wopiEnabled(cfg: DocsChecksConfig, opts: CheckOptions): Promise<CheckOutcome> {
  const id = WOPI_ENABLED_ID;
  const base = parseHttpUrl(cfg.internalUrl);
  if (!base) return { id, status: 'skipped', summary: 'No usable DocumentServer address is configured (see the reachability check).', messages: { summary: msg('no_docs_url') } };
  const tls = await resolveTls(cfg);
  if (isTransportFailure(tls)) return transportFail(id, tls, 'TLS settings');

  const fetched = await fetchDiscoveryForCheck(base.toString(), { timeoutMs: cfg.timeoutMs, tls, signal: opts.signal });
  if (!fetched.ok) return discoveryFailure(id, fetched, SETTING.internalUrl);
  const d = fetched.discovery;
  const missing = CORE_EDIT_FORMATS.filter((ext) => !d.byExtension.get(ext)?.edit);
  const data = {
    url: fetched.res.url,
    netZone: d.netZone,
    apps: d.apps.length,
    extensions: d.byExtension.size,
    editableExtensions: [...d.byExtension.values()].filter((a) => a.edit).length,
    proofKey: d.proofKey !== null,
    /** Origin DS wrote into the action URLs (from the Host header of the bridge's request, or DS's wopi.host). */
    actionOrigin: actionOrigin(d),
  };
  const keys = d.proofKey ? 'proof keys published' : 'no proof keys published (see the proof-key check)';
  const p = { apps: d.apps.length, extensions: d.byExtension.size, formats: missing.join(', ') };
  if (missing.length > 0) {
    return {
      id,
      status: 'warn',
      summary: `WOPI is on, but DocumentServer's discovery offers no edit action for ${missing.join(', ')}: those files open read-only.`,
      detail: `Discovery lists ${d.apps.length} apps and ${d.byExtension.size} extensions; ${keys}.`,
      fix: 'Use the standard ONLYOFFICE DocumentServer build (its document-formats list marks docx, xlsx and pptx editable), or a license that allows editing.',
      data,
      messages: {
        summary: msg('wopi_no_edit', p),
        detail: msg(d.proofKey ? 'wopi_listing_keys' : 'wopi_listing_no_keys', p),
        fix: msg('wopi_no_edit_fix'),
      },
    };
  }
  return {
    id,
    status: 'ok',
    summary: `WOPI is on: discovery lists ${d.apps.length} apps and ${d.byExtension.size} extensions; ${keys}.`,
    data,
    messages: { summary: msg(d.proofKey ? 'wopi_ok_keys' : 'wopi_ok_no_keys', p) },
  };
}

function actionOrigin(d: Discovery): string | null {
  const urlsrc = d.byExtension.get('docx')?.edit ?? d.byExtension.values().next().value?.view;
  if (!urlsrc) return null;
  try {
    return new URL(urlsrc.replace(/<[^>]*>/g, '')).origin;
  } catch {
    return null;
  }
}

/**
 * A `fail` for a discovery that could not be fetched or parsed.
 * @param id - check id
 * @param fetched - the failed fetch
 * @param setting - the setting holding this DS address
 */
export function discoveryFailure(id: string, fetched: Extract<DiscoveryFetch, { ok: false }>, setting: string): CheckOutcome {
  const res = fetched.outcome;
  if (!res.ok) return transportFail(id, res.failure, `GET ${res.url}`);
  if (res.status === 404 && res.body.trim() === 'Not Found') {
    return {
      id,
      status: 'fail',
      summary: 'WOPI is switched off in DocumentServer: /hosting/discovery answered 404 Not Found (wopi.enable is false, DS\'s default).',
      detail: `${res.url} answered ${statusText(res.status)} "Not Found", as DS does for every /hosting/* route when wopi.enable is false.`,
      fix: wopiEnableFix(),
      data: { httpStatus: 404, wopiEnabled: false },
      messages: {
        summary: msg('wopi_off'),
        detail: msg('wopi_off_detail', { url: res.url }),
        fix: msg('wopi_enable_fix', { localJson: LOCAL_JSON, snippet: wopiEnableSnippet() }),
      },
    };
  }
  if (res.status === 200 && fetched.parseError !== undefined) {
    return {
      id,
      status: 'fail',
      summary: `/hosting/discovery answered 200 but not with WOPI discovery XML: ${fetched.parseError}`,
      detail: `The body starts ${preview(res.body)}. A proxy's login or error page, or another web application, answers at ${res.url}.`,
      fix: `Set ${setting} to DocumentServer's own address (where /hosting/discovery returns <wopi-discovery>).`,
      data: { httpStatus: 200, notDiscovery: true },
      messages: {
        summary: msg('wopi_not_discovery', { error: fetched.parseError }),
        detail: msg('wopi_not_discovery_detail', { body: preview(res.body), url: res.url }),
        fix: msg('wopi_not_discovery_fix', { setting }),
      },
    };
  }
  if (res.status === 404) {
    const explained = unexpectedAnswer(id, res, 'the discovery XML', '/hosting/discovery', setting);
    return {
      ...explained,
      detail: `${explained.detail ?? ''} DocumentServer's own 404 for a disabled WOPI is plain text "Not Found"; this one is not, so the address (or the DS version: WOPI exists since 6.4) is wrong.`,
      // The answer quoted stays as it came (evidence); the reasoning around it is translated.
      ...(explained.messages ? { messages: { ...explained.messages, detail: msg('wopi_not_found_not_ds_detail', { evidence: explained.detail ?? '' }) } } : {}),
    };
  }
  return unexpectedAnswer(id, res, 'the discovery XML', '/hosting/discovery', setting);
}
