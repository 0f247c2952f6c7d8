/**
 * Test helper: runs a private `redis-server` on 127.0.0.1 for integration tests, plus a tiny
 * dependency-free RESP client ({@link redisCommand}).
 *
 * redis-server comes from Debian (`scripts/install-test-deps.sh` installs it). The server gets
 * no config file: everything is passed on the command line (free port, loopback only, its own
 * data dir, no RDB snapshots, AOF on or off as asked), so it never touches a system redis.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { trackChild } from './childProcesses.js';

/** Options for {@link startRedis}. */
export interface RedisOptions {
  /** Data directory (AOF files go to `<dir>/appendonlydir`). Default: a fresh temp dir (removed by `stop()`). */
  dir?: string;
  /** `--appendonly yes|no`. Default: `true`, so data survives `restart()` and even `kill()` + `restart()`. */
  appendonly?: boolean;
}

/** A running private redis-server. */
export interface RedisServer {
  /** Connection URL, e.g. `redis://127.0.0.1:40123`. */
  url: string;
  /** TCP port on 127.0.0.1 (kept across `restart()`). */
  port: number;
  /** Data directory (kept across `restart()`). */
  dir: string;
  /** Graceful shutdown (SIGTERM: redis flushes the AOF), frees the port, removes the temp dir if the helper created it. Idempotent. */
  stop(): Promise<void>;
  /** Crash: SIGKILL, then wait for the process to be gone. Keeps the dir, so `restart()` can follow. */
  kill(): Promise<void>;
  /** Stops the server if it is running (gracefully) and starts it again on the same port and dir; resolves once PING answers. */
  restart(): Promise<void>;
}

/** A decoded RESP reply: simple string / bulk string (`string`), integer (`number`), nil (`null`), array, or error. */
export type RespValue = string | number | null | RedisReplyError | RespValue[];

/** An error reply (`-ERR ...`) from redis, returned (not thrown) by {@link redisCommand}. */
export class RedisReplyError extends Error {
  override readonly name = 'RedisReplyError';
}

const START_ATTEMPTS = 3;
const PING_ATTEMPTS = 200;
const PING_INTERVAL_MS = 25;
const STOP_GRACE_MS = 10_000;
const LOG_LIMIT = 16_384;

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Asks the kernel for a free port on 127.0.0.1 (bind port 0, read it, close). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not determine a free port');
  return address.port;
}

/**
 * One readiness probe: raw TCP, sends the inline command `PING\r\n`, resolves true on `+PONG`
 * (false on anything else, e.g. `-LOADING` while the AOF is replayed, or a refused connection).
 */
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let buffered = '';
    let settled = false;
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      if (buffered.includes('\r\n')) finish(buffered.startsWith('+PONG'));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/** True if the redis on `port` is `proc` (INFO's process_id), not some other server that holds the port. */
async function answeredByUs(port: number, proc: ChildProcess): Promise<boolean> {
  try {
    const info = await redisCommand(port, ['INFO', 'server']);
    return typeof info === 'string' && info.includes(`process_id:${proc.pid}\r\n`);
  } catch {
    return false;
  }
}

/** Encodes a command as a RESP array of bulk strings. */
function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Parses one RESP value at `offset`; returns undefined if `buf` does not hold a complete value yet. */
function parseReply(buf: Buffer, offset: number): { value: RespValue; next: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buf[offset] ?? 0);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next: afterLine };
    case '-':
      return { value: new RedisReplyError(line), next: afterLine };
    case ':':
      return { value: Number(line), next: afterLine };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next: afterLine };
      if (buf.length < afterLine + length + 2) return undefined;
      return { value: buf.toString('utf8', afterLine, afterLine + length), next: afterLine + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: afterLine };
      const items: RespValue[] = [];
      let next = afterLine;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, next);
        if (item === undefined) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

/**
 * Sends one command over a fresh raw TCP connection and returns the decoded reply (no npm client
 * needed). Error replies are returned as {@link RedisReplyError}; connection problems reject.
 *
 * @example `await redisCommand(port, ['SET', 'k', 'v'])` → `'OK'`
 * @param port - redis port on 127.0.0.1.
 * @param args - command and arguments, e.g. `['GET', 'key']`.
 * @param timeoutMs - socket inactivity timeout.
 */
export function redisCommand(port: number, args: readonly (string | Buffer)[], timeoutMs = 5_000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host: '127.0.0.1', port });
    const finish = (err: Error | undefined, value?: RespValue): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(value ?? null);
    };
    socket.setTimeout(timeoutMs, () => finish(new Error(`redis command ${String(args[0])} timed out`)));
    socket.on('connect', () => socket.write(encodeCommand(args)));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      try {
        const parsed = parseReply(buffered, 0);
        if (parsed !== undefined) finish(undefined, parsed.value);
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error('connection closed before a complete reply')));
  });
}

/**
 * Starts `redis-server --port <free> --bind 127.0.0.1 --dir <dir> --save '' --appendonly yes|no
 * --daemonize no` and waits until a raw `PING` answers `+PONG`. The port is found by binding
 * port 0 first; if redis loses the race for it, another port is tried (up to 3 times).
 *
 * Always call `stop()` (e.g. in `afterAll`); a process 'exit' hook SIGKILLs forgotten servers.
 *
 * @param opts - data dir and AOF setting; all optional.
 * @throws if redis-server is not installed, exits early, or does not answer PING in time.
 */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'wopi-redis-')));
  const appendonly = opts.appendonly ?? true;
  let log = '';
  let child: ChildProcess | undefined;

  const launch = async (port: number): Promise<void> => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      appendonly ? 'yes' : 'no',
      '--daemonize',
      'no',
      '--logfile',
      '',
    ];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    trackChild(proc);
    // Keep draining output for the server's whole life; keep the tail for error messages.
    const onData = (chunk: Buffer): void => {
      log = (log + chunk.toString('utf8')).slice(-LOG_LIMIT);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    let spawnError: Error | undefined;
    // Permanent listener: an unhandled 'error' event would crash the test process.
    proc.on('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
    });

    for (let attempt = 1; attempt <= PING_ATTEMPTS; attempt++) {
      if (spawnError !== undefined) {
        const hint =
          (spawnError as NodeJS.ErrnoException).code === 'ENOENT'
            ? ' (is redis-server installed? run scripts/install-test-deps.sh)'
            : '';
        throw new Error(`could not start redis-server${hint}: ${spawnError.message}`);
      }
      if (hasExited(proc)) {
        throw new Error(`redis-server exited before it was ready (code ${proc.exitCode}). Log:\n${log}`);
      }
      if ((await pingOnce(port)) && (await answeredByUs(port, proc))) return;
      await delay(PING_INTERVAL_MS);
    }
    await shutdown('SIGKILL');
    throw new Error(`redis-server on port ${port} did not answer PING after ${PING_ATTEMPTS} attempts. Log:\n${log}`);
  };

  /** Sends `signal` (SIGTERM escalates to SIGKILL after a grace period) and waits for exit. */
  const shutdown = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const proc = child;
    if (proc === undefined || hasExited(proc)) return;
    const exited = waitForExit(proc);
    proc.kill(signal);
    if (signal === 'SIGKILL') {
      await exited;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
    });
    const outcome = await Promise.race([exited.then(() => 'exited' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      proc.kill('SIGKILL');
      await exited;
    }
  };

  let port = 0;
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    port = await freePort();
    try {
      await launch(port);
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err;
      await shutdown('SIGKILL');
      // Only a lost race for the port is worth another try.
      if (!/Address already in use/i.test(log)) break;
      log = '';
    }
  }
  if (lastError !== undefined) {
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    throw lastError;
  }

  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await shutdown('SIGTERM');
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
    async kill(): Promise<void> {
      await shutdown('SIGKILL');
    },
    async restart(): Promise<void> {
      if (stopped) throw new Error('redis server was stopped; start a new one instead of restart()');
      await shutdown('SIGTERM');
      log = '';
      await launch(port);
    },
  };
}
