/**
 * The one HTTP client of the drive checks: plain node:http(s), no redirects followed, no cookies kept, a hard
 * deadline, network failures classified (refused, DNS, timeout, TLS …) by their error code, and a response body that
 * is kept (up to a limit) even when the server cuts it short — Nextcloud's per-user-key bug sends a 500 whose body is
 * shorter than its Content-Length, and the checks must still see that answer.
 */
import { transportKindOf, type TransportKind } from '../classifyTransportError.js';
import { msg, type CheckMessage } from '../checkMessages.js';
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

/** Drive credentials. Only ever put into an Authorization header; never into a result, a log or an error. */
export interface Credentials {
  username: string;
  password: string;
}

/** TLS options for an https drive (default: Node's trust store, which NODE_EXTRA_CA_CERTS extends). */
export interface DriveTlsOptions {
  /** Extra CA certificate(s), PEM. */
  ca?: string | Buffer;
  /** false turns certificate verification off (insecure). */
  rejectUnauthorized?: boolean;
}

/** The point in time by which a whole check must be done; every request gets what is left of it. */
export class Deadline {
  readonly at: number;
  constructor(readonly totalMs: number) {
    this.at = Date.now() + totalMs;
  }
  /** Milliseconds left (at least 1, so that a request started late fails by itself with a timeout). */
  remaining(): number {
    return Math.max(1, this.at - Date.now());
  }
  expired(): boolean {
    return Date.now() >= this.at;
  }
}

/**
 * Kinds of transport failure; the same names as the DocumentServer checks' `TransportKind`
 * (`classifyTransportError.ts`), so `data.transport` means the same in every result.
 */
export type NetworkErrorKind = Exclude<TransportKind, 'too_large'>;

/** A request that got no HTTP answer. `message` never contains credentials (they are never in the URL we dial). */
export class DriveNetworkError extends Error {
  constructor(
    readonly kind: NetworkErrorKind,
    /** The system or TLS error code (ECONNREFUSED, ENOTFOUND, DEPTH_ZERO_SELF_SIGNED_CERT, …) when there is one. */
    readonly code: string | null,
    message: string,
    /** host:port dialled. */
    readonly target: string,
    /** For timeouts: the time waited. */
    readonly waitedMs: number | null = null,
  ) {
    super(message);
    this.name = 'DriveNetworkError';
  }
}

export interface ProbeResponse {
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
  /** The body as far as it was read (at most maxBodyBytes). */
  body: Buffer;
  /** false when the body was cut: by the server (shorter than Content-Length, connection reset), or by our limit. */
  bodyComplete: boolean;
}

export interface ProbeRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  credentials?: Credentials | null;
  deadline: Deadline;
  /** Largest body kept; the rest is not read (the connection is closed). Default 256 KiB. */
  maxBodyBytes?: number;
  tls?: DriveTlsOptions;
  /** The caller's cancellation (a run's total time limit). */
  signal?: AbortSignal;
}

/**
 * Classifies a socket/TLS error by its code with the DocumentServer checks' mapping ({@link transportKindOf}), so
 * one table of error codes serves both; a body too large cannot happen here (the drive client cuts bodies itself).
 */
export function classifyNetworkError(e: unknown): { kind: NetworkErrorKind; code: string | null } {
  const err = (e ?? {}) as { code?: unknown; message?: unknown };
  const raw = typeof err.code === 'string' ? err.code : '';
  const { kind, code } = transportKindOf(raw, typeof err.message === 'string' ? err.message : '');
  return { kind: kind === 'too_large' ? 'other' : kind, code: code === '' ? null : code };
}

/** `scheme://host[:port]/path` of a URL without user info, query or fragment — safe to show. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(not a valid URL)';
  }
}

/** Names of the drive settings the fixes refer to (the environment variables of loadConfig = the page's fields). */
export const DRIVE_SETTING = {
  url: 'STORAGE_URL',
  user: 'STORAGE_USER',
  password: 'STORAGE_PASSWORD',
  flavour: 'STORAGE_FLAVOUR',
  timeout: 'STORAGE_TIMEOUT_MS',
  adminUser: 'STORAGE_ADMIN_USER',
  adminPassword: 'STORAGE_ADMIN_PASSWORD',
} as const;

/**
 * Sends one request and resolves with the answer, whatever its status. Rejects only with a DriveNetworkError
 * (no HTTP answer at all: refused, DNS, TLS, timeout before the response head …). The deadline and the signal also
 * cut a body that is still arriving; what arrived by then is returned with `bodyComplete: false`.
 */
export function probeRequest(url: string, req: ProbeRequest): Promise<ProbeResponse> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new DriveNetworkError('bad_url', null, 'not a valid URL', ''));
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return Promise.reject(new DriveNetworkError('bad_url', null, `unsupported scheme ${u.protocol}`, u.host));
  }
  const isHttps = u.protocol === 'https:';
  const port = u.port !== '' ? u.port : isHttps ? '443' : '80';
  const hostname = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const target = `${u.hostname}:${port}`;
  const headers: Record<string, string> = { 'User-Agent': 'wopi-bridge-check', ...(req.headers ?? {}) };
  if (req.credentials) {
    headers.Authorization = `Basic ${Buffer.from(`${req.credentials.username}:${req.credentials.password}`, 'utf8').toString('base64')}`;
  }
  const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
  if (body !== undefined) headers['Content-Length'] = String(body.length);
  const maxBody = req.maxBodyBytes ?? 256 * 1024;
  const waitMs = req.deadline.remaining();
  const started = Date.now();
  if (req.signal?.aborted) return Promise.reject(new DriveNetworkError('aborted', null, 'cancelled before it started', target));

  return new Promise<ProbeResponse>((resolve, reject) => {
    let settled = false;
    let why: 'deadline' | 'aborted' | null = null;
    const options: https.RequestOptions = {
      protocol: u.protocol,
      hostname,
      port,
      method: req.method ?? 'GET',
      path: `${u.pathname}${u.search}`,
      headers,
      agent: false,
    };
    if (isHttps) {
      // SNI must be a host name, never an IP address.
      if (!/^[\d.]+$/.test(hostname) && !hostname.includes(':')) options.servername = hostname;
      if (req.tls?.ca !== undefined) options.ca = req.tls.ca;
      if (req.tls?.rejectUnauthorized !== undefined) options.rejectUnauthorized = req.tls.rejectUnauthorized;
    }
    const cleanup = (): void => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    };
    /** Set once the response head arrived: from then on a failure ends the body, it does not reject. */
    let finishPartial: (() => void) | null = null;
    const r = (isHttps ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (complete: boolean): void => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks), bodyComplete: complete });
      };
      finishPartial = () => finish(false);
      res.on('data', (c: Buffer) => {
        if (settled) return;
        const room = maxBody - size;
        if (c.length > room) {
          chunks.push(c.subarray(0, room));
          size = maxBody;
          finish(false);
          r.destroy();
          return;
        }
        chunks.push(c);
        size += c.length;
      });
      res.on('end', () => finish(res.complete));
      res.on('aborted', () => finish(false));
      res.on('error', () => finish(false));
      res.on('close', () => finish(res.complete));
    });
    const timer = setTimeout(() => {
      why = 'deadline';
      r.destroy(new Error('deadline'));
    }, waitMs);
    const onAbort = (): void => {
      why = 'aborted';
      r.destroy(new Error('aborted'));
    };
    req.signal?.addEventListener('abort', onAbort, { once: true });
    r.on('error', (e) => {
      if (settled) return;
      if (finishPartial) {
        finishPartial();
        return;
      }
      settled = true;
      cleanup();
      if (why === 'deadline') {
        reject(new DriveNetworkError('timeout', null, `no answer within ${waitMs} ms`, target, Date.now() - started));
        return;
      }
      if (why === 'aborted') {
        reject(new DriveNetworkError('aborted', null, 'cancelled (the check run reached its time limit)', target));
        return;
      }
      const { kind, code } = classifyNetworkError(e);
      reject(new DriveNetworkError(kind, code, e instanceof Error ? e.message : String(e), target));
    });
    r.end(body);
  });
}

/** Which step of a drive check met the network failure (names the step in the message: `msg.driveStage.<stage>`). */
export type NetworkStage = 'reach' | 'list' | 'download' | 'settings';

/** A network failure as a check tells it: English texts and their message keys. */
export interface NetworkErrorText {
  summary: string;
  fix: string;
  /** Evidence (the error as Node reported it), English only. */
  detail: string;
  messages: { summary: CheckMessage; fix: CheckMessage };
}

function stageText(stage: NetworkStage, path: string): string {
  switch (stage) {
    case 'reach':
      return 'The drive cannot be reached';
    case 'list':
      return 'Listing the drive for a probe file failed';
    case 'download':
      return `Downloading ${path} failed`;
    case 'settings':
      return 'Encryption settings not read';
  }
}

/**
 * How a network failure reads in a drive check: what happened, and what to do about it (the kind comes from
 * {@link classifyNetworkError}; the wording is the drive's).
 * @param e - the failure
 * @param stage - the step that failed
 * @param url - the drive URL (shown without credentials)
 * @param path - the probe file, for the `download` stage
 */
export function describeNetworkError(e: DriveNetworkError, stage: NetworkStage, url: string, path = ''): NetworkErrorText {
  const what = stageText(stage, path);
  const shown = redactUrl(url);
  const host = e.target;
  const name = host.replace(/:\d+$/, '');
  const detail = `${e.kind}${e.code ? ` (${e.code})` : ''}: ${e.message} — ${shown}`;
  const S = DRIVE_SETTING;
  const p = { driveStage: stage, host, name, url: shown, code: e.code ?? '', setting: S.url, timeoutSetting: S.timeout };
  const told = (summary: string, fix: string, summaryMessage: CheckMessage, fixMessage: CheckMessage): NetworkErrorText => ({
    summary,
    fix,
    detail,
    messages: { summary: summaryMessage, fix: fixMessage },
  });
  const trust =
    `Make the bridge trust the certificate: start it with NODE_EXTRA_CA_CERTS=/path/to/ca.pem (the PEM of the CA that ` +
    `signed the drive's certificate, or the self-signed certificate itself), or give the drive a certificate from a public CA ` +
    `(e.g. Let's Encrypt).`;
  switch (e.kind) {
    case 'bad_url':
      return told(
        `${what}: ${S.url} is not a valid http:// or https:// URL.`,
        `Enter the full WebDAV URL in ${S.url}, e.g. https://cloud.example.com/remote.php/dav/files/<user> for Nextcloud.`,
        msg('drive_net_bad_url', p),
        msg('drive_net_bad_url_fix', p),
      );
    case 'aborted':
      return told(
        `${what}: cancelled before ${host} answered (the whole check run reached its time limit).`,
        'Run the check again; the other results show which address does not answer.',
        msg('drive_net_aborted', p),
        msg('drive_net_aborted_fix'),
      );
    case 'refused':
      return told(
        `${what}: connection refused by ${host} — nothing listens on that port (or a firewall rejects it).`,
        `Check the host and port in ${S.url} and that the drive's web server is running. \`127.0.0.1\` inside a container ` +
          `means the container itself, not the host. Test from where the bridge runs: \`curl -I ${shown}\`.`,
        msg('drive_net_refused', p),
        msg('drive_net_refused_fix', p),
      );
    case 'dns':
      return told(
        e.code === 'EAI_AGAIN'
          ? `${what}: the name ${name} could not be resolved right now (DNS error ${e.code}: the DNS server did not answer).`
          : `${what}: the name ${name} does not resolve (DNS error ${e.code ?? ''}).`,
        `Use in ${S.url} a host name that resolves where the bridge runs (inside Docker: the drive's service name on a ` +
          `shared network), or its IP address; test with \`getent hosts ${name}\` on the bridge's host.`,
        msg(e.code === 'EAI_AGAIN' ? 'drive_net_dns_temporary' : 'drive_net_dns', p),
        msg('drive_net_dns_fix', p),
      );
    case 'timeout':
      return told(
        `${what}: no answer from ${host} within ${e.waitedMs ?? 0} ms (timeout).`,
        `A firewall that drops packets looks exactly like this (a closed port would be refused at once); check the host ` +
          `and port in ${S.url} and the network between the bridge and the drive. If the drive is only slow, raise ${S.timeout}.`,
        msg('drive_net_timeout', { ...p, waited: e.waitedMs ?? 0 }),
        msg('drive_net_timeout_fix', p),
      );
    case 'unreachable':
      return told(
        `${what}: ${host} is unreachable from the bridge (${e.code ?? 'no route'}).`,
        `Check the address in ${S.url} and the routing, VPN or container networking between the bridge and the drive.`,
        msg(e.code ? 'drive_net_unreachable' : 'drive_net_unreachable_no_route', p),
        msg('drive_net_unreachable_fix', p),
      );
    case 'reset':
      return told(
        `${what}: ${host} accepted the connection and closed it without an answer (${e.code ?? 'connection reset'}).`,
        `If that port serves HTTPS, use https:// in ${S.url} (a TLS port drops plain-HTTP requests like this); otherwise look at the proxy in front of the drive.`,
        msg('drive_net_reset', { ...p, code: e.code ?? 'ECONNRESET' }),
        msg('drive_net_reset_fix', p),
      );
    case 'tls_self_signed':
      return told(
        `${what}: the drive's TLS certificate at ${host} is self-signed, so the bridge does not trust it (${e.code ?? ''}).`,
        trust,
        msg('drive_net_tls_self_signed', p),
        msg('drive_net_tls_trust_fix'),
      );
    case 'tls_untrusted':
      return told(
        `${what}: the drive's TLS certificate at ${host} is not signed by a CA the bridge trusts, or the server sends an incomplete chain (${e.code ?? ''}).`,
        `Serve the full chain on the drive's web server (nginx: \`ssl_certificate\` must point at fullchain.pem). ${trust}`,
        msg('drive_net_tls_untrusted', p),
        msg('drive_net_tls_untrusted_fix'),
      );
    case 'tls_expired':
      return told(
        `${what}: the drive's TLS certificate at ${host} has expired (${e.code ?? ''}).`,
        'Renew the certificate on the drive\'s web server (e.g. `certbot renew`) and reload it; if it is valid, the bridge\'s clock is wrong — sync it with NTP.',
        msg('drive_net_tls_expired', p),
        msg('drive_net_tls_expired_fix'),
      );
    case 'tls_not_yet_valid':
      return told(
        `${what}: the drive's TLS certificate at ${host} is not valid yet (${e.code ?? ''}).`,
        'Sync the clocks of the bridge and the drive with NTP.',
        msg('drive_net_tls_not_yet_valid', p),
        msg('drive_net_tls_not_yet_valid_fix'),
      );
    case 'tls_hostname':
      return told(
        `${what}: the drive's TLS certificate does not cover the name ${name} (${e.code ?? ''}).`,
        `Use in ${S.url} a name the certificate was issued for, or reissue the certificate with ${name} in its subject alternative names.`,
        msg('drive_net_tls_hostname', p),
        msg('drive_net_tls_hostname_fix', p),
      );
    case 'tls_not_tls':
      return told(
        `${what}: ${shown} uses https:// but ${host} does not speak TLS there (it answers plain HTTP).`,
        `Use http:// in ${S.url} for this port, or the port the drive's HTTPS listens on (usually 443).`,
        msg('drive_net_tls_not_tls', p),
        msg('drive_net_tls_not_tls_fix', p),
      );
    case 'tls_other':
      return told(
        `${what}: the TLS handshake with ${host} failed (${e.code ?? e.message}).`,
        `\`openssl s_client -connect ${host}\` shows the problem. ${trust}`,
        msg('drive_net_tls_other', { ...p, code: e.code ?? e.message }),
        msg('drive_net_tls_other_fix', p),
      );
    case 'not_http':
      return told(
        `${what}: ${host} answered, but not with HTTP (${e.code ?? ''}).`,
        `${S.url} points at a port where another service listens: use the drive's HTTP(S) port.`,
        msg('drive_net_not_http', p),
        msg('drive_net_not_http_fix', p),
      );
    default:
      return told(
        `${what}: ${e.message}`,
        `Check ${S.url} and the network between the bridge and the drive.`,
        msg('drive_net_other', { ...p, error: e.message }),
        msg('drive_net_other_fix', p),
      );
  }
}

/** The header value as one string (first of a repeated header). */
export function headerOf(res: ProbeResponse, name: string): string | undefined {
  const v = res.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
