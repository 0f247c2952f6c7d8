import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { byteLimiter, spoolBody } from '../../../connector/src/wopi/requestBody.js';
import { BadRequestError, PayloadTooLargeError } from '../../../connector/src/errors/errors.js';
import { rejection } from '../../helpers/rejection.js';

/** A body arriving in the given chunks. */
const body = (...chunks: Array<string | Buffer>): Readable => Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));

/** Runs `input` through a byteLimiter and collects the output. */
async function throughLimiter(input: Readable, limit: number, declared: number | null): Promise<{ out: Buffer; bytes: number }> {
  const limiter = byteLimiter(limit, declared);
  const parts: Buffer[] = [];
  await pipeline(
    input,
    limiter,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return { out: Buffer.concat(parts), bytes: limiter.bytes() };
}

describe('byteLimiter', () => {
  test('passes the exact bytes through and counts them', async () => {
    const data = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const { out, bytes } = await throughLimiter(body(data.subarray(0, 3), data.subarray(3)), 100, data.length);
    expect(out.equals(data)).toBe(true);
    expect(bytes).toBe(7);
  });

  test('a body of exactly the limit passes', async () => {
    const { out } = await throughLimiter(body('12345', '67890'), 10, null);
    expect(out.toString()).toBe('1234567890');
  });

  test('an empty body with Content-Length 0 passes', async () => {
    const { out, bytes } = await throughLimiter(body(), 10, 0);
    expect(out.length).toBe(0);
    expect(bytes).toBe(0);
  });

  test('one byte past the limit → 413 PayloadTooLargeError', async () => {
    const e = await rejection(throughLimiter(body('12345', '678901'), 10, null));
    expect(e).toBeInstanceOf(PayloadTooLargeError);
    expect((e as PayloadTooLargeError).status).toBe(413);
  });

  test('past the limit wins over a wrong declared length → 413', async () => {
    const e = await rejection(throughLimiter(body('x'.repeat(20)), 10, 5));
    expect(e).toBeInstanceOf(PayloadTooLargeError);
  });

  test('shorter than declared (a cut-off upload) → 400 truncated_body', async () => {
    const e = await rejection(throughLimiter(body('1234'), 100, 5));
    expect(e).toBeInstanceOf(BadRequestError);
    expect((e as BadRequestError).status).toBe(400);
    expect((e as BadRequestError).code).toBe('truncated_body');
  });

  test('longer than declared → 400 bad_length', async () => {
    const e = await rejection(throughLimiter(body('123', '456'), 100, 5));
    expect(e).toBeInstanceOf(BadRequestError);
    expect((e as BadRequestError).code).toBe('bad_length');
  });
});

describe('spoolBody', () => {
  let dir: string;
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'wopi-spool-')), 'tmp');
  });
  afterEach(() => {
    rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  const readAll = async (r: Readable): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const c of r) parts.push(c as Buffer);
    return Buffer.concat(parts);
  };

  test('writes the body to a 0600 file in a 0700 folder; open() streams the same bytes, repeatedly', async () => {
    const data = Buffer.concat([Buffer.from('PK\u0003\u0004'), Buffer.alloc(70_000, 7), Buffer.from([0, 255])]);
    const spool = await spoolBody(body(data.subarray(0, 1000), data.subarray(1000)), dir, 1_000_000, data.length);
    try {
      expect(spool.size).toBe(data.length);
      const files = readdirSync(dir);
      expect(files).toHaveLength(1);
      expect(statSync(path.join(dir, files[0] as string)).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect((await readAll(spool.open())).equals(data)).toBe(true);
      expect((await readAll(spool.open())).equals(data)).toBe(true);
    } finally {
      await spool.dispose();
    }
  });

  test('dispose() removes the file, and a second dispose() is harmless', async () => {
    const spool = await spoolBody(body('hello'), dir, 100, null);
    expect(readdirSync(dir)).toHaveLength(1);
    await spool.dispose();
    expect(readdirSync(dir)).toEqual([]);
    await expect(spool.dispose()).resolves.toBeUndefined();
  });

  test('an empty body gives an empty spool', async () => {
    const spool = await spoolBody(body(), dir, 100, 0);
    expect(spool.size).toBe(0);
    expect((await readAll(spool.open())).length).toBe(0);
    await spool.dispose();
  });

  test('two spools at once use different files', async () => {
    const [a, b] = await Promise.all([spoolBody(body('aaa'), dir, 100, null), spoolBody(body('bbbb'), dir, 100, null)]);
    expect(readdirSync(dir)).toHaveLength(2);
    expect((await readAll(a.open())).toString()).toBe('aaa');
    expect((await readAll(b.open())).toString()).toBe('bbbb');
    await a.dispose();
    await b.dispose();
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a body over the limit → 413 and no temp file is left', async () => {
    const e = await rejection(spoolBody(body('x'.repeat(10), 'y'.repeat(10)), dir, 15, null));
    expect(e).toBeInstanceOf(PayloadTooLargeError);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  test('a body over the limit in its first chunk → 413 and no temp file is left', async () => {
    for (let i = 0; i < 20; i++) {
      await expect(spoolBody(body('x'.repeat(100)), dir, 15, null)).rejects.toBeInstanceOf(PayloadTooLargeError);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a body shorter than declared → 400 and no temp file is left', async () => {
    await expect(spoolBody(body('abc'), dir, 100, 10)).rejects.toBeInstanceOf(BadRequestError);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a body that fails mid-way (client gone) → rejects with that error and no temp file is left', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
      },
    });
    await expect(spoolBody(failing, dir, 100, null)).rejects.toThrow('aborted');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a body that fails immediately → no temp file is left', async () => {
    for (let i = 0; i < 20; i++) {
      const failing = new Readable({
        read() {
          this.destroy(new Error('boom'));
        },
      });
      await expect(spoolBody(failing, dir, 100, null)).rejects.toThrow('boom');
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
