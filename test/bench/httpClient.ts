/**
 * A lean HTTP/1.1 client for the load: node:http with one keep-alive agent per origin, streamed bodies both ways,
 * and the response body counted, hashed or kept as asked. Lighter than fetch, so the load generator (which shares
 * this machine's two cores with the bridge and the drive) costs as little as possible, and the same for the bridge
 * and for the direct WebDAV requests it is compared with.
 *
 * @module
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** What to do with a response body. */
export type Collect = 'count' | 'sha256' | 'buffer';

/** One request. */
export interface RequestSpec {
  method: string;
  /** Path and query on the origin, e.g. `/wopi/files/abc?access_token=…`. */
  path: string;
  headers?: Record<string, string>;
  /** A body; a Readable needs `headers['Content-Length']` (sent as given, never chunked). */
  body?: Buffer | string | Readable;
  /** What to keep of the response body (default 'count'). */
  collect?: Collect;
  /** Longest silence before the request is abandoned (default 60 s). */
  timeoutMs?: number;
}

/** One response. */
export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  /** Response body bytes received. */
  bytes: number;
  /** With collect 'sha256'. */
  sha256?: string;
  /** With collect 'buffer'. */
  body?: Buffer;
  /** From the call to the response's last byte. */
  ms: number;
}

/** A client for one origin (e.g. http://127.0.0.1:8080) with its own keep-alive agent. */
export class BenchHttp {
  readonly agent: Agent;
  private readonly hostname: string;
  private readonly port: number;

  /**
   * @param origin http://host:port (127.0.0.1 only: the bench never sends load elsewhere)
   * @param maxSockets connections kept to the origin (= concurrency of the load)
   */
  constructor(
    readonly origin: string,
    maxSockets = 64,
  ) {
    const u = new URL(origin);
    if (u.protocol !== 'http:' || u.hostname !== '127.0.0.1') throw new Error(`BenchHttp: load goes to http://127.0.0.1 only, not ${origin}`);
    this.hostname = u.hostname;
    this.port = Number(u.port);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
  }

  /**
   * Sends one request and reads the whole response.
   * @param spec the request
   * @returns status, headers and what `collect` asked for
   * @throws on a network error, a timeout or a failing request body
   */
  send(spec: RequestSpec): Promise<HttpResult> {
    const started = performance.now();
    const collect = spec.collect ?? 'count';
    return new Promise<HttpResult>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error): void => {
        if (settled) return;
        settled = true;
        req.destroy();
        reject(e);
      };
      const req = request(
        { hostname: this.hostname, port: this.port, method: spec.method, path: spec.path, headers: spec.headers, agent: this.agent },
        (res) => {
          let bytes = 0;
          const hash = collect === 'sha256' ? createHash('sha256') : null;
          const chunks: Buffer[] | null = collect === 'buffer' ? [] : null;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            hash?.update(chunk);
            chunks?.push(chunk);
          });
          res.once('error', fail);
          res.once('aborted', () => fail(new Error(`${spec.method} ${stripToken(spec.path)}: response aborted`)));
          res.once('end', () => {
            if (settled) return;
            settled = true;
            const out: HttpResult = { status: res.statusCode ?? 0, headers: res.headers, bytes, ms: performance.now() - started };
            if (hash) out.sha256 = hash.digest('hex');
            if (chunks) out.body = Buffer.concat(chunks);
            resolve(out);
          });
        },
      );
      req.setTimeout(spec.timeoutMs ?? 60_000, () => fail(new Error(`${spec.method} ${stripToken(spec.path)}: no progress for ${spec.timeoutMs ?? 60_000} ms`)));
      req.once('error', fail);
      const body = spec.body;
      if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
        req.end(body);
      } else {
        body.once('error', (e: Error) => fail(e));
        body.pipe(req);
      }
    });
  }

  /** Closes every kept connection. */
  close(): void {
    this.agent.destroy();
  }
}

/** A path without its query string (which may hold an access token), for error messages. */
export function stripToken(p: string): string {
  const i = p.indexOf('?');
  return i === -1 ? p : p.slice(0, i);
}

/** `Basic …` for user and password. */
export function basicAuth(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

/** Percent-encodes each segment of a drive path (`/a b/c.docx` → `/a%20b/c.docx`). */
export function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}
