import { startRedis, type RedisServer } from '../../helpers/redisServer.js';
import { AdminClient, startAdminBridge, type AdminBridge } from './adminHarness.js';

// Behind a load balancer: two bridges sharing Redis know each other's admin sessions (and their revocation).
describe('admin sessions across instances (Redis)', () => {
  let redis: RedisServer;
  let a: AdminBridge;
  let b: AdminBridge;
  beforeAll(async () => {
    redis = await startRedis({ appendonly: false });
    a = await startAdminBridge({ REDIS_URL: redis.url });
    b = await startAdminBridge({ REDIS_URL: redis.url });
  }, 30_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  test('signed in on one instance, the cookie and CSRF token work on the other; logout there ends it everywhere', async () => {
    const onA = new AdminClient(a.url);
    expect((await onA.login()).status).toBe(200);
    const onB = new AdminClient(b.url);
    onB.cookie = onA.cookie;
    onB.csrfToken = onA.csrfToken;
    expect((await onB.get('/admin/api/session')).json()).toEqual({ authenticated: true, csrfToken: onA.csrfToken });
    expect((await onB.post('/admin/api/checks', { only: ['mixed_content'] })).status).toBe(200);
    expect((await onB.post('/admin/api/logout')).status).toBe(200);
    expect((await onA.get('/admin/api/settings')).status).toBe(401);
  });
});
