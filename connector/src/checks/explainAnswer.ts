/**
 * Turns a probe that did not give the expected answer into a `fail` outcome with a cause and a fix: transport
 * failures (named by `classifyTransportError`), redirects, DS's ipfilter, proxies asking for a login or failing
 * upstream, wrong paths.
 */
import http from 'node:http';
import type { CheckOutcome } from './CheckResult.js';
import { msg } from './checkMessages.js';
import { LOCAL_JSON, SETTING } from './ChecksConfig.js';
import type { TransportFailure } from './classifyTransportError.js';
import { isIpFilterAnswer } from './docServiceAnswers.js';
import { displayUrl } from './docsUrls.js';
import { ipfilterFix, ipfilterSnippet } from './localJsonSnippets.js';
import { preview, type ProbeResponse } from './probeHttp.js';

/**
 * A `fail` outcome for a transport failure.
 * @param id - check id
 * @param failure - classified failure
 * @param context - what was being asked, e.g. `GET /healthcheck`
 */
export function transportFail(id: string, failure: TransportFailure, context: string): CheckOutcome {
  return {
    id,
    status: 'fail',
    summary: failure.summary,
    detail: `${context}: ${failure.kind}${failure.code ? ` (${failure.code})` : ''}.`,
    fix: failure.fix,
    data: { transport: failure.kind, code: failure.code },
    ...(failure.messages ? { messages: { ...failure.messages, detail: msg('transport_detail', { context, kind: failure.kind, code: failure.code }) } } : {}),
  };
}

/** Status line text: `403 Forbidden`. */
export function statusText(status: number): string {
  return `${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
}

/**
 * Explains an HTTP answer that is not the one expected.
 * @param id - check id
 * @param res - the answer
 * @param expected - what DS would have answered, in words (`body "true"`, `the discovery XML`)
 * @param endpointPath - the path asked under the base (`/healthcheck`), to compute a redirect's new base
 * @param setting - the setting holding the base URL
 */
export function unexpectedAnswer(id: string, res: ProbeResponse, expected: string, endpointPath: string, setting: string = SETTING.internalUrl): CheckOutcome {
  const got = `${res.url} answered ${statusText(res.status)}${res.body.trim() ? ` with ${preview(res.body)}` : ''}`;
  const detail = `${got}; DocumentServer answers ${expected}.`;
  const base = { id, status: 'fail' as const, detail, data: { httpStatus: res.status } };
  const p = { url: res.url, status: statusText(res.status), setting };
  // The detail (what came back, quoted) stays English: it is evidence, not advice.
  const messages = (key: string, extra: Record<string, string> = {}) => ({
    summary: msg(`answer_${key}`, { ...p, ...extra }),
    fix: msg(`answer_${key}_fix`, { ...p, ...extra }),
  });

  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.location;
    let target = location ? displayUrl(new URL(location, res.url).toString()) : '';
    if (target.toLowerCase().endsWith(endpointPath.toLowerCase())) target = target.slice(0, target.length - endpointPath.length);
    return {
      ...base,
      summary: `${res.url} redirects${target ? ` to ${target}` : ''} instead of answering: the bridge does not follow redirects to DocumentServer.`,
      fix: target ? `Set ${setting} to ${target}.` : `Set ${setting} to the address DocumentServer answers on directly.`,
      data: { ...base.data, redirect: target || null },
      messages: messages(target ? 'redirect' : 'redirect_nowhere', { target }),
    };
  }
  if (isIpFilterAnswer(res) && res.status !== 401) {
    return {
      ...base,
      summary: `DocumentServer refuses the bridge (${statusText(res.status)}): its ipfilter does not allow the bridge's address.`,
      fix: ipfilterFix(res.localAddress),
      data: { ...base.data, ipfilter: true, bridgeAddress: res.localAddress ?? null },
      messages: {
        summary: msg('answer_ipfilter', p),
        fix: msg(res.localAddress ? 'answer_ipfilter_fix_seen' : 'answer_ipfilter_fix', { address: res.localAddress ?? '', snippet: ipfilterSnippet(res.localAddress), localJson: LOCAL_JSON }),
      },
    };
  }
  if (res.status === 401 || res.status === 407) {
    return {
      ...base,
      summary: `${res.url} asks for a login (${statusText(res.status)}): a proxy in front of DocumentServer requires authentication.`,
      fix: `Exempt DocumentServer's paths from the proxy's login (DS checks its own tokens), or set ${setting} to DS directly.`,
      messages: messages('login'),
    };
  }
  if (res.status === 400 && /plain HTTP request was sent to HTTPS port/i.test(res.body)) {
    return {
      ...base,
      summary: `${res.url} is an HTTPS port addressed with http://.`,
      fix: `Use https:// in ${setting}.`,
      messages: messages('https_port'),
    };
  }
  if (res.status === 404) {
    return {
      ...base,
      summary: `${res.url} does not exist (404): ${setting} is not DocumentServer's root address.`,
      fix: `Set ${setting} to the URL under which DS answers /healthcheck with "true" — include the sub-path if a proxy publishes DS under one (e.g. https://example.com/ds).`,
      messages: messages('not_found'),
    };
  }
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    return {
      ...base,
      summary: `A proxy in front of DocumentServer answered ${statusText(res.status)}: DS behind it is down or the proxy cannot reach it.`,
      fix: 'Start DocumentServer, and check the proxy\'s upstream address (and its logs).',
      messages: messages('proxy_down'),
    };
  }
  return {
    ...base,
    summary: `${res.url} answered ${statusText(res.status)}, which DocumentServer does not: ${setting} may point at something else.`,
    fix: `Set ${setting} to DocumentServer's own address.`,
    messages: messages('other'),
  };
}
