import { AdminClient, startAdminBridge, type AdminBridge } from './adminHarness.js';

// Behind nginx every request comes from the proxy's address: without TRUSTED_PROXIES five wrong guesses by anyone
// would lock every admin out. With it, the limit counts per real client, and only the proxy's header is believed.
async function failFiveTimes(c: AdminClient, headers: Record<string, string>): Promise<void> {
  for (let i = 0; i < 5; i++) expect((await c.post('/admin/api/login', { password: `wrong-${i}` }, { headers })).status).toBe(401);
}

describe('admin sign-in limit behind a trusted reverse proxy', () => {
  let tb: AdminBridge;
  beforeAll(async () => {
    tb = await startAdminBridge({ TRUSTED_PROXIES: '127.0.0.1' });
  });
  afterAll(async () => {
    await tb.stop();
  });

  test('a guesser behind the proxy is limited; another person behind the same proxy still signs in', async () => {
    const c = new AdminClient(tb.url);
    await failFiveTimes(c, { 'X-Forwarded-For': '203.0.113.7' });
    expect((await c.post('/admin/api/login', { password: 'wrong' }, { headers: { 'X-Forwarded-For': '203.0.113.7' } })).status).toBe(429);
    const other = await c.post('/admin/api/login', { password: tb.env.ADMIN_PASSWORD }, { headers: { 'X-Forwarded-For': '203.0.113.8' } });
    expect(other.status).toBe(200);
  });

  test('a guesser cannot escape the limit by prepending addresses of its own', async () => {
    const c = new AdminClient(tb.url);
    await failFiveTimes(c, { 'X-Forwarded-For': '198.51.100.1' });
    const dodge = await c.post('/admin/api/login', { password: 'wrong' }, { headers: { 'X-Forwarded-For': '192.0.2.99, 198.51.100.1' } });
    expect(dodge.status).toBe(429);
  });
});

describe('admin sign-in limit without trusted proxies', () => {
  let tb: AdminBridge;
  beforeAll(async () => {
    // 127.0.0.1 (the test client) is not the trusted proxy here: its X-Forwarded-For must be ignored.
    tb = await startAdminBridge({ TRUSTED_PROXIES: '10.9.9.9' });
  });
  afterAll(async () => {
    await tb.stop();
  });

  test('X-Forwarded-For from an address that is not a trusted proxy changes nothing', async () => {
    const c = new AdminClient(tb.url);
    await failFiveTimes(c, { 'X-Forwarded-For': '203.0.113.7' });
    expect((await c.post('/admin/api/login', { password: tb.env.ADMIN_PASSWORD }, { headers: { 'X-Forwarded-For': '203.0.113.8' } })).status).toBe(429);
  });

  test('a TRUSTED_PROXIES entry that is not an address or range stops the start with the fix', async () => {
    await expect(startAdminBridge({ TRUSTED_PROXIES: 'nginx.local' })).rejects.toThrow(/TRUSTED_PROXIES must list IP addresses or CIDR ranges/);
  });
});
