import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';

/** Sockets to the drive at most (per WebdavStorage); requests beyond wait in the agent, under their idle timer. */
export const MAX_SOCKETS = 256;

/** An HTTP status ≥ 300 from the drive: `status` is what toStorageError maps; `bodyText` the start of the body. */
export class DavStatusError extends Error {
  constructor(
    readonly status: number,
    readonly bodyText: string,
  ) {
    super(`The drive answered ${status}`);
    this.name = 'DavStatusError';
  }
}

/** The request body failed while it was being sent (the WOPI client's body was cut, too long, too short). */
export class DavBodyError extends Error {
  readonly code: string;
  constructor(cause: unknown) {
    super('The request body failed', { cause });
    this.name = 'DavBodyError';
    const code = (cause as { code?: unknown } | null)?.code;
    this.code = typeof code === 'string' ? code : 'body_error';
  }
}

/** What a DavClient request carries. */
export interface DavRequest {
  method: string;
  /** Absolute URL, path already percent-encoded. */
  url: string;
  headers: Record<string, string>;
  /** A string is sent with its Content-Length; a stream is piped (the caller sets Content-Length). */
  body?: string | Readable | null;
  /** Called for every chunk of a streamed body as it is read (the caller's idle timer). */
  onBodyChunk?: () => void;
}

/** An AbortError, what toStorageError recognises as "a signal fired". */
export function abortError(): Error {
  return Object.assign(new Error('This operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

/**
 * A minimal HTTP client for the drive on node:http(s), with keep-alive sockets: one request, its body streamed,
 * resolved with the response as soon as the status line and headers are there (of any status: the caller decides).
 * Replaces the `webdav` client on the request path, which cost ~0.9 ms of CPU per request (fetch emulation,
 * AbortSignal.any, a stream pipeline per response; see test/bench/README.md). Redirects are not followed: a WebDAV
 * drive answers in place, and following one would send the drive's credentials elsewhere.
 */
export class DavClient {
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly authorization: string | null;
  private readonly send: typeof httpRequest;

  /**
   * @param opts.https whether the drive URL is https (TLS verified against Node's CAs, NODE_EXTRA_CA_CERTS included)
   * @param opts.username Basic auth user; null = no Authorization header
   */
  constructor(opts: { https: boolean; username: string | null; password: string | null; maxSockets?: number }) {
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? MAX_SOCKETS, maxFreeSockets: opts.maxSockets ?? MAX_SOCKETS };
    this.agent = opts.https ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
    this.send = (opts.https ? httpsRequest : httpRequest) as typeof httpRequest;
    this.authorization = opts.username !== null ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}` : null;
  }

  /**
   * Sends one request; a request that fails on a kept-alive socket the server had just closed is sent again once,
   * when its body can be replayed (none or a string).
   * @param onRequest receives the ClientRequest (to destroy it: a timeout, the client gone)
   * @returns the response, its body not read yet
   * @throws the socket's error, or a DavBodyError when a streamed body failed
   */
  async request(r: DavRequest, onRequest: (req: ClientRequest) => void): Promise<IncomingMessage> {
    try {
      return await this.requestOnce(r, onRequest);
    } catch (e) {
      const replayable = typeof r.body === 'string' || r.body === null || r.body === undefined;
      if (!replayable || !(e as { reusedSocket?: boolean }).reusedSocket) throw e;
      const code = (e as { code?: string }).code;
      if (code !== 'ECONNRESET' && code !== 'EPIPE') throw e;
      return this.requestOnce(r, onRequest);
    }
  }

  private requestOnce(r: DavRequest, onRequest: (req: ClientRequest) => void): Promise<IncomingMessage> {
    return new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { ...r.headers };
      if (this.authorization !== null) headers.Authorization = this.authorization;
      const body = r.body ?? null;
      let payload: Buffer | null = null;
      if (typeof body === 'string') {
        payload = Buffer.from(body, 'utf8');
        headers['Content-Length'] = String(payload.length);
      }
      const req = this.send(r.url, { method: r.method, headers, agent: this.agent });
      onRequest(req);
      req.once('response', resolve);
      req.on('error', (e) => {
        // Kept for request(): whether the failure may be the server closing an idle kept-alive socket.
        if (req.reusedSocket && e && typeof e === 'object') Object.assign(e, { reusedSocket: true });
        reject(e);
      });
      if (body === null || typeof body === 'string') {
        req.end(payload ?? undefined);
        return;
      }
      const source: Readable = body;
      const onError = (e: unknown): void => {
        req.destroy(new DavBodyError(e));
      };
      source.on('error', onError);
      if (r.onBodyChunk) {
        const tick = r.onBodyChunk;
        source.on('data', tick);
        req.once('close', () => source.off('data', tick));
      }
      // The answer can come before the body is sent (an early 401, 412, 507): stop reading the body then.
      req.once('close', () => {
        source.off('error', onError);
        source.unpipe(req);
      });
      source.pipe(req);
    });
  }

  /** Closes the kept-alive sockets. */
  destroy(): void {
    this.agent.destroy();
  }
}

/**
 * Reads the start of an error answer (for the Sabre exception and message), at most `limit` bytes, then drops the
 * rest. Never fails: a body that breaks gives what was read.
 */
export async function readErrorText(res: IncomingMessage, arm: () => void, limit = 4096): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      arm();
      chunks.push(chunk);
      n += chunk.length;
      if (n >= limit) {
        res.destroy();
        break;
      }
    }
  } catch {
    // what was read is enough
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}
