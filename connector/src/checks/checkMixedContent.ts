/**
 * Mixed content: a page served over https (the bridge's host page, the admin page) may not load DocumentServer's
 * editor from an http address — browsers block it ("Blocked loading mixed active content"). The Nextcloud and
 * ownCloud connectors refuse this setup with "Mixed Active Content is not allowed. HTTPS address for ONLYOFFICE
 * Docs is required." No request is made.
 */
import { measureCheck, type CheckOutcome, type CheckResult } from './CheckResult.js';
import { SETTING, type DocsChecksConfig } from './ChecksConfig.js';
import { displayUrl, parseHttpUrl } from './docsUrls.js';
import { msg, type CheckMessages } from './checkMessages.js';

export const MIXED_CONTENT_ID = 'mixed_content';

/**
 * Compares the scheme of the pages browsers open with DS's public URL.
 * @param cfg - `publicUrl` (else `internalUrl`), `bridgeUrl`, `adminPageUrl`
 * @returns ok (no https page loads an http DS), fail (it does, or a URL is not usable), skipped (no DS configured)
 */
export function checkMixedContent(cfg: Pick<DocsChecksConfig, 'publicUrl' | 'internalUrl' | 'bridgeUrl' | 'adminPageUrl' | 'now'>): Promise<CheckResult> {
  return measureCheck(MIXED_CONTENT_ID, async () => decideMixedContent(cfg), cfg.now);
}

/** Message keys of a mixed-content verdict (told apart by status and `data`). */
function mixedMessages(out: CheckOutcome, dsSetting: string): CheckMessages {
  const d = (out.data ?? {}) as { docsPublicUrl?: string; pages?: { page: string; url: string }[] };
  if (out.status === 'skipped') return { summary: msg('mixed_skipped') };
  if (d.docsPublicUrl === undefined) return { summary: msg('mixed_bad_url'), fix: msg('bad_url_fix', { setting: dsSetting }) };
  if (out.status === 'fail') return { summary: msg('mixed_fail', { url: d.docsPublicUrl, pages: (d.pages ?? []).filter((p) => p.url.startsWith('https:')).map((p) => p.url).join(', ') }), fix: msg('mixed_fail_fix', { setting: dsSetting }) };
  if ((d.pages ?? []).length === 0) return { summary: msg('mixed_ok_alone', { scheme: d.docsPublicUrl.startsWith('https:') ? 'https' : 'http' }) };
  const https = d.docsPublicUrl.startsWith('https:');
  return { summary: msg(https ? 'mixed_ok_https' : 'mixed_ok_http') };
}

/** The pure decision behind {@link checkMixedContent}. */
export function decideMixedContent(cfg: Pick<DocsChecksConfig, 'publicUrl' | 'internalUrl' | 'bridgeUrl' | 'adminPageUrl'>): CheckOutcome {
  const out = decideMixedText(cfg);
  return { ...out, messages: mixedMessages(out, cfg.publicUrl ? SETTING.publicUrl : SETTING.internalUrl) };
}

function decideMixedText(cfg: Pick<DocsChecksConfig, 'publicUrl' | 'internalUrl' | 'bridgeUrl' | 'adminPageUrl'>): CheckOutcome {
  const id = MIXED_CONTENT_ID;
  const dsRaw = cfg.publicUrl || cfg.internalUrl;
  const dsSetting = cfg.publicUrl ? SETTING.publicUrl : SETTING.internalUrl;
  if (!dsRaw) {
    return { id, status: 'skipped', summary: 'No DocumentServer address is configured, so there is nothing to compare.' };
  }
  const ds = parseHttpUrl(dsRaw);
  if (!ds) {
    return {
      id,
      status: 'fail',
      summary: `The DocumentServer address ${displayUrl(dsRaw)} is not an http:// or https:// URL.`,
      fix: `Write ${dsSetting} as a full URL, e.g. https://docs.example.com.`,
    };
  }
  const pages: { name: string; setting: string | null; url: URL }[] = [];
  for (const [name, raw, setting] of [
    ['the bridge (host page)', cfg.bridgeUrl, SETTING.bridgeUrl],
    ['the admin page', cfg.adminPageUrl, null],
  ] as const) {
    if (!raw) continue;
    const url = parseHttpUrl(raw);
    if (!url) {
      return {
        id,
        status: 'fail',
        summary: `The address of ${name}, ${displayUrl(raw)}, is not an http:// or https:// URL.`,
        fix: setting ? `Write ${setting} as a full URL, e.g. https://wopi.example.com.` : 'Open the admin page through an http:// or https:// address.',
      };
    }
    pages.push({ name, setting, url });
  }
  const data = {
    docsPublicUrl: displayUrl(ds.toString()),
    pages: pages.map((p) => ({ page: p.name, url: displayUrl(p.url.toString()) })),
  };
  const httpsPages = pages.filter((p) => p.url.protocol === 'https:');
  if (ds.protocol === 'http:' && httpsPages.length > 0) {
    const names = httpsPages.map((p) => `${p.name} (${displayUrl(p.url.toString())})`).join(' and ');
    return {
      id,
      status: 'fail',
      summary: `Mixed content: ${names} is served over https but DocumentServer's public address ${data.docsPublicUrl} is http, so browsers will block the editor.`,
      detail:
        'Browsers refuse to load an http:// frame or script into an https:// page ("Blocked loading mixed active content"). ' +
        'The ONLYOFFICE connectors reject this setup too ("Mixed Active Content is not allowed. HTTPS address for ONLYOFFICE Docs is required.").',
      fix:
        `Publish DocumentServer over HTTPS (e.g. behind the same reverse proxy as the bridge) and set ${dsSetting} to its https:// address. ` +
        'If a proxy already terminates TLS in front of DS, make it send X-Forwarded-Proto: https and X-Forwarded-Host so DS writes https:// ' +
        'URLs into its discovery and editor pages.',
      data,
    };
  }
  if (pages.length === 0) {
    return {
      id,
      status: 'ok',
      summary: `DocumentServer's public address is ${ds.protocol === 'https:' ? 'https' : 'http'}; no page address is known to compare it with.`,
      data,
    };
  }
  return {
    id,
    status: 'ok',
    summary:
      ds.protocol === 'https:'
        ? 'DocumentServer\'s public address is https: no mixed content.'
        : 'The pages and DocumentServer are all served over http: no mixed content (but nothing is encrypted).',
    data,
  };
}
