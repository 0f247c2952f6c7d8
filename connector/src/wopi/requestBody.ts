import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
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
