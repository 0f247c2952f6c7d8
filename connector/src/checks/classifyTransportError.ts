/**
 * Names a failed request the way an admin can act on it: timeout, DNS, refused, unreachable, reset, each TLS
 * problem, a bad URL. Pure: works on the error's `code` (Node, OpenSSL and axios codes), not on its message,
 * except for OpenSSL's "wrong version number", which Node reports only as `EPROTO`.
 */
import { SETTING } from './ChecksConfig.js';
import { msg, type CheckMessage } from './checkMessages.js';

/** Stable kinds of transport failure (tests and `data.transport` match on them). */
export type TransportKind =
  | 'timeout'
  | 'aborted'
  | 'dns'
  | 'refused'
  | 'unreachable'
  | 'reset'
  | 'tls_self_signed'
  | 'tls_untrusted'
  | 'tls_expired'
  | 'tls_not_yet_valid'
  | 'tls_hostname'
  | 'tls_not_tls'
  | 'tls_other'
  | 'not_http'
  | 'too_large'
  | 'bad_url'
  | 'ca_file'
  | 'other';

/** A classified failure: what happened and what to do. */
export interface TransportFailure {
  kind: TransportKind;
  /** The underlying error code (`ECONNREFUSED`, `CERT_HAS_EXPIRED`…), or `''`. */
  code: string;
  /** One sentence naming the failure, with host and port. */
  summary: string;
  /** What to change. */
  fix: string;
  /** The summary and fix as message keys (`transport_<kind>`, `transport_<kind>_fix`) for the page's translations. */
  messages?: { summary: CheckMessage; fix: CheckMessage };
}

/** What the classifier needs to know besides the error. */
export interface TransportContext {
  /** The URL asked, already stripped of credentials (see `displayUrl`). */
  url: string;
  /** The request's own deadline fired. */
  timedOut?: boolean;
  /** The caller aborted (the run's total timeout). */
  aborted?: boolean;
  /** The deadline, for the message. */
  timeoutMs?: number;
  /** Setting that holds this URL, named in fixes (default `DOCS_INTERNAL_URL`). */
  setting?: string;
}

const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA', 'EAI_ADDRFAMILY']);
const UNREACHABLE_CODES = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);
const SELF_SIGNED_CODES = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN']);
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_CHAIN_TOO_LONG',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
]);

/**
 * The one mapping of error codes to kinds, shared by the DocumentServer checks and the drive checks
 * (`drive/http.ts`). Pure.
 * @param code - the error's code (`''` when it has none)
 * @param message - its message (only OpenSSL's "wrong version number" and "socket hang up" are read from it)
 * @returns the kind (`other` when nothing matches) and the code to report (filled in where Node gives none)
 */
export function transportKindOf(code: string, message: string): { kind: Exclude<TransportKind, 'aborted' | 'ca_file'>; code: string } {
  if (TIMEOUT_CODES.has(code)) return { kind: 'timeout', code };
  if (DNS_CODES.has(code)) return { kind: 'dns', code };
  if (code === 'ECONNREFUSED') return { kind: 'refused', code };
  if (UNREACHABLE_CODES.has(code)) return { kind: 'unreachable', code };
  if (SELF_SIGNED_CODES.has(code)) return { kind: 'tls_self_signed', code };
  if (UNTRUSTED_CODES.has(code)) return { kind: 'tls_untrusted', code };
  if (code === 'CERT_HAS_EXPIRED') return { kind: 'tls_expired', code };
  if (code === 'CERT_NOT_YET_VALID') return { kind: 'tls_not_yet_valid', code };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return { kind: 'tls_hostname', code };
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(message)) return { kind: 'tls_not_tls', code: code || 'EPROTO' };
  if (/^(CERT_|ERR_TLS_|ERR_SSL_|ERR_OSSL)/.test(code) || code === 'EPROTO') return { kind: 'tls_other', code };
  if (RESET_CODES.has(code) || /socket hang up/i.test(message)) return { kind: 'reset', code: code || 'ECONNRESET' };
  if (/^HPE_/.test(code)) return { kind: 'not_http', code };
  if (code === 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED' || /maxContentLength/i.test(message)) return { kind: 'too_large', code: code || 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED' };
  if (code === 'ERR_INVALID_URL' || code === 'ERR_INVALID_PROTOCOL' || code === 'ERR_BAD_OPTION_VALUE') return { kind: 'bad_url', code };
  return { kind: 'other', code };
}

/** The `code` of an error or of its `cause` chain (axios copies it, Node sets it on the cause too). */
export function errorCode(e: unknown): string {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '' && code !== 'ERR_BAD_RESPONSE' && code !== 'ERR_NETWORK') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return '';
}

function errorMessage(e: unknown): string {
  const parts: string[] = [];
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const m = (cur as { message?: unknown }).message;
    if (typeof m === 'string') parts.push(m);
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.join(' | ');
}

/** `host:port` of a URL, with the scheme's default port spelled out. */
export function hostPort(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return `${u.hostname}:${port}`;
  } catch {
    return url;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/**
 * Classifies an error thrown by a request (axios or Node).
 * @param e - the error
 * @param ctx - URL, whether the deadline or the caller aborted, the setting to name
 * @returns kind, code, summary and fix; never contains a secret (only the URL given, which has none)
 */
export function classifyTransportError(e: unknown, ctx: TransportContext): TransportFailure {
  const failure = classifyText(e, ctx);
  const params = {
    url: ctx.url,
    where: hostPort(ctx.url),
    host: hostOf(ctx.url),
    code: failure.code,
    time: ctx.timeoutMs === undefined ? '' : formatMs(ctx.timeoutMs),
    setting: ctx.setting ?? SETTING.internalUrl,
    caSetting: SETTING.caFile,
    tlsSetting: SETTING.tlsVerify,
    timeoutSetting: SETTING.timeout,
  };
  const summaryKey = failure.kind === 'dns' && failure.code === 'EAI_AGAIN' ? 'transport_dns_temporary' : `transport_${failure.kind}`;
  return { ...failure, messages: { summary: msg(summaryKey, params), fix: msg(`transport_${failure.kind}_fix`, params) } };
}

function classifyText(e: unknown, ctx: TransportContext): TransportFailure {
  const raw = errorCode(e);
  const url = ctx.url;
  const where = hostPort(url);
  const setting = ctx.setting ?? SETTING.internalUrl;
  const message = errorMessage(e);
  const secs = ctx.timeoutMs === undefined ? '' : ` within ${formatMs(ctx.timeoutMs)}`;

  if (ctx.aborted && !ctx.timedOut) {
    return {
      kind: 'aborted',
      code: raw,
      summary: `The request to ${url} was cancelled before an answer came (the whole check run reached its time limit).`,
      fix: 'Run the check again; if it keeps happening, the other checks show which address does not answer.',
    };
  }
  const { kind, code } = ctx.timedOut ? { kind: 'timeout' as const, code: raw || 'ETIMEDOUT' } : transportKindOf(raw, message);
  switch (kind) {
    case 'timeout':
      return {
        kind: 'timeout',
        code: code || 'ETIMEDOUT',
        summary: `No answer from ${where}${secs} (timeout): the connection or the answer never came.`,
        fix:
          `Check that ${setting} points at DocumentServer and that no firewall drops traffic from the bridge to ${where} ` +
          `(a dropping firewall looks exactly like this; a closed port would be refused at once). ` +
          `If DS is only slow, raise ${SETTING.timeout}.`,
      };
    case 'dns': {
      const temporary = code === 'EAI_AGAIN';
      return {
        kind: 'dns',
        code,
        summary: temporary
          ? `The name ${hostOf(url)} could not be resolved right now (DNS error ${code}: the DNS server did not answer).`
          : `The name ${hostOf(url)} does not resolve (DNS error ${code}).`,
        fix:
          `Use a host name that resolves from where the bridge runs (inside Docker: the DS service or container name on a ` +
          `shared network), or DS's IP address, in ${setting}; test with \`getent hosts ${hostOf(url)}\` on the bridge's host.`,
      };
    }
    case 'refused':
      return {
        kind: 'refused',
        code,
        summary: `Connection refused by ${where}: nothing listens on that port (or a firewall rejects it).`,
        fix:
          `Start DocumentServer, or correct the port in ${setting}: the Docker image listens on 80 (443 with HTTPS), ` +
          `DocService alone on 8000. \`127.0.0.1\` inside a container means the container itself, not the host.`,
      };
    case 'unreachable':
      return {
        kind: 'unreachable',
        code,
        summary: `${where} is unreachable from the bridge (${code}: no route to that host or network).`,
        fix: `Check the address in ${setting} and the routing/firewall between the bridge and DocumentServer.`,
      };
    case 'tls_self_signed':
      return {
        kind: 'tls_self_signed',
        code,
        summary: `DocumentServer's TLS certificate at ${where} is self-signed, so the bridge does not trust it (${code}).`,
        fix:
          `Put the certificate (or the CA that signed it) in a PEM file and set ${SETTING.caFile} to its path; ` +
          `or use a certificate from a public CA (e.g. Let's Encrypt). Turning verification off ` +
          `(${SETTING.tlsVerify}=false) also works but lets anyone on the path impersonate DS.`,
      };
    case 'tls_untrusted':
      return {
        kind: 'tls_untrusted',
        code,
        summary: `DocumentServer's TLS certificate at ${where} is not signed by a CA the bridge trusts, or the server sends an incomplete chain (${code}).`,
        fix:
          `Serve the full chain on DS's web server (nginx: \`ssl_certificate\` must point at fullchain.pem, not cert.pem); ` +
          `for a private CA, set ${SETTING.caFile} to the CA certificate (PEM).`,
      };
    case 'tls_expired':
      return {
        kind: 'tls_expired',
        code,
        summary: `DocumentServer's TLS certificate at ${where} has expired (${code}).`,
        fix: `Renew the certificate on DS's web server (e.g. \`certbot renew\`) and reload it; if it is valid, the bridge's clock is wrong — sync it with NTP.`,
      };
    case 'tls_not_yet_valid':
      return {
        kind: 'tls_not_yet_valid',
        code,
        summary: `DocumentServer's TLS certificate at ${where} is not valid yet (${code}).`,
        fix: 'The bridge\'s clock is behind (or the certificate was issued with a future date): sync the clocks with NTP.',
      };
    case 'tls_hostname':
      return {
        kind: 'tls_hostname',
        code,
        summary: `DocumentServer's TLS certificate does not cover the name ${hostOf(url)} (hostname mismatch, ${code}).`,
        fix:
          `Use in ${setting} a name the certificate was issued for, or reissue the certificate with ${hostOf(url)} in its ` +
          `subject alternative names (\`openssl s_client -connect ${where} </dev/null | openssl x509 -noout -ext subjectAltName\` lists them).`,
      };
    case 'tls_not_tls':
      return {
        kind: 'tls_not_tls',
        code: code || 'EPROTO',
        summary: `${url} uses https:// but the server at ${where} does not speak TLS there (it answers plain HTTP).`,
        fix: `Use http:// in ${setting} for this port, or the port where DS's HTTPS listens (usually 443).`,
      };
    case 'tls_other':
      return {
        kind: 'tls_other',
        code,
        summary: `The TLS handshake with ${where} failed (${code}).`,
        fix: `Check DS's certificate and TLS settings (\`openssl s_client -connect ${where}\` shows the problem); for a private CA set ${SETTING.caFile}.`,
      };
    case 'reset':
      return {
        kind: 'reset',
        code: code || 'ECONNRESET',
        summary: `${where} accepted the connection and then closed it without an answer (${code || 'connection reset'}).`,
        fix:
          `If that port serves HTTPS, use https:// in ${setting} (a TLS port drops plain-HTTP requests like this); ` +
          `otherwise look at the proxy or load balancer in front of DocumentServer.`,
      };
    case 'not_http':
      return {
        kind: 'not_http',
        code,
        summary: `${where} answered, but not with HTTP (${code}).`,
        fix: `${setting} points at a port where another service listens: use DocumentServer's HTTP(S) port.`,
      };
    case 'too_large':
      return {
        kind: 'too_large',
        code: code || 'ERR_FR_MAX_BODY_LENGTH_EXCEEDED',
        summary: `${url} answered with a body far larger than DocumentServer sends: it is not DocumentServer.`,
        fix: `Set ${setting} to DocumentServer's own address.`,
      };
    case 'bad_url':
      return {
        kind: 'bad_url',
        code,
        summary: `${url} is not a usable http:// or https:// URL.`,
        fix: `Write ${setting} as a full URL, e.g. https://docs.example.com or http://documentserver:80.`,
      };
    default:
      return {
        kind: 'other',
        code,
        summary: `The request to ${url} failed: ${code || firstLine(message) || 'unknown error'}.`,
        fix: `Check ${setting} and the network between the bridge and DocumentServer.`,
      };
  }
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? '').replace(/(\w+:\/\/)[^/@\s]*@/g, '$1').slice(0, 200);
}

/** `800 ms`, `10 s`, `1.5 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
