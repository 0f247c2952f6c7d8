/**
 * The bench's data generator: a deterministic pseudo-random byte stream (the AES-128-CTR keystream of a seed), made
 * chunk by chunk so a 2 GiB file never sits in memory. The same (seed, size) always gives the same bytes, whatever
 * the chunking, so a test can regenerate what it expects.
 *
 * @module
 */
import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Size of one generated chunk (and of the stream's buffer). */
export const CHUNK_BYTES = 256 * 1024;

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** A generated stream that also reports the SHA-256 of what it emitted, once it has ended. */
export interface GeneratedStream extends Readable {
  /** Hex SHA-256 of every byte emitted so far (complete once the stream has ended). */
  sha256(): string;
}

function keyOf(seed: string): Buffer {
  return createHash('sha256').update(`wopi-bridge-bench:${seed}`).digest().subarray(0, 16);
}

/**
 * A readable stream of `size` pseudo-random bytes for `seed`.
 * @param size total bytes
 * @param seed any string; equal seeds give equal bytes
 * @param options.hash also hash the bytes (for {@link GeneratedStream.sha256}); costs CPU, off by default
 * @returns the stream
 */
export function pseudoRandomStream(size: number, seed: string, options: { hash?: boolean } = {}): GeneratedStream {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad size ${size}`);
  const cipher = createCipheriv('aes-128-ctr', keyOf(seed), Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK_BYTES);
  const hash: Hash | null = options.hash === true ? createHash('sha256') : null;
  let left = size;
  let digest: string | null = null;
  const stream = new Readable({
    highWaterMark: CHUNK_BYTES,
    read() {
      if (left <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK_BYTES, left);
      left -= n;
      const chunk = cipher.update(n === CHUNK_BYTES ? zeros : zeros.subarray(0, n));
      hash?.update(chunk);
      this.push(chunk);
    },
  }) as GeneratedStream;
  stream.sha256 = () => {
    if (hash === null) throw new Error('pseudoRandomStream: created without { hash: true }');
    if (left > 0) throw new Error('pseudoRandomStream: sha256() before the stream ended');
    digest ??= hash.digest('hex');
    return digest;
  };
  return stream;
}

/**
 * The same bytes as {@link pseudoRandomStream}, in one buffer (small sizes only).
 * @param size bytes (at most 64 MiB)
 * @param seed as for the stream
 */
export function pseudoRandomBytes(size: number, seed: string): Buffer {
  if (size > 64 * MiB) throw new RangeError('pseudoRandomBytes: use pseudoRandomStream above 64 MiB');
  return createCipheriv('aes-128-ctr', keyOf(seed), Buffer.alloc(16)).update(Buffer.alloc(size));
}

const digests = new Map<string, string>();

/**
 * SHA-256 of the generator's bytes for (size, seed), computed without I/O and remembered.
 * @returns hex digest
 */
export async function expectedSha256(size: number, seed: string): Promise<string> {
  const key = `${size}:${seed}`;
  const known = digests.get(key);
  if (known !== undefined) return known;
  const hash = createHash('sha256');
  await pipeline(
    pseudoRandomStream(size, seed),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb();
      },
    }),
  );
  const hex = hash.digest('hex');
  digests.set(key, hex);
  return hex;
}

/** Hex SHA-256 of a buffer. */
export function sha256(buf: Buffer | Uint8Array): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** "1 MiB", "256 MiB", "2 GiB". */
export function sizeLabel(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}
