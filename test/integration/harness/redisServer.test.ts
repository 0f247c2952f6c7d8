/**
 * Proves the redis-server harness works: start, SET/GET over raw RESP, persistence across
 * restart() with appendonly yes (also after a SIGKILL), loss without it, and that stop() frees the port.
 */
import { execFileSync } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { RedisReplyError, redisCommand, startRedis } from '../../helpers/redisServer.js';
import type { RedisServer } from '../../helpers/redisServer.js';

/** Resolves once a plain TCP server could listen on `port` (and is closed again), i.e. the port is free. */
async function canListenOn(port: number): Promise<boolean> {
  const server = net.createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

describe('redis-server harness', () => {
  const started: RedisServer[] = [];
  const start = async (...args: Parameters<typeof startRedis>): Promise<RedisServer> => {
    const redis = await startRedis(...args);
    started.push(redis);
    return redis;
  };

  afterAll(async () => {
    await Promise.all(started.map((r) => r.stop()));
  });

  it('runs Debian redis-server 7.x', () => {
    expect(execFileSync('redis-server', ['--version'], { encoding: 'utf8' })).toMatch(/^Redis server v=7\./);
  });

  it('starts on 127.0.0.1 and answers SET/GET over raw RESP', async () => {
    const redis = await start();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await redisCommand(redis.port, ['PING'])).toBe('PONG');
    expect(await redisCommand(redis.port, ['SET', 'greeting', 'hello wörld'])).toBe('OK');
    expect(await redisCommand(redis.port, ['GET', 'greeting'])).toBe('hello wörld');
    expect(await redisCommand(redis.port, ['GET', 'missing'])).toBeNull();
    expect(await redisCommand(redis.port, ['INCR', 'counter'])).toBe(1);
    expect(await redisCommand(redis.port, ['RPUSH', 'list', 'a', 'b'])).toBe(2);
    expect(await redisCommand(redis.port, ['LRANGE', 'list', '0', '-1'])).toEqual(['a', 'b']);
    expect(await redisCommand(redis.port, ['NOSUCHCOMMAND'])).toBeInstanceOf(RedisReplyError);
  });

  it('is configured as asked: loopback only, its own dir, no RDB snapshots, AOF on by default', async () => {
    const redis = await start();
    expect(await redisCommand(redis.port, ['CONFIG', 'GET', 'bind'])).toEqual(['bind', '127.0.0.1']);
    expect(await redisCommand(redis.port, ['CONFIG', 'GET', 'dir'])).toEqual(['dir', redis.dir]);
    expect(await redisCommand(redis.port, ['CONFIG', 'GET', 'save'])).toEqual(['save', '']);
    expect(await redisCommand(redis.port, ['CONFIG', 'GET', 'appendonly'])).toEqual(['appendonly', 'yes']);
  });

  it('restart() keeps data with appendonly yes, on the same port and dir', async () => {
    const redis = await start({ appendonly: true });
    const { port, dir } = redis;
    expect(await redisCommand(port, ['SET', 'durable', 'yes'])).toBe('OK');
    await redis.restart();
    expect(redis.port).toBe(port);
    expect(redis.dir).toBe(dir);
    expect(await redisCommand(port, ['GET', 'durable'])).toBe('yes');
    await access(path.join(dir, 'appendonlydir'));
  });

  it('kill() (SIGKILL) then restart() keeps acknowledged writes with appendonly yes', async () => {
    const redis = await start({ appendonly: true });
    expect(await redisCommand(redis.port, ['SET', 'crash', 'survived'])).toBe('OK');
    await redis.kill();
    await expect(redisCommand(redis.port, ['PING'])).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await redis.restart();
    expect(await redisCommand(redis.port, ['GET', 'crash'])).toBe('survived');
  });

  it('restart() loses data with appendonly no (and --save \'\')', async () => {
    const redis = await start({ appendonly: false });
    expect(await redisCommand(redis.port, ['SET', 'volatile', 'x'])).toBe('OK');
    await redis.restart();
    expect(await redisCommand(redis.port, ['GET', 'volatile'])).toBeNull();
  });

  it('stop() frees the port and removes the temp dir; it is idempotent', async () => {
    const redis = await start();
    expect(await canListenOn(redis.port)).toBe(false);
    await redis.stop();
    await expect(redisCommand(redis.port, ['PING'])).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await canListenOn(redis.port)).toBe(true);
    await expect(access(redis.dir)).rejects.toMatchObject({ code: 'ENOENT' });
    await redis.stop();
    await expect(redis.restart()).rejects.toThrow(/stopped/);
  });

  it('a caller-provided dir is kept after stop() and its AOF is loaded by a new server', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'redis-harness-test-'));
    try {
      const first = await start({ dir });
      expect(first.dir).toBe(dir);
      expect(await redisCommand(first.port, ['SET', 'k', 'v'])).toBe('OK');
      await first.stop();
      await access(dir);
      const second = await start({ dir });
      expect(await redisCommand(second.port, ['GET', 'k'])).toBe('v');
      await second.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
