/**
 * A WOPI client that sends requests the way ONLYOFFICE DocService does (reference §1.4 and the captures in
 * shared/fixtures/onlyoffice/wopi-from-docservice/): its headers in its order, `User-Agent: Node.js/6.13`, the
 * token only in `access_token`, .NET-ticks timestamps, a correlation id per request, one session id, and — when
 * given DS's private keys — `X-WOPI-Proof` / `X-WOPI-ProofOld` signed over the exact URL requested.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { randomUUID, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { msToTicks, proofData } from '../../connector/src/proof/proofKeys.js';

/** What DocService 9.3.1 sends (captured). */
export const DS_USER_AGENT = 'Node.js/6.13';
export const DS_CLIENT_VERSION = '9.3.1.11';
const DS_ACCEPT = 'application/json, text/plain, */*';
const DS_ACCEPT_ENCODING = 'gzip, compress, deflate, br';

export interface ProofSigner {
  current: KeyObject;
  old: KeyObject;
}

export interface WopiAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

export interface WopiClientOptions {
  /** WOPISrc: `<base>/wopi/files/<id>`. */
  src: string;
  token: string;
  /** DS's private keys; unsigned requests without. */
  proof: ProofSigner | null;
  timeoutMs: number;
  /** Largest body read (GetFile's X-WOPI-MaxExpectedSize). */
  maxBodyBytes: number;
}

const decoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  'x-gzip': promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};

/** A request that did not produce an answer (refused, timed out, cut short); the message never holds the URL. */
export class WopiTransportError extends Error {
  constructor(
    message: string,
    readonly ms: number,
  ) {
    super(message);
    this.name = 'WopiTransportError';
  }
}

export class WopiClient {
  /** X-WOPI-SessionId: one per editing session, as DS's `usid`. */
  readonly sessionId = randomUUID();
  private readonly agent: http.Agent;

  constructor(private readonly opts: WopiClientOptions) {
    this.agent = opts.src.startsWith('https:') ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  /** The URL DS requests (and signs): `{src}{suffix}?access_token={encodeURIComponent(token)}`. */
  private url(suffix: string): string {
    return `${this.opts.src}${suffix}?access_token=${encodeURIComponent(this.opts.token)}`;
  }

  /** DS's standard headers (`fillStandardHeaders`), after the operation's own. */
  private standardHeaders(url: string): Record<string, string> {
    const now = Date.now();
    const ticks = msToTicks(now);
    const h: Record<string, string> = {};
    if (this.opts.proof) {
      const data = proofData(this.opts.token, url, ticks);
      h['X-WOPI-Proof'] = sign('RSA-SHA256', data, this.opts.proof.current).toString('base64');
      h['X-WOPI-ProofOld'] = sign('RSA-SHA256', data, this.opts.proof.old).toString('base64');
    }
    h['X-WOPI-TimeStamp'] = ticks.toString();
    h['X-WOPI-ClientVersion'] = DS_CLIENT_VERSION;
    h['X-WOPI-CorrelationId'] = randomUUID();
    h['X-WOPI-SessionId'] = this.sessionId;
    return h;
  }

  /**
   * One WOPI request.
   * @param suffix '' (files endpoint) or '/contents'
   * @param opHeaders the operation's headers (X-WOPI-Override, X-WOPI-Lock, …), sent before the standard ones
   * @throws WopiTransportError when no complete answer came back
   */
  request(method: 'GET' | 'POST', suffix: '' | '/contents', opHeaders: Record<string, string>, body: Buffer | null): Promise<WopiAnswer> {
    const url = this.url(suffix);
    const headers: Record<string, string> = { Accept: DS_ACCEPT };
    if (method === 'POST') headers['Content-Type'] = opHeaders['Content-Type'] ?? 'application/x-www-form-urlencoded';
    headers['User-Agent'] = DS_USER_AGENT;
    headers.Connection = 'Keep-Alive';
    for (const [k, v] of Object.entries(opHeaders)) if (k !== 'Content-Type') headers[k] = v;
    Object.assign(headers, this.standardHeaders(url));
    if (method === 'POST') headers['Content-Length'] = String(body?.length ?? 0);
    headers['Accept-Encoding'] = DS_ACCEPT_ENCODING;
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    const mod = url.startsWith('https:') ? https : http;
    const maxBodyBytes = this.opts.maxBodyBytes;
    return new Promise<WopiAnswer>((resolve, reject) => {
      const fail = (message: string): void => reject(new WopiTransportError(message, elapsed()));
      let req: http.ClientRequest;
      try {
        req = mod.request(url, { method, headers, agent: this.agent, timeout: this.opts.timeoutMs }, onResponse);
      } catch (e) {
        // Never the error's message: it would quote the URL, token included.
        return fail(`cannot send the request (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      function onResponse(res: http.IncomingMessage): void {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBodyBytes) {
            res.destroy();
            fail(`answer larger than ${maxBodyBytes} bytes`);
            return;
          }
          chunks.push(c);
        });
        res.on('aborted', () => fail('the answer was cut short'));
        res.on('error', (e) => fail(`the answer was cut short (${(e as NodeJS.ErrnoException).code ?? e.message})`));
        res.on('end', () => {
          if (!res.complete) return fail('the answer was cut short');
          let raw: Buffer = Buffer.concat(chunks);
          const declared = res.headers['content-length'];
          const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
          if (declared !== undefined && encoding === '' && Number(declared) !== raw.length) {
            return fail(`got ${raw.length} bytes, Content-Length said ${declared}`);
          }
          const decode = decoders[encoding];
          (decode ? decode(raw) : Promise.resolve(raw)).then(
            (b) => {
              raw = b;
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw, ms: elapsed() });
            },
            () => fail(`the ${encoding} answer could not be decoded`),
          );
        });
      }
      req.on('timeout', () => {
        req.destroy();
        fail(`no answer within ${Math.round(this.opts.timeoutMs / 1000)} s`);
      });
      req.on('error', (e: NodeJS.ErrnoException) => fail(`cannot connect: ${e.code ?? e.message}`));
      req.end(body ?? undefined);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
