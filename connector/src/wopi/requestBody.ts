import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, PayloadTooLargeError } from '../errors/errors.js';

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
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `put-${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
  const limiter = byteLimiter(limit, declared);
  try {
    await pipeline(body, limiter, createWriteStream(file, { mode: 0o600 }));
  } catch (e) {
    await rm(file, { force: true });
    throw e;
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
 * The request body streamed through a byteLimiter. A client that disconnects fails the stream (pipe alone would
 * leave it waiting); a failed upload does not destroy the client's socket (as pipeline would), so an error answer
 * can still be sent.
 */
export function limitedBody(req: IncomingMessage, limit: number, declared: number | null): Readable {
  const limited = byteLimiter(limit, declared);
  // The consumer's own failure reports the error; this listener only keeps a late one from crashing the process.
  limited.on('error', () => undefined);
  req.once('aborted', () => limited.destroy(new Error('client disconnected')));
  req.once('error', (e) => limited.destroy(e));
  req.pipe(limited);
  return limited;
}
