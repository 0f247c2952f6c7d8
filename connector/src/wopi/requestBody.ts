import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { countStreamed } from '../http/streamGc.js';
import { BadRequestError, ClientGoneError, PayloadTooLargeError, RequestTimeoutError, isWopiError } from '../errors/errors.js';

/** Why a request body could not be read to its end — the client's doing, not the bridge's or the drive's. */
export type BodyFailure = 'body_timeout' | 'request_timeout' | 'client_gone';

const idleTimeouts = new WeakMap<IncomingMessage, number>();
const failures = new WeakMap<IncomingMessage, BodyFailure>();

/**
 * Sets the longest pause allowed in `req`'s body (BODY_IDLE_TIMEOUT_MS); the server does this for every request,
 * and the body readers below apply it.
 * @param req the request
 * @param ms longest pause in ms while the bridge waits for the client (0 = none)
 */
export function setBodyIdleTimeout(req: IncomingMessage, ms: number): void {
  idleTimeouts.set(req, ms);
}

/**
 * Why reading `req`'s body failed through the client (paused too long, request timeout, disconnected), or null.
 * Whatever was consuming the body (a drive upload, a temp file) fails with an error of its own then: errorMiddleware
 * uses this to answer and log the client's failure as such (408 / 499), not as a drive failure.
 */
export function bodyFailureOf(req: IncomingMessage): BodyFailure | null {
  return failures.get(req) ?? null;
}

/**
 * Watches `req` while it is read into `target`: destroys `target` with a RequestTimeoutError (408) when the client
 * sends nothing for the idle timeout although the bridge is ready for more, and with a ClientGoneError when the
 * request closes before its end — also when its last byte had arrived but was not read yet (`req.complete` is then
 * true: only `readableEnded` tells that the body never reached the reader).
 * @returns a function that stops watching
 */
function watchBody(req: IncomingMessage, target: Transform, idleMs: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  const fail = (kind: BodyFailure | null, e: Error): void => {
    stop();
    if (kind !== null && !failures.has(req)) failures.set(req, kind);
    failWhenRead(target, e);
  };
  const onIdle = (): void => {
    // Paused by backpressure (the drive or the disk is the slow one), or bytes still buffered: not the client's pause.
    if (req.readableFlowing !== true || req.readableLength > 0) return arm();
    fail('body_timeout', new RequestTimeoutError({ idleMs }));
  };
  const arm = (): void => {
    clearTimeout(timer);
    // unref: a request left behind (its socket gone) must not keep a stopping process alive.
    if (idleMs > 0) timer = setTimeout(onIdle, idleMs).unref();
  };
  const onClose = (): void => {
    if (req.readableEnded) return stop();
    // Socket alive: the request stream was destroyed on our side (pipeline does on a 413); the reader must still end.
    if (req.socket !== null && !req.socket.destroyed) return fail(null, new Error('request stream closed before its end'));
    // Node's requestTimeout destroys the socket with ERR_HTTP_REQUEST_TIMEOUT (and answers 408 itself).
    const timedOut = (req.socket as { errored?: { code?: string } | null } | null)?.errored?.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    fail(timedOut ? 'request_timeout' : 'client_gone', timedOut ? new RequestTimeoutError({ requestTimeout: true }) : new ClientGoneError({ while: 'reading body' }));
  };
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', arm);
    req.off('end', stop);
    req.off('close', onClose);
    req.off('aborted', onClose);
  };
  if (req.readableEnded) return stop;
  req.on('data', arm);
  req.once('end', stop);
  req.once('close', onClose);
  req.once('aborted', onClose);
  if (req.destroyed) onClose();
  else arm();
  return stop;
}

/**
 * Destroys `stream` with `e` now if someone reads it, else when someone starts to. A consumer that attaches later
 * (the drive upload waits for the file's write lock and a stat first) would never hear of an error emitted before:
 * piping a destroyed stream neither ends nor fails, and the upload would wait for the drive's timeout.
 */
function failWhenRead(stream: Transform, e: Error): void {
  if (stream.readableFlowing !== null || stream.destroyed) {
    stream.destroy(e);
    return;
  }
  stream._read = () => {
    stream.destroy(e);
  };
}

/** The request behind `body`, when it is one (only an IncomingMessage has a body timeout and can be aborted). */
function asRequest(body: Readable): IncomingMessage | null {
  return body instanceof IncomingMessage ? body : null;
}

/**
 * A Transform that counts bytes, fails with 413 past `limit` and, when `declared` is given, fails when the body
 * ends shorter than declared (a cut-off upload must never be stored as the file).
 */
export function byteLimiter(limit: number, declared: number | null): Transform & { bytes: () => number } {
  let n = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (n > limit) return cb(new PayloadTooLargeError(limit));
      if (declared !== null && n > declared) return cb(new BadRequestError('Body longer than Content-Length', 'bad_length'));
      cb(null, chunk);
      countStreamed(chunk.length);
    },
    flush(cb) {
      if (declared !== null && n !== declared) return cb(new BadRequestError('Body shorter than Content-Length', 'truncated_body'));
      cb();
    },
  }) as Transform & { bytes: () => number };
  t.bytes = () => n;
  return t;
}

/** A request body kept in a local temporary file, so it can be sent more than once. */
export interface Spool {
  size: number;
  open(): Readable;
  dispose(): Promise<void>;
}

/**
 * Writes a body to a temporary file under `dir` (mode 0600), enforcing the limit.
 * Used when the length is unknown (a PUT to the drive needs Content-Length) and where the drive may consume the
 * body before refusing it, so that a conflict copy or a retry can still be written.
 */
export async function spoolBody(body: Readable, dir: string, limit: number, declared: number | null): Promise<Spool> {
  // A request is watched like limitedBody's (idle timeout, disconnect); its failure is thrown as the client's.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `put-${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
  const limiter = byteLimiter(limit, declared);
  const req = asRequest(body);
  const written = pipeline(body, limiter, createWriteStream(file, { mode: 0o600 }));
  const unwatch = req ? watchBody(req, limiter, idleTimeouts.get(req) ?? 0) : () => undefined;
  try {
    await written;
  } catch (e) {
    await rm(file, { force: true });
    // The client's failure, whichever stream reported first (a premature close of the request, say).
    if (isWopiError(e)) throw e; // 413, a wrong length, or the watcher's own 408 / 499
    const failure = req ? bodyFailureOf(req) : null;
    if (failure === 'client_gone') throw new ClientGoneError({ while: 'reading body' }, e);
    if (failure !== null) throw new RequestTimeoutError({ failure });
    throw e;
  } finally {
    unwatch();
  }
  return {
    size: limiter.bytes(),
    open: () => createReadStream(file),
    dispose: () => rm(file, { force: true }),
  };
}

/**
 * The request's Content-Length, or null when it has none (chunked).
 * @throws BadRequestError when it is not a plain number
 */
export function declaredLength(headers: IncomingHttpHeaders): number | null {
  const raw = headers['content-length'];
  if (raw === undefined) return null;
  if (!/^\d{1,16}$/.test(raw)) throw new BadRequestError('Bad Content-Length', 'bad_length');
  return Number(raw);
}

/**
 * The request body streamed through a byteLimiter. A client that disconnects, or pauses longer than the body idle
 * timeout, fails the stream (pipe alone would leave it waiting; see watchBody); a failed upload does not destroy the
 * client's socket (as pipeline would), so an error answer can still be sent.
 * @param req the request
 * @param limit largest body (413 past it)
 * @param declared its Content-Length, or null
 * @param idleMs longest pause of the client; default the one the server set for `req` (none when unset)
 */
export function limitedBody(req: IncomingMessage, limit: number, declared: number | null, idleMs = idleTimeouts.get(req) ?? 0): Readable {
  const limited = byteLimiter(limit, declared);
  // The consumer's own failure reports the error; this listener only keeps a late one from crashing the process.
  limited.on('error', () => undefined);
  req.once('error', (e) => limited.destroy(e));
  req.pipe(limited);
  const unwatch = watchBody(req, limited, idleMs);
  limited.once('close', unwatch);
  return limited;
}
