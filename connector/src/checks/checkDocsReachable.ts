/**
 * Is DocumentServer reachable and healthy? `GET /healthcheck` answers `200 true` when DS and its dependencies are
 * fine, `200 false` when one is down (database, RabbitMQ, Redis, storage — captures `88`–`91`), and the ipfilter's
 * `403 Forbidden` when the caller is filtered (`73`). `/index.html` is outside the ipfilter (`76`): it tells
 * "up but refusing the bridge" from "down" and from "not DocumentServer at all".
 */
import { measureCheck, type CheckOutcome, type CheckResult } from './CheckResult.js';
import { LOCAL_JSON, SETTING, type CheckOptions, type DocsChecksConfig } from './ChecksConfig.js';
import { parseIndexBanner, isIpFilterAnswer } from './docServiceAnswers.js';
import { displayUrl, endpoint, parseHttpUrl } from './docsUrls.js';
import { statusText, transportFail, unexpectedAnswer } from './explainAnswer.js';
import { ipfilterFix, ipfilterSnippet } from './localJsonSnippets.js';
import { msg, type CheckMessages } from './checkMessages.js';
import { isTransportFailure, preview, probeHttp, resolveTls } from './probeHttp.js';

export const DOCS_REACHABLE_ID = 'docs_reachable';

/** Where DocService logs why its healthcheck says false. */
const DOCSERVICE_LOG = '/var/log/onlyoffice/documentserver/docservice/out.log';

/**
 * Checks DS's `/healthcheck` through the internal URL.
 * @param cfg - `internalUrl`, TLS settings, `timeoutMs`
 * @param opts - cancellation
 * @returns ok (`true`; warn when TLS verification is off), fail (not configured, `false`, refused by the ipfilter,
 *   timeout, DNS, refused, unreachable, each TLS error, redirect, proxy error, not DocumentServer)
 */
export function checkDocsReachable(cfg: DocsChecksConfig, opts: CheckOptions = {}): Promise<CheckResult> {
  return measureCheck(
    DOCS_REACHABLE_ID,
    async () => {
      const out = await reachable(cfg, opts);
      return out.messages ? out : { ...out, messages: reachableMessages(out, cfg) };
    },
    cfg.now,
  );
}

/** Message keys of the verdicts of `reachable` that bring none of their own, told apart by status and `data`. */
function reachableMessages(out: CheckOutcome, cfg: DocsChecksConfig): CheckMessages {
  const d = out.data ?? {};
  const url = displayUrl(cfg.internalUrl ?? '');
  const p = { url, setting: SETTING.internalUrl, caSetting: SETTING.caFile, tlsSetting: SETTING.tlsVerify, version: typeof d.version === 'string' ? d.version : '', status: typeof d.httpStatus === 'number' ? statusText(d.httpStatus) : '' };
  if (!cfg.internalUrl) return { summary: msg('docs_not_configured'), fix: msg('docs_not_configured_fix', p) };
  if (d.healthcheck === true) return out.status === 'ok' ? { summary: msg('docs_ok', p) } : { summary: msg('docs_tls_unverified'), fix: msg('docs_tls_unverified_fix', p) };
  if (d.healthcheck === false) return { summary: msg('docs_unhealthy'), fix: msg('docs_unhealthy_fix', { log: DOCSERVICE_LOG }) };
  if (d.ipfilter === true) {
    const address = typeof d.bridgeAddress === 'string' ? d.bridgeAddress : undefined;
    return {
      summary: msg('docs_ipfilter', p),
      fix: msg(address ? 'answer_ipfilter_fix_seen' : 'answer_ipfilter_fix', { address: address ?? '', snippet: ipfilterSnippet(address), localJson: LOCAL_JSON }),
    };
  }
  if (d.httpStatus === 200) return { summary: msg('docs_not_ds', p), fix: msg('docs_not_ds_fix', p) };
  if (d.httpStatus === 403) return { summary: msg('docs_blocked', p), fix: msg('docs_blocked_fix') };
  return { summary: msg('bad_url', p), fix: msg('bad_url_fix', p) };
}

async function reachable(cfg: DocsChecksConfig, opts: CheckOptions): Promise<CheckOutcome> {
  const id = DOCS_REACHABLE_ID;
  if (!cfg.internalUrl) {
    return {
      id,
      status: 'fail',
      summary: 'No DocumentServer address is configured: documents cannot be opened.',
      fix: `Set DOCS_URL (or ${SETTING.internalUrl} when the bridge reaches DS at another address than browsers) to DocumentServer's address, e.g. http://documentserver or https://docs.example.com.`,
    };
  }
  const base = parseHttpUrl(cfg.internalUrl);
  if (!base) {
    return {
      id,
      status: 'fail',
      summary: `The DocumentServer address ${displayUrl(cfg.internalUrl)} is not an http:// or https:// URL.`,
      fix: `Write ${SETTING.internalUrl} as a full URL, e.g. http://documentserver:80.`,
    };
  }
  const tls = await resolveTls(cfg);
  if (isTransportFailure(tls)) return transportFail(id, tls, 'TLS settings');

  const url = endpoint(base.toString(), '/healthcheck');
  const res = await probeHttp(url, { timeoutMs: cfg.timeoutMs, tls, signal: opts.signal });
  if (!res.ok) return transportFail(id, res.failure, `GET ${res.url}`);
  const data: Record<string, unknown> = { url: res.url, httpStatus: res.status, ms: res.ms };
  const body = res.body.trim();

  if (res.status === 200 && body === 'true') {
    if (base.protocol === 'https:' && !tls.rejectUnauthorized) {
      return {
        id,
        status: 'warn',
        summary: 'DocumentServer is up and healthy, but the bridge does not verify its TLS certificate.',
        detail: `${SETTING.tlsVerify}=false: anyone between the bridge and DS could pose as DS and read the documents and tokens sent to it.`,
        fix: `Set ${SETTING.caFile} to the PEM certificate of DS's CA (or of its self-signed certificate) and ${SETTING.tlsVerify}=true.`,
        data: { ...data, healthcheck: true, tlsVerify: false },
      };
    }
    return { id, status: 'ok', summary: `DocumentServer at ${displayUrl(base.toString())} is up and healthy (/healthcheck answered true).`, data: { ...data, healthcheck: true } };
  }
  if (res.status === 200 && body === 'false') {
    return {
      id,
      status: 'fail',
      summary: 'DocumentServer runs, but one of its dependencies is down: /healthcheck answered false (database, RabbitMQ, Redis or file storage).',
      detail:
        'DocService answers false when it cannot use PostgreSQL/MySQL, its message queue (RabbitMQ/ActiveMQ), Redis or its storage. ' +
        'Editing fails until that service is back; DS reconnects by itself, no restart is needed.',
      fix:
        `Look for "healthCheck error" in ${DOCSERVICE_LOG} (Docker: docker logs <ds-container>): "connect ECONNREFUSED …:5432" means the database, ` +
        '"pubsub" or ":5672" means RabbitMQ. Start that service (e.g. `systemctl start postgresql` / `systemctl start rabbitmq-server`, or ' +
        '`supervisorctl start all` in the Docker container) and check again.',
      data: { ...data, healthcheck: false },
    };
  }

  // Not the healthcheck answer: ask /index.html (no ipfilter there) whether DocumentServer is behind this address.
  const index = await probeHttp(endpoint(base.toString(), '/index.html'), { timeoutMs: cfg.timeoutMs, tls, signal: opts.signal });
  const banner = index.ok && index.status === 200 ? parseIndexBanner(index.body) : null;
  if (banner) data.version = banner.text;

  if (banner && isIpFilterAnswer(res)) {
    return {
      id,
      status: 'fail',
      summary: `DocumentServer ${banner.text} is up, but its ipfilter blocks the bridge: /healthcheck answered ${statusText(res.status)}.`,
      detail: `/index.html (which the ipfilter does not cover) shows DS's banner, while /healthcheck answers ${statusText(res.status)} "${body}", as DS's ipfilter does for a filtered address. The same refusal hits discovery and the command service.`,
      fix: ipfilterFix(res.localAddress),
      data: { ...data, ipfilter: true, bridgeAddress: res.localAddress ?? null },
    };
  }
  if (banner) {
    const explained = unexpectedAnswer(id, res, 'body "true"', '/healthcheck');
    return {
      ...explained,
      summary: `DocumentServer ${banner.text} answers /index.html, but /healthcheck answered ${statusText(res.status)}${body ? ` ${preview(body)}` : ''} instead of true.`,
      data: { ...data, ...(explained.data ?? {}) },
    };
  }
  if (res.status === 200) {
    return {
      id,
      status: 'fail',
      summary: `${displayUrl(base.toString())} is not DocumentServer: /healthcheck answered 200 with ${preview(body)} instead of true.`,
      detail: 'A web server\'s default page or a proxy\'s login page answers there; /index.html shows no DocumentServer banner either.',
      fix: `Set ${SETTING.internalUrl} to the URL under which DocumentServer answers /healthcheck with "true" (include the sub-path if DS is published under one, e.g. https://example.com/ds).`,
      data,
    };
  }
  if (isIpFilterAnswer(res) && res.status === 403 && index.ok && index.status === 403) {
    return {
      id,
      status: 'fail',
      summary: `${displayUrl(base.toString())} refuses the bridge on every path (403 Forbidden), /index.html included: a proxy or firewall in front of DocumentServer blocks it.`,
      detail: 'DS\'s own ipfilter leaves /index.html open, so this refusal comes from something in front of DS.',
      fix: 'Allow the bridge\'s address in the reverse proxy or web application firewall in front of DocumentServer.',
      data,
    };
  }
  const explained = unexpectedAnswer(id, res, 'body "true"', '/healthcheck');
  return { ...explained, data: { ...data, ...(explained.data ?? {}) } };
}
