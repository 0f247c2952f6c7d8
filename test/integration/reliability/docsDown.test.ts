import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { freePort } from '../../helpers/processes.js';
import { rawDrive, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { DOCS_PROBE_CACHE_MS } from '../../../connector/src/health/readiness.js';

type Opened = Awaited<ReturnType<TestBridge['open']>>;

/** A WOPI call as DS makes it (signed with the double's keys when it has them; headers only otherwise). */
function call(f: Opened, opts: { ds?: DocServiceDouble; suffix?: string; method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
  const url = f.url(opts.suffix ?? '');
  const proof = opts.ds ? opts.ds.signWopiRequest(url, f.token) : {};
  return fetch(url, { method: opts.method ?? 'GET', headers: { ...proof, ...(opts.headers ?? {}) }, ...(opts.body !== undefined ? { body: opts.body } : {}) });
}

/** A whole editing session; returns each step's status and the longest step's duration. */
async function session(f: Opened, ds?: DocServiceDouble, body = 'saved while DS is down'): Promise<{ statuses: number[]; slowestMs: number }> {
  const statuses: number[] = [];
  let slowestMs = 0;
  const step = async (p: Promise<Response>): Promise<void> => {
    const started = performance.now();
    const res = await p;
    await res.arrayBuffer();
    statuses.push(res.status);
    slowestMs = Math.max(slowestMs, performance.now() - started);
  };
  const lock = { 'X-WOPI-Lock': f.fileId };
  await step(call(f, { ds }));
  await step(call(f, { ds, method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', ...lock } }));
  await step(call(f, { ds, suffix: '/contents' }));
  await step(call(f, { ds, method: 'POST', headers: { 'X-WOPI-Override': 'REFRESH_LOCK', ...lock } }));
  await step(call(f, { ds, suffix: '/contents', method: 'POST', headers: { 'X-WOPI-Override': 'PUT', ...lock }, body }));
  await step(call(f, { ds, method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', ...lock } }));
  return { statuses, slowestMs };
}

// DocumentServer down: the bridge's checks say so, WOPI goes on (proof mode auto).
describe('DocumentServer down', () => {
  test('DOCS_URL names a closed port: /readyz 503 naming DS, a whole WOPI session works at full speed', async () => {
    const port = await freePort();
    const tb = await startTestBridge({ DOCS_URL: `http://127.0.0.1:${port}`, DOCS_TIMEOUT_MS: '2000' });
    try {
      await rawDrive(tb).put('/NoDocs.docx', Buffer.from('v1'));
      const f = await tb.open('/NoDocs.docx');
      const ready = await fetch(`${tb.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ ready: false, storage: { ok: true }, state: { ok: true }, docs: { ok: false } });
      const { statuses, slowestMs } = await session(f);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
      expect(slowestMs).toBeLessThan(1000);
      // A request that carries a proof while no keys can be had is let through too (auto), and counted.
      const signedLooking = await call(f, { headers: { 'X-WOPI-Proof': 'AAAA', 'X-WOPI-TimeStamp': '638000000000000000' } });
      expect(signedLooking.status).toBe(200);
      expect((await rawDrive(tb).get('/NoDocs.docx'))?.toString()).toBe('saved while DS is down');
      expect(tb.logs.entries().some((e) => e.level === 40 && e.msg === 'discovery not loaded')).toBe(true);
    } finally {
      await tb.stop();
    }
  });

  describe('a DS double (with proof keys) closed in the middle of a session', () => {
    let ds: DocServiceDouble;
    let tb: TestBridge;
    let f: Opened;
    beforeAll(async () => {
      ds = await startDocServiceDouble();
      tb = await startTestBridge({ DOCS_URL: ds.url, DOCS_TIMEOUT_MS: '2000' });
      await tb.bridge.runtime.discovery?.get();
      await rawDrive(tb).put('/MidSession.docx', Buffer.from('v1'));
      f = await tb.open('/MidSession.docx');
    });
    afterAll(async () => {
      await tb.stop();
      await ds.close().catch(() => undefined);
    });

    test('the signed session goes on with the keys already loaded: every step 200, the save lands', async () => {
      const lock = { 'X-WOPI-Lock': f.fileId };
      expect((await call(f, { ds })).status).toBe(200);
      expect((await call(f, { ds, method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', ...lock } })).status).toBe(200);
      expect((await fetch(`${tb.url}/readyz`)).status).toBe(200);
      await ds.close();
      expect((await fetch(`http://${new URL(ds.url).host}/hosting/discovery`).catch(() => null))).toBeNull();
      const started = performance.now();
      expect((await call(f, { ds, suffix: '/contents' })).status).toBe(200);
      expect((await call(f, { ds, method: 'POST', headers: { 'X-WOPI-Override': 'REFRESH_LOCK', ...lock } })).status).toBe(200);
      expect((await call(f, { ds, suffix: '/contents', method: 'POST', headers: { 'X-WOPI-Override': 'PUT', ...lock }, body: 'after DS went away' })).status).toBe(200);
      expect((await call(f, { ds, method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', ...lock } })).status).toBe(200);
      expect(performance.now() - started).toBeLessThan(2000);
      expect((await rawDrive(tb).get('/MidSession.docx'))?.toString()).toBe('after DS went away');
      // Unsigned requests stay refused while the loaded keys say DS signs (no downgrade because DS is gone).
      expect((await call(f)).status).toBe(500);
      expect((await fetch(`${tb.url}/healthz`)).status).toBe(200);
    });

    // Was: /readyz answered from the discovery cache (12 h), so it said DS was fine long after it went down.
    test('/readyz says DS is down once it is (within the probe cache, DOCS_PROBE_CACHE_MS)', async () => {
      const started = performance.now();
      let res = await fetch(`${tb.url}/readyz`);
      // The previous test's /readyz (DS up) may be reused for DOCS_PROBE_CACHE_MS: ask again once it has expired.
      while (res.status === 200 && performance.now() - started < DOCS_PROBE_CACHE_MS + 500) {
        await res.arrayBuffer();
        await new Promise((r) => setTimeout(r, 100));
        res = await fetch(`${tb.url}/readyz`);
      }
      expect(res.status).toBe(503);
      const body = (await res.json()) as { docs: { ok: boolean; reason: string } };
      expect(body).toMatchObject({ ready: false, storage: { ok: true }, state: { ok: true }, docs: { ok: false } });
      expect(body.docs.reason).toMatch(/refused|connect/i);
    });
  });

  // In mode auto, a DS that never answers must not hold WOPI requests up: discovery loads in the background.
  test('DS accepts connections and never answers: WOPI requests are not held up by the discovery fetch', async () => {
    const sockets = new Set<Socket>();
    const hung: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const tb = await startTestBridge({ DOCS_URL: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`, DOCS_TIMEOUT_MS: '1500' });
    try {
      await rawDrive(tb).put('/Hung.docx', Buffer.from('v1'));
      const f = await tb.open('/Hung.docx');
      const lock = { 'X-WOPI-Lock': f.fileId };
      const timed = async (p: Promise<Response>): Promise<[number, number]> => {
        const started = performance.now();
        const res = await p;
        await res.arrayBuffer();
        return [res.status, Math.round(performance.now() - started)];
      };
      const steps = [
        await timed(call(f)),
        await timed(call(f, { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', ...lock } })),
        await timed(call(f, { suffix: '/contents', method: 'POST', headers: { 'X-WOPI-Override': 'PUT', ...lock }, body: 'saved' })),
      ];
      expect(steps.map(([status]) => status)).toEqual([200, 200, 200]);
      expect(Math.max(...steps.map(([, ms]) => ms))).toBeLessThan(500);
    } finally {
      await tb.stop();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => hung.close(() => resolve()));
    }
  }, 30_000);

  // /readyz asks DS's own /healthcheck: what it answers, and what it costs DS.
  describe('/readyz and DS\'s /healthcheck', () => {
    /** /readyz's answer once the previous probe's result has expired. */
    async function readyAfterCache(tb: TestBridge): Promise<{ status: number; body: { ready: boolean; docs: { ok: boolean; reason?: string } | null } }> {
      await new Promise((r) => setTimeout(r, DOCS_PROBE_CACHE_MS + 50));
      const res = await fetch(`${tb.url}/readyz`);
      return { status: res.status, body: (await res.json()) as { ready: boolean; docs: { ok: boolean; reason?: string } | null } };
    }

    test('DS up but one of its dependencies down (/healthcheck false): 503, saying so; answered true again: 200', async () => {
      const ds = await startDocServiceDouble({ healthy: false });
      const tb = await startTestBridge({ DOCS_URL: ds.url, DOCS_TIMEOUT_MS: '2000' });
      try {
        const res = await fetch(`${tb.url}/readyz`);
        expect(res.status).toBe(503);
        const body = (await res.json()) as { docs: { ok: boolean; reason: string } };
        expect(body.docs.ok).toBe(false);
        expect(body.docs.reason).toMatch(/"false".*dependencies/);
        ds.setHealthy(true);
        expect(await readyAfterCache(tb)).toMatchObject({ status: 200, body: { ready: true, docs: { ok: true } } });
      } finally {
        await tb.stop();
        await ds.close();
      }
    });

    test('DS\'s ipfilter refuses the bridge (403): 503 naming the status', async () => {
      const ds = await startDocServiceDouble({ ipDenied: true });
      const tb = await startTestBridge({ DOCS_URL: ds.url, DOCS_TIMEOUT_MS: '2000' });
      try {
        const res = await fetch(`${tb.url}/readyz`);
        expect(res.status).toBe(503);
        expect(await res.json()).toMatchObject({ docs: { ok: false, reason: expect.stringContaining('HTTP 403') } });
      } finally {
        await tb.stop();
        await ds.close();
      }
    });

    test.each([
      ['an HTML page', 200, 'text/html', '<html><body>It works!</body></html>'],
      ['binary garbage', 200, 'application/octet-stream', '\u0000\u00ff\u0001true\u0000'],
      ['a 500', 500, 'text/plain', 'true'],
    ])('DOCS_URL answering %s is not a ready DS', async (_label, status, type, body) => {
      const other = await new Promise<import('node:http').Server>((resolve) => {
        const srv = createHttpServer((_req, res) => {
          res.writeHead(status, { 'Content-Type': type });
          res.end(body);
        });
        srv.listen(0, '127.0.0.1', () => resolve(srv));
      });
      const tb = await startTestBridge({ DOCS_URL: `http://127.0.0.1:${(other.address() as AddressInfo).port}`, DOCS_TIMEOUT_MS: '2000' });
      try {
        const res = await fetch(`${tb.url}/readyz`);
        expect(res.status).toBe(503);
        const answer = (await res.json()) as { docs: { ok: boolean; reason: string } };
        expect(answer.docs.ok).toBe(false);
        expect(answer.docs.reason.length).toBeLessThanOrEqual(200);
      } finally {
        await tb.stop();
        other.closeAllConnections();
        await new Promise<void>((resolve) => other.close(() => resolve()));
      }
    });

    test('a burst of /readyz asks DS once: the probe is shared and reused for DOCS_PROBE_CACHE_MS', async () => {
      const ds = await startDocServiceDouble();
      const tb = await startTestBridge({ DOCS_URL: ds.url, DOCS_TIMEOUT_MS: '2000' });
      try {
        const healthchecks = (): number => ds.requests.filter((r) => r.target.startsWith('/healthcheck')).length;
        const before = healthchecks();
        const started = performance.now();
        const statuses = await Promise.all(Array.from({ length: 30 }, async () => (await fetch(`${tb.url}/readyz`)).status));
        expect(statuses.every((st) => st === 200)).toBe(true);
        for (let i = 0; i < 10; i++) expect((await fetch(`${tb.url}/readyz`)).status).toBe(200);
        // One probe per DOCS_PROBE_CACHE_MS at most (a slow machine may see the cache expire once during the burst).
        const windows = Math.floor((performance.now() - started) / DOCS_PROBE_CACHE_MS) + 1;
        expect(healthchecks() - before).toBeGreaterThanOrEqual(1);
        expect(healthchecks() - before).toBeLessThanOrEqual(windows);
      } finally {
        await tb.stop();
        await ds.close();
      }
    });
  });
});
