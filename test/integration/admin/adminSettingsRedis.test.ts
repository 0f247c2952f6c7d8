/**
 * Settings shared through Redis: two bridges on one redis-server, each with its own data folder (settings file).
 * What the admin page saves on one is what the other shows at once and loads at its next start; the environment
 * still wins; secrets stay write-only; without Redis reachable at start the file applies.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadEffectiveConfig } from '../../../connector/src/config/loadEffectiveConfig.js';
import { startRedis, type RedisServer } from '../../helpers/redisServer.js';
import { ALL_BODIES, AdminClient, expectNoSecrets, startAdminBridge, type AdminBridge } from './adminHarness.js';

const SECRET = 'c0ffee11c0ffee22c0ffee33c0ffee44c0ffee55c0ffee66c0ffee77c0ffee88';

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
    const b = await startAdminBridge({ REDIS_URL: redis.url, ...env }, {}, dataDir);
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
    const broken = { ...store, get: async () => '{not json' };
    expect((await loadEffectiveConfig(env, { openSharedStore: async () => broken })).shared).toBeNull();
  });
});
