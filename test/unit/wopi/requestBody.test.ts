import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { jest } from '@jest/globals';
import { bodyFailureOf, byteLimiter, limitedBody, setBodyIdleTimeout, spoolBody } from '../../../connector/src/wopi/requestBody.js';
import { BadRequestError, ClientGoneError, PayloadTooLargeError, RequestTimeoutError } from '../../../connector/src/errors/errors.js';
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

/** A request as the HTTP server hands it over (on a socket that never connects): the test pushes its body. */
function request(): IncomingMessage {
  const socket = new Socket();
  socket.on('error', () => undefined);
  return new IncomingMessage(socket);
}

/** The client disconnects: its socket closes, then Node destroys the request (as the server's abortIncoming does). */
function leave(req: IncomingMessage): void {
  req.socket.destroy();
  req.destroy();
}

/** Lets the stream machinery (nextTick, setImmediate) run while timers are fake. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the client\'s pauses and departures', () => {
  const IDLE = 1000;
  beforeEach(() => {
    // Timers only: streams run on nextTick and setImmediate.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** Collects what a reader gets from `r`, and how it ended. */
  function consume(r: Readable): { parts: Buffer[]; outcome: Promise<unknown> } {
    const parts: Buffer[] = [];
    const outcome = (async () => {
      for await (const c of r) parts.push(c as Buffer);
      return 'ended';
    })().catch((e: unknown) => e);
    return { parts, outcome };
  }

  test('a body that pauses longer than the idle timeout fails its reader with 408 body_timeout, marked as the client\'s', async () => {
    const req = request();
    const { outcome } = consume(limitedBody(req, 1000, 100, IDLE));
    req.push(Buffer.from('first bytes'));
    await settle();
    jest.advanceTimersByTime(IDLE - 1);
    await settle();
    expect(bodyFailureOf(req)).toBeNull();
    jest.advanceTimersByTime(1);
    const e = await outcome;
    expect(e).toBeInstanceOf(RequestTimeoutError);
    expect((e as RequestTimeoutError).status).toBe(408);
    expect(bodyFailureOf(req)).toBe('body_timeout');
  });

  test('every chunk re-arms the timer: a body that keeps coming is not cut', async () => {
    const req = request();
    const { parts, outcome } = consume(limitedBody(req, 1000, 30, IDLE));
    for (let i = 0; i < 3; i++) {
      req.push(Buffer.from('0123456789'));
      await settle();
      jest.advanceTimersByTime(IDLE - 10);
      await settle();
    }
    req.push(null);
    expect(await outcome).toBe('ended');
    expect(Buffer.concat(parts).length).toBe(30);
    expect(bodyFailureOf(req)).toBeNull();
  });

  test('no timeout while the bridge is the slow one: a reader that does not read yet keeps the request paused', async () => {
    const req = request();
    const big = Buffer.alloc(256 * 1024, 1);
    const limited = limitedBody(req, big.length, big.length, IDLE);
    req.push(big);
    req.push(null);
    await settle();
    jest.advanceTimersByTime(IDLE * 10);
    await settle();
    expect(bodyFailureOf(req)).toBeNull();
    const { parts, outcome } = consume(limited);
    expect(await outcome).toBe('ended');
    expect(Buffer.concat(parts).equals(big)).toBe(true);
  });

  test('idle timeout 0 means none', async () => {
    const req = request();
    const { outcome } = consume(limitedBody(req, 1000, 100, 0));
    req.push(Buffer.from('x'));
    await settle();
    jest.advanceTimersByTime(3_600_000);
    await settle();
    expect(bodyFailureOf(req)).toBeNull();
    leave(req);
    expect(await outcome).toBeInstanceOf(ClientGoneError);
  });

  test('a request that closes before its end fails its reader with client_gone (499), even a reader that starts later', async () => {
    const req = request();
    const limited = limitedBody(req, 1000, 10, IDLE);
    req.push(Buffer.from('0123456789'));
    // The last byte has arrived (req.complete would say so) but the reader has not read it: the connection goes.
    leave(req);
    await settle();
    expect(bodyFailureOf(req)).toBe('client_gone');
    const e = await consume(limited).outcome;
    expect(e).toBeInstanceOf(ClientGoneError);
    expect((e as ClientGoneError).status).toBe(499);
  });

  test('a request stream destroyed on the bridge\'s side (not the client\'s doing) still ends its reader, unmarked', async () => {
    const req = request();
    const { outcome } = consume(limitedBody(req, 1000, 100, IDLE));
    req.push(Buffer.from('x'));
    await settle();
    // Its socket still open when the stream goes (pipeline destroys its source on a 413, say).
    req.destroy();
    expect(await outcome).toBeInstanceOf(Error);
    expect(bodyFailureOf(req)).toBeNull();
  });

  test('a request read to its end is no failure when its connection closes afterwards', async () => {
    const req = request();
    const { outcome } = consume(limitedBody(req, 1000, 5, IDLE));
    req.push(Buffer.from('hello'));
    req.push(null);
    expect(await outcome).toBe('ended');
    req.socket.destroy();
    await settle();
    jest.advanceTimersByTime(IDLE * 2);
    expect(bodyFailureOf(req)).toBeNull();
  });

  describe('spoolBody', () => {
    let dir: string;
    beforeEach(() => {
      dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'wopi-spool-')), 'tmp');
    });
    afterEach(() => {
      rmSync(path.dirname(dir), { recursive: true, force: true });
    });

    test('takes the idle timeout the server set on the request: a stalled body → 408 and no temp file is left', async () => {
      const req = request();
      setBodyIdleTimeout(req, IDLE);
      const spooled = spoolBody(req, dir, 1000, null).catch((e: unknown) => e);
      req.push(Buffer.from('chunked start'));
      // The timer starts once the temp folder is made (real I/O): let the pause run on until the spool gives up.
      let settled = false;
      void spooled.then(() => (settled = true));
      for (let i = 0; i < 1000 && !settled; i++) {
        await settle();
        jest.advanceTimersByTime(IDLE / 10);
      }
      const e = await spooled;
      expect(e).toBeInstanceOf(RequestTimeoutError);
      expect(bodyFailureOf(req)).toBe('body_timeout');
      expect(readdirSync(dir)).toEqual([]);
    });

    test('a request whose connection goes mid-body → 499 client_gone and no temp file is left', async () => {
      const req = request();
      const spooled = spoolBody(req, dir, 1000, 100).catch((e: unknown) => e);
      req.push(Buffer.from('partial'));
      await settle();
      leave(req);
      const e = await spooled;
      expect(e).toBeInstanceOf(ClientGoneError);
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    });
  });
});
