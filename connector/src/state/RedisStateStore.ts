// Types only at load time: ioredis (~10 MB of heap) is imported when a Redis store is actually created.
import type { Redis, RedisOptions } from 'ioredis';
import type { CasResult, StateStore } from './StateStore.js';
import { StateStoreError } from '../errors/errors.js';

/** Options of {@link createRedisStateStore}. */
export interface RedisStateStoreOptions {
  /** Prepended to every key: `${prefix}${ns}:${key}`. Default `wopi-bridge:`. */
  prefix?: string;
  /**
   * Longest wait for one Redis reply (ms). A command not answered in time rejects with StateStoreError, and a
   * connection that stays silent that long is dropped and re-established in the background. Default 2000.
   */
  commandTimeoutMs?: number;
  /** Longest wait for the first connection in {@link createRedisStateStore} (ms). Default 5000. */
  connectTimeoutMs?: number;
  /** Clock used to turn Redis PTTLs into `expiresAt` in `list` (the expiry itself is Redis's own). */
  now?: () => number;
}

export const DEFAULT_PREFIX = 'wopi-bridge:';
const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** Background reconnect backoff: 100 ms, 200 ms, … capped at 1 s (plus up to 100 ms jitter). */
const MAX_RECONNECT_DELAY_MS = 1000;
const SCAN_COUNT = 500;

/**
 * compareAndSet, atomically (a Lua script runs alone on the server).
 * KEYS[1] the key; ARGV: expected present ('1'/'0'), expected value, mode ('set' | 'px' | 'del'), next value, ttl ms.
 * Returns {1} when applied, else {0, currentPresent, currentValue}: flags instead of nil, because a nil inside a
 * Lua table truncates it and Lua false maps differently under RESP2 and RESP3.
 */
const CAS_LUA = `
local cur = redis.call('GET', KEYS[1])
local matches
if ARGV[1] == '1' then matches = (cur == ARGV[2]) else matches = (cur == false) end
if not matches then
  if cur then return {0, 1, cur} end
  return {0, 0, ''}
end
if ARGV[3] == 'px' then
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
elseif ARGV[3] == 'set' then
  redis.call('SET', KEYS[1], ARGV[4])
else
  redis.call('DEL', KEYS[1])
end
return {1}
`;

/**
 * Value and PTTL of each key, read together (for `list`): a flat array of triples {present, value, pttl}.
 * pcall: a key of another type under our prefix is skipped, not an error.
 */
const ENTRIES_LUA = `
local out = {}
for _, k in ipairs(KEYS) do
  local v = redis.pcall('GET', k)
  if type(v) == 'string' then
    out[#out + 1] = 1
    out[#out + 1] = v
    out[#out + 1] = redis.call('PTTL', k)
  else
    out[#out + 1] = 0
    out[#out + 1] = ''
    out[#out + 1] = -2
  end
end
return out
`;

/** The two scripts as ioredis custom commands (EVALSHA, falling back to EVAL after NOSCRIPT, e.g. after a restart). */
interface ScriptCommands {
  wopiBridgeCas(key: string, expectedPresent: string, expected: string, mode: string, next: string, ttl: string): Promise<unknown>;
  wopiBridgeEntries(numKeys: number, ...keys: string[]): Promise<unknown>;
}

type Client = Redis & ScriptCommands;

/** Escapes the glob characters of SCAN MATCH. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Redis's answers are untrusted shapes; anything unexpected fails closed. */
function protocolError(what: string): Error {
  return new Error(`unexpected reply to ${what}`);
}

function isAuthFailure(message: string): boolean {
  return /^(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|invalid username-password/i.test(message);
}

/**
 * Durable state in Redis, shared by every bridge instance pointed at it. Keys are `${prefix}${ns}:${key}` string
 * values with a PX expiry; compareAndSet is one Lua script, so it is atomic across instances.
 *
 * Fails closed: while Redis is unreachable, slow or refusing us, every method rejects with StateStoreError (500)
 * within the command timeout — commands are never queued for later and never answered as if a key were absent.
 * The client reconnects in the background, so the store works again once Redis is back.
 *
 * Create it with {@link createRedisStateStore}.
 */
export class RedisStateStore implements StateStore {
  private closed = false;

  /** Use {@link createRedisStateStore}. */
  constructor(
    private readonly client: Client,
    /** The last connection error ioredis reported (redacted), kept by the factory's listener. */
    private readonly health: { readonly lastError?: string },
    private readonly redact: (message: string) => string,
    private readonly server: string,
    private readonly prefix: string,
    private readonly commandTimeoutMs: number,
    private readonly now: () => number,
  ) {}

  /** `host:port` of the Redis server (no credentials), for logs. */
  get address(): string {
    return this.server;
  }

  /** `${prefix}${ns}:${key}`. A ':' in ns would make ('a:b', 'c') and ('a', 'b:c') one key, so it is refused. */
  private key(op: string, ns: string, key: string): string {
    if (ns.includes(':')) throw this.fail(op, new Error(`namespace ${JSON.stringify(ns)} contains ':'`));
    return `${this.prefix}${ns}:${key}`;
  }

  private describe(e: unknown): string {
    const message = e instanceof Error ? e.message : String(e);
    return this.redact(message);
  }

  /** A StateStoreError whose detail and cause carry no credentials (ioredis errors hold the command's args). */
  private fail(op: string, e: unknown): StateStoreError {
    const reason = this.describe(e);
    const cause = new Error(reason);
    const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
    const detail: Record<string, unknown> = { op, backend: 'redis', server: this.server, reason };
    if (typeof code === 'string') detail.errorCode = code;
    const last = this.health.lastError;
    if (this.client.status !== 'ready' && last !== undefined && last !== reason) detail.lastConnectionError = last;
    return new StateStoreError(detail, cause);
  }

  /** Runs one Redis call with a hard deadline (backing up ioredis's own commandTimeout) and maps every failure. */
  private async call<T>(op: string, fn: (c: Client) => Promise<T>): Promise<T> {
    if (this.closed) throw this.fail(op, new Error('state store closed'));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no reply within ${this.commandTimeoutMs} ms`)), this.commandTimeoutMs);
    });
    try {
      return await Promise.race([fn(this.client), deadline]);
    } catch (e) {
      throw this.fail(op, e);
    } finally {
      clearTimeout(timer);
    }
  }

  /** PX argument: a positive integer; undefined = no expiry; <= 0 = already expired. Rejects NaN/Infinity. */
  private ttl(op: string, ttlMs: number | undefined): number | undefined {
    if (ttlMs === undefined) return undefined;
    if (!Number.isFinite(ttlMs)) throw this.fail(op, new Error(`invalid ttlMs ${String(ttlMs)}`));
    return ttlMs <= 0 ? 0 : Math.ceil(ttlMs);
  }

  async get(ns: string, key: string): Promise<string | null> {
    const k = this.key('get', ns, key);
    const v = await this.call('get', (c) => c.get(k));
    return v ?? null;
  }

  async set(ns: string, key: string, value: string, ttlMs?: number): Promise<void> {
    const ttl = this.ttl('set', ttlMs);
    const k = this.key('set', ns, key);
    await this.call<unknown>('set', (c) => (ttl === undefined ? c.set(k, value) : ttl === 0 ? c.del(k) : c.set(k, value, 'PX', ttl)));
  }

  async delete(ns: string, key: string): Promise<void> {
    const k = this.key('delete', ns, key);
    await this.call('delete', (c) => c.del(k));
  }

  async compareAndSet(ns: string, key: string, expected: string | null, next: string | null, ttlMs?: number): Promise<CasResult> {
    const k = this.key('compareAndSet', ns, key);
    const ttl = this.ttl('compareAndSet', ttlMs);
    // A value set already expired is a delete (as in the SQLite store, where it is stored expired).
    const mode = next === null || ttl === 0 ? 'del' : ttl === undefined ? 'set' : 'px';
    const reply = await this.call('compareAndSet', (c) =>
      c.wopiBridgeCas(k, expected === null ? '0' : '1', expected ?? '', mode, next ?? '', String(ttl ?? '')),
    );
    if (!Array.isArray(reply)) throw this.fail('compareAndSet', protocolError('compareAndSet'));
    const [applied, present, current] = reply as unknown[];
    if (applied === 1) return { ok: true, current: next };
    if (applied === 0 && present === 0) return { ok: false, current: null };
    if (applied === 0 && present === 1 && typeof current === 'string') return { ok: false, current };
    throw this.fail('compareAndSet', protocolError('compareAndSet'));
  }

  /** SCAN MATCH over the namespace, then values and PTTLs per batch (for diagnostics, not request paths). */
  async list(ns: string): Promise<Array<{ key: string; value: string; expiresAt: number | null }>> {
    const head = this.key('list', ns, '');
    const match = `${globEscape(head)}*`;
    const seen = new Set<string>();
    const out: Array<{ key: string; value: string; expiresAt: number | null }> = [];
    let cursor = '0';
    do {
      const [nextCursor, keys] = await this.call('list', (c) => c.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT));
      cursor = nextCursor;
      const fresh = keys.filter((k) => k.startsWith(head) && !seen.has(k));
      if (fresh.length === 0) continue;
      for (const k of fresh) seen.add(k);
      const reply = await this.call('list', (c) => c.wopiBridgeEntries(fresh.length, ...fresh));
      if (!Array.isArray(reply) || reply.length !== fresh.length * 3) throw this.fail('list', protocolError('list'));
      const now = this.now();
      fresh.forEach((k, i) => {
        const [present, value, pttl] = reply.slice(i * 3, i * 3 + 3) as unknown[];
        if (present !== 1 || typeof value !== 'string' || typeof pttl !== 'number' || pttl === -2) return;
        out.push({ key: k.slice(head.length), value, expiresAt: pttl < 0 ? null : now + pttl });
      });
    } while (cursor !== '0');
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** QUIT when connected (bounded by the command timeout), then drops the connection and stops reconnecting. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.client;
    const status = (): string => c.status;
    if (status() === 'end') return;
    const ended = new Promise<void>((resolve) => c.once('end', () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.commandTimeoutMs);
    });
    try {
      if (status() === 'ready') await Promise.race([c.quit().then(() => ended), bounded]).catch(() => undefined);
    } finally {
      clearTimeout(timer);
      if (status() !== 'end') {
        c.disconnect();
        await Promise.race([ended, new Promise<void>((resolve) => setTimeout(resolve, 100).unref())]);
      }
    }
  }
}

/** Parses and checks the URL; the returned redactor removes its password (raw and percent-encoded) from text. */
function parseUrl(url: string): { server: string; redact: (s: string) => string } | { error: string; redact: (s: string) => string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Unparseable: we cannot tell where a password would be, so nothing of the URL is echoed.
    return { error: 'invalid Redis URL (expected redis://[[user]:password@]host[:port][/db])', redact: () => '[redacted]' };
  }
  const secrets = new Set<string>();
  if (parsed.password !== '') {
    secrets.add(parsed.password);
    try {
      secrets.add(decodeURIComponent(parsed.password));
    } catch {
      // keep the encoded form only
    }
  }
  const redact = (s: string): string => {
    let out = s;
    for (const secret of secrets) if (secret !== '') out = out.split(secret).join('***');
    // Any credentials in a URL-looking string, whatever they are.
    return out.replace(/(rediss?:\/\/)[^@/\s]*@/gi, '$1***@');
  };
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    return { error: `unsupported URL scheme ${redact(parsed.protocol)} (expected redis: or rediss:)`, redact };
  }
  if (parsed.hostname === '') return { error: 'Redis URL without a host', redact };
  return { server: `${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`, redact };
}

/**
 * Connects to Redis and returns the store once the connection is ready.
 *
 * @param url `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS); the password never appears in
 *   errors or logs
 * @throws StateStoreError (500, 'state_store_unavailable') when the URL is invalid, authentication fails, or Redis
 *   is not ready within `connectTimeoutMs` (it keeps trying until then, so Redis may start alongside the bridge)
 */
export async function createRedisStateStore(url: string, options: RedisStateStoreOptions = {}): Promise<RedisStateStore> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const parsed = parseUrl(url);
  const failEarly = (reason: string, server?: string): StateStoreError =>
    new StateStoreError({ op: 'connect', backend: 'redis', ...(server === undefined ? {} : { server }), reason }, new Error(reason));
  if ('error' in parsed) throw failEarly(parsed.error);
  for (const [name, v] of [
    ['commandTimeoutMs', commandTimeoutMs],
    ['connectTimeoutMs', connectTimeoutMs],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0) throw failEarly(`invalid ${name} ${String(v)}`, parsed.server);
  }
  const { server, redact } = parsed;
  const { Redis: RedisClient } = await import('ioredis');

  const redisOptions: RedisOptions = {
    lazyConnect: true,
    // Fail closed: a command while disconnected is rejected at once instead of queued…
    enableOfflineQueue: false,
    // …one in flight when the connection drops is rejected at once (0 = flush on every close), not resent later…
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // …and one the server does not answer is rejected after the timeout; a connection silent that long (a frozen
    // server, a half-open TCP connection) is dropped and re-established.
    commandTimeout: commandTimeoutMs,
    socketTimeout: commandTimeoutMs,
    connectTimeout: Math.min(connectTimeoutMs, Math.max(commandTimeoutMs, 1000)),
    // disconnect() arms a timer of this length even when the socket is already gone (it is only cleared on the
    // socket's 'close', which then never comes); keep it short so close() leaves nothing behind for long.
    disconnectTimeout: 200,
    // Reconnect forever in the background, with a capped backoff.
    retryStrategy: (times: number) => Math.min(100 * times, MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 100),
    // After a failover the old primary answers READONLY: reconnect (the failed command still fails).
    reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 1 : false),
  };
  let client: Client;
  try {
    client = new RedisClient(url, redisOptions) as Client;
  } catch (e) {
    throw failEarly(`invalid Redis URL: ${redact(e instanceof Error ? e.message : String(e))}`, server);
  }
  // EVALSHA, with ioredis falling back to EVAL (which loads the script) on NOSCRIPT, e.g. after a Redis restart.
  client.defineCommand('wopiBridgeCas', { numberOfKeys: 1, lua: CAS_LUA });
  client.defineCommand('wopiBridgeEntries', { lua: ENTRIES_LUA, readOnly: true });
  // One permanent listener: without any, ioredis prints every connection error to the console (unredacted).
  const health: { lastError?: string } = {};
  client.on('error', (e: unknown) => {
    health.lastError = redact(e instanceof Error ? e.message : String(e));
  });

  // Wait for 'ready' while ioredis retries in the background; stop early on what retrying cannot fix.
  const outcome = await new Promise<{ ok: true } | { ok: false; reason: string }>((resolve) => {
    const finish = (r: { ok: true } | { ok: false; reason: string }): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('end', onEnd);
      resolve(r);
    };
    const onReady = (): void => finish({ ok: true });
    const onError = (): void => {
      const last = health.lastError ?? '';
      if (isAuthFailure(last)) finish({ ok: false, reason: `authentication failed: ${last}` });
    };
    const onEnd = (): void => finish({ ok: false, reason: health.lastError ?? 'connection ended' });
    const timer = setTimeout(
      () => finish({ ok: false, reason: `not ready within ${connectTimeoutMs} ms${health.lastError === undefined ? '' : `: ${health.lastError}`}` }),
      connectTimeoutMs,
    );
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('end', onEnd);
    client.connect().catch(() => undefined);
  });
  if (!outcome.ok) {
    client.disconnect();
    throw failEarly(outcome.reason, server);
  }
  return new RedisStateStore(client, health, redact, server, prefix, commandTimeoutMs, now);
}
