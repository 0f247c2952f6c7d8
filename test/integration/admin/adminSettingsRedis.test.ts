/**
 * Settings shared through Redis: two bridges on one redis-server, each with its own data folder (settings file).
 * What the admin page saves on one is what the other shows at once and loads at its next start; the environment
 * still wins; secrets stay write-only; without Redis reachable at start the file applies.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadEffectiveConfig } from '../../../connector/src/config/loadEffectiveConfig.js';
import { redisCommand, startRedis, type RedisServer, type RespValue } from '../../helpers/redisServer.js';
import { ALL_BODIES, AdminClient, expectNoSecrets, startAdminBridge, type AdminBridge } from './adminHarness.js';

const SECRET = 'c0ffee11c0ffee22c0ffee33c0ffee44c0ffee55c0ffee66c0ffee77c0ffee88';
/** Instances sharing Redis share the WOPI token secret (the key of the sealed secret settings derives from it). */
const TOKEN_SECRET = 'token-secret-shared-by-every-instance-0123456789abcdef';

/** Every key under the bridge's prefix with its value, as `redis-cli --scan` + GET would show them. */
async function dumpRedis(port: number): Promise<string> {
  const keys = (await redisCommand(port, ['KEYS', '*'])) as RespValue[];
  const lines: string[] = [];
  for (const k of keys) {
    const type = await redisCommand(port, ['TYPE', String(k)]);
    const value = type === 'string' ? await redisCommand(port, ['GET', String(k)]) : type === 'hash' ? await redisCommand(port, ['HGETALL', String(k)]) : type;
    lines.push(`${String(k)} ${JSON.stringify(value)}`);
  }
  return lines.join('\n');
}

interface Field {
  key: string;
  value: string | null;
  set: boolean;
  source: string;
  locked: boolean;
}

describe('settings shared through Redis', () => {
  let redis: RedisServer;
  const bridges: AdminBridge[] = [];
  beforeAll(async () => {
    redis = await startRedis({ appendonly: false });
  }, 30_000);
  afterAll(async () => {
    for (const b of bridges) await b.stop();
    await redis?.stop();
  });
  const start = async (env: Record<string, string>, dataDir?: string): Promise<AdminBridge> => {
    const b = await startAdminBridge({ REDIS_URL: redis.url, WOPI_TOKEN_SECRET: TOKEN_SECRET, ...env }, {}, dataDir);
    bridges.push(b);
    return b;
  };
  const fields = async (c: AdminClient): Promise<Map<string, Field>> => {
    const res = await c.get('/admin/api/settings');
    expect(res.status).toBe(200);
    return new Map(res.json<{ fields: Field[] }>().fields.map((f) => [f.key, f]));
  };

  test('saved on one instance: the other shows it at once and loads it at its next start; the environment still wins', async () => {
    const a = await start({});
    const b = await start({ DOCS_JWT_HEADER: 'FromEnvironment' });
    const onA = new AdminClient(a.url);
    expect((await onA.login()).status).toBe(200);
    const save = await onA.post('/admin/api/checks', {
      settings: { DOCS_JWT_HEADER: 'AuthorizationJwt', SIGN_IN_MODE: 'service', EDITABLE_FORMATS: 'docx, xlsx', SESSION_TTL_SECONDS: '3600', DOCS_JWT_SECRET: SECRET },
      save: true,
      only: ['mixed_content'],
    });
    expect(save.status).toBe(200);
    expect(save.json()).toMatchObject({ saved: true, configProblems: [] });

    // Redis holds the secret sealed (AES-256-GCM, key from the token secret), never in clear; plain settings are readable.
    const dump = await dumpRedis(redis.port);
    expect(dump).toContain('settings:current');
    expect(dump).toContain('AuthorizationJwt');
    expect(dump).toMatch(/DOCS_JWT_SECRET\\":\\"sealed:v1\./);
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain(SECRET.slice(0, 16));

    // B's own settings file knows nothing of it, but B's page shows the shared values at once.
    await expect(readFile(path.join(b.dataDir, 'settings.json'), 'utf8')).rejects.toThrow();
    const onB = new AdminClient(b.url);
    expect((await onB.login()).status).toBe(200);
    const settingsRes = await onB.get('/admin/api/settings');
    expect(settingsRes.json()).toMatchObject({ sharedThroughRedis: true });
    const shown = await fields(onB);
    expect(shown.get('SIGN_IN_MODE')).toMatchObject({ value: 'service', source: 'file' });
    expect(shown.get('EDITABLE_FORMATS')).toMatchObject({ value: 'docx, xlsx' });
    expect(shown.get('DOCS_JWT_SECRET')).toMatchObject({ set: true, value: null });
    expect(shown.get('DOCS_JWT_HEADER')).toMatchObject({ value: 'FromEnvironment', locked: true, source: 'env' });

    // B is replaced by a new instance (fresh data folder, no settings file): it starts with the shared values;
    // its environment still wins over them.
    await b.stop();
    bridges.splice(bridges.indexOf(b), 1);
    const b2 = await start({ DOCS_JWT_HEADER: 'FromEnvironment' });
    expect(b2.config.signIn.mode).toBe('service');
    expect(b2.config.editableFormats).toEqual(['docx', 'xlsx']);
    expect(b2.config.signIn.sessionTtlSeconds).toBe(3600);
    expect(b2.config.docs.jwtSecret).toBe(SECRET);
    expect(b2.config.docs.jwtHeader).toBe('FromEnvironment');

    // A later save on B (removing a key) reaches A's page too.
    const onB2 = new AdminClient(b2.url);
    await onB2.login();
    expect((await onB2.post('/admin/api/checks', { settings: { EDITABLE_FORMATS: '' }, save: true, only: ['mixed_content'] })).status).toBe(200);
    expect((await fields(onA)).get('EDITABLE_FORMATS')).toMatchObject({ value: null, source: 'default' });
    expect((await fields(onA)).get('SIGN_IN_MODE')).toMatchObject({ value: 'service' });

    expectNoSecrets(ALL_BODIES, [SECRET]);
    for (const b of bridges) expect(b.logs.lines.join('\n')).not.toContain(SECRET);
  }, 60_000);

  test('Redis unreachable at start: the settings file applies and the problem is reported', async () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:1', DATA_DIR: path.join(bridges[0]?.dataDir ?? '/tmp', 'no-redis') };
    const eff = await loadEffectiveConfig(env, {
      openSharedStore: () => Promise.reject(new Error('connect ECONNREFUSED')),
    });
    expect(eff.shared).toBeNull();
    expect(eff.sharedProblem).toMatch(/Redis not reachable/);
  });

  test('a shared secret sealed under another token secret is not used, and the problem says why', async () => {
    const env = { REDIS_URL: redis.url, WOPI_TOKEN_SECRET: 'another-token-secret-0123456789abcdef-0123456789', DATA_DIR: path.join(bridges[0]?.dataDir ?? '/tmp', 'other-secret') };
    const eff = await loadEffectiveConfig(env);
    expect(eff.shared).not.toBeNull();
    expect(eff.shared?.DOCS_JWT_SECRET).toBeUndefined();
    expect(eff.config.docs.jwtSecret).toBeNull();
    expect(eff.config.signIn.mode).toBe('service'); // the plain shared settings still apply
    expect(eff.sharedProblem).toMatch(/DOCS_JWT_SECRET cannot be decrypted with this instance's WOPI_TOKEN_SECRET/);
    expect(eff.sharedProblem).not.toContain(SECRET);
  });

  test('a secret written in clear before sealing existed is still read', async () => {
    const store = {
      get: async () => JSON.stringify({ DOCS_JWT_SECRET: SECRET, SIGN_IN_MODE: 'service' }),
      compareAndSet: async () => ({ ok: true, current: null }),
      close: async () => undefined,
    };
    const env = { REDIS_URL: redis.url, DATA_DIR: path.join(bridges[0]?.dataDir ?? '/tmp', 'legacy') };
    const eff = await loadEffectiveConfig(env, { openSharedStore: async () => store });
    expect(eff.config.docs.jwtSecret).toBe(SECRET);
    expect(eff.sharedProblem).toBeNull();
  });

  test('garbage in the shared entry is ignored key by key', async () => {
    const store = {
      get: async () => JSON.stringify({ SIGN_IN_MODE: 'service', NOT_A_SETTING: 'x', LOG_LEVEL: 7, REDIS_URL: 'redis://elsewhere' }),
      compareAndSet: async () => ({ ok: true, current: null }),
      close: async () => undefined,
    };
    const env = { REDIS_URL: redis.url, DATA_DIR: path.join(bridges[0]?.dataDir ?? '/tmp', 'garbage') };
    const eff = await loadEffectiveConfig(env, { openSharedStore: async () => store });
    expect(eff.shared).toEqual({ SIGN_IN_MODE: 'service' });
    expect(eff.config.signIn.mode).toBe('service');
    expect(eff.config.redisUrl).toBe(redis.url);
    const sealedGarbage = { ...store, get: async () => JSON.stringify({ SIGN_IN_MODE: 'service', DOCS_JWT_SECRET: 'sealed:v1.x.y.z', STORAGE_PASSWORD: 'sealed:' }) };
    const garbled = await loadEffectiveConfig(env, { openSharedStore: async () => sealedGarbage });
    expect(garbled.shared).toEqual({ SIGN_IN_MODE: 'service' });
    expect(garbled.sharedProblem).toMatch(/DOCS_JWT_SECRET, STORAGE_PASSWORD cannot be decrypted/);
    const broken = { ...store, get: async () => '{not json' };
    expect((await loadEffectiveConfig(env, { openSharedStore: async () => broken })).shared).toBeNull();
  });
});
