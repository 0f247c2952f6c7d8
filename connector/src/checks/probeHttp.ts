/**
 * One diagnostic HTTP request to DocumentServer with its own hard deadline: axios with a fresh agent (no
 * keep-alive, so nothing outlives the check), no redirects followed (a redirect is itself a finding), any status
 * accepted, the body read as text. Failures come back classified, never thrown.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { readFile } from 'node:fs/promises';
import axios from 'axios';
import { SETTING, type DocsChecksConfig } from './ChecksConfig.js';
import { classifyTransportError, type TransportFailure } from './classifyTransportError.js';
import { displayUrl } from './docsUrls.js';
import { msg } from './checkMessages.js';

/** TLS settings of the probes, resolved once per check. */
export interface ProbeTls {
  rejectUnauthorized: boolean;
  ca?: string | Buffer;
}

/** What a probe needs besides the URL. */
export interface ProbeOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Request body (JSON text for the command service). */
  body?: string;
  /** Hard deadline of the whole request in ms (connect, TLS, headers and body). */
  timeoutMs: number;
  tls: ProbeTls;
  /** The caller's cancellation (runChecks' total timeout). */
  signal?: AbortSignal | undefined;
  /** Largest body read; default 4 MiB (DS's discovery is about 190 KB). */
  maxBytes?: number;
  /** Setting named in the fixes of a transport failure (default `DOCS_INTERNAL_URL`). */
  setting?: string;
}

/** An HTTP answer, whatever its status. */
export interface ProbeResponse {
  ok: true;
  /** The URL asked, safe to show. */
  url: string;
  status: number;
  /** Response headers, lower-case names. */
  headers: Record<string, string>;
  body: string;
  ms: number;
  /** The bridge's own address on that connection, as far as the bridge can see it (for an ipfilter rule). */
  localAddress?: string;
}

/** No HTTP answer. */
export interface ProbeFailure {
  ok: false;
  url: string;
  failure: TransportFailure;
  ms: number;
}

export type ProbeOutcome = ProbeResponse | ProbeFailure;

/**
 * Reads the TLS settings of the config (the CA file too).
 * @param cfg - the checks' config
 * @returns the settings, or a `ca_file` failure saying why the CA file cannot be used
 */
export async function resolveTls(cfg: Pick<DocsChecksConfig, 'tlsVerify' | 'ca' | 'caFile'>): Promise<ProbeTls | TransportFailure> {
  const tls: ProbeTls = { rejectUnauthorized: cfg.tlsVerify ?? true };
  if (cfg.ca !== null && cfg.ca !== undefined && cfg.ca !== '') {
    tls.ca = cfg.ca;
  } else if (cfg.caFile) {
    try {
      tls.ca = await readFile(cfg.caFile);
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'error';
      return {
        kind: 'ca_file',
        code,
        summary: `The CA file ${cfg.caFile} cannot be read (${code}).`,
        fix: `Set ${SETTING.caFile} to a readable PEM file (the bridge's user needs read access), or clear it.`,
        messages: { summary: msg('ca_unreadable', { file: cfg.caFile, code }), fix: msg('ca_unreadable_fix', { setting: SETTING.caFile }) },
      };
    }
    if (!/-----BEGIN CERTIFICATE-----/.test(tls.ca.toString('latin1'))) {
      return {
        kind: 'ca_file',
        code: 'not_pem',
        summary: `The CA file ${cfg.caFile} holds no PEM certificate.`,
        fix: `${SETTING.caFile} must be a PEM file starting with -----BEGIN CERTIFICATE----- (convert DER with \`openssl x509 -inform der -in ca.cer -out ca.pem\`).`,
        messages: { summary: msg('ca_not_pem', { file: cfg.caFile }), fix: msg('ca_not_pem_fix', { setting: SETTING.caFile }) },
      };
    }
  }
  return tls;
}

/** Type guard: resolveTls' failure branch. */
export function isTransportFailure(x: ProbeTls | TransportFailure): x is TransportFailure {
  return 'kind' in x;
}

/** Agents that remember the local address of the connection they opened (for the ipfilter fix). */
function recordingAgent(isHttps: boolean, tls: ProbeTls, seen: { localAddress?: string }): http.Agent {
  const agent = isHttps
    ? new https.Agent({ keepAlive: false, rejectUnauthorized: tls.rejectUnauthorized, ...(tls.ca ? { ca: tls.ca } : {}) })
    : new http.Agent({ keepAlive: false });
  const create = agent.createConnection.bind(agent) as (...args: unknown[]) => Duplex;
  (agent as unknown as { createConnection: (...args: unknown[]) => Duplex }).createConnection = (...args: unknown[]) => {
    const socket = create(...args) as Duplex & { localAddress?: string; once(ev: string, fn: () => void): unknown };
    socket.once('connect', () => {
      if (socket.localAddress) seen.localAddress = socket.localAddress.replace(/^::ffff:/, '');
    });
    return socket;
  };
  return agent;
}

/**
 * Sends one request and waits at most `timeoutMs` for the complete answer.
 * @param url - absolute URL (may hold credentials: they are never shown)
 * @param opts - method, headers, body, deadline, TLS, cancellation
 * @returns the answer (any status) or a classified failure; never throws
 */
export async function probeHttp(url: string, opts: ProbeOptions): Promise<ProbeOutcome> {
  const started = performance.now();
  const shown = displayUrl(url);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const onAbort = (): void => controller.abort();
  if (opts.signal?.aborted) controller.abort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const seen: { localAddress?: string } = {};
  let agent: http.Agent | undefined;
  try {
    agent = recordingAgent(url.startsWith('https:'), opts.tls, seen);
    const res = await axios.request<string>({
      url,
      method: opts.method ?? 'GET',
      headers: { 'User-Agent': 'wopi-bridge-check', ...(opts.headers ?? {}) },
      ...(opts.body !== undefined ? { data: opts.body } : {}),
      timeout: opts.timeoutMs,
      signal: controller.signal,
      responseType: 'text',
      transformResponse: (d: unknown) => d,
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: opts.maxBytes ?? 4 * 1024 * 1024,
      httpAgent: agent,
      httpsAgent: agent,
    });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers ?? {})) {
      if (v === undefined || v === null) continue;
      headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    const response: ProbeResponse = {
      ok: true,
      url: shown,
      status: res.status,
      headers,
      body: typeof res.data === 'string' ? res.data : res.data === undefined || res.data === null ? '' : String(res.data),
      ms: Math.round(performance.now() - started),
    };
    if (seen.localAddress) response.localAddress = seen.localAddress;
    return response;
  } catch (e) {
    const failure = classifyTransportError(e, {
      url: shown,
      timedOut,
      aborted: opts.signal?.aborted ?? false,
      timeoutMs: opts.timeoutMs,
      ...(opts.setting ? { setting: opts.setting } : {}),
    });
    return { ok: false, url: shown, failure, ms: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    agent?.destroy();
  }
}

/**
 * The first 80 characters of a body on one line, quoted, to say what came back instead of what was expected.
 * @param body - any response body
 */
export function preview(body: string): string {
  const one = body.trim().replace(/\s+/g, ' ');
  return JSON.stringify(one.length > 80 ? `${one.slice(0, 80)}…` : one);
}
