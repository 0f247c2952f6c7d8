import type { CheckerSnapshot } from '../../../connector/src/admin/BackgroundChecker.js';
import { ALL_CHECK_IDS } from '../../../connector/src/checks/configuredChecks.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { ALL_BODIES, AdminClient, expectNoSecrets, startAdminBridge, type AdminBridge } from './adminHarness.js';

const DS_SECRET = 'background-docs-secret-0123456789abcdef';

/** Polls until `done()` holds (at most `ms`). */
async function until(what: string, done: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('background checks', () => {
  let ds: DocServiceDouble;
  let tb: AdminBridge;
  const snap = (): CheckerSnapshot => tb.bridge.checker.snapshot();
  const statusOf = (id: string): string | undefined => snap().last?.run.results.find((r) => r.id === id)?.status;
  const runs = (): number => snap().history.length;
  const logged = (msg: string, id: string): number => tb.logs.entries().filter((e) => e.msg === msg && e.check === id).length;

  beforeAll(async () => {
    ds = await startDocServiceDouble({ jwtSecret: DS_SECRET });
    tb = await startAdminBridge({ DOCS_URL: ds.url, DOCS_JWT_SECRET: DS_SECRET, CHECK_INTERVAL_MINUTES: '5' }, { checkIntervalMs: 100, firstCheckDelayMs: 0 });
  }, 30_000);
  afterAll(async () => {
    await tb?.stop();
    await ds?.close();
  });

  test('CHECK_INTERVAL_MINUTES is read (0–10080, default 15) and shown as the interval', () => {
    expect(tb.config.checkIntervalMinutes).toBe(5);
  });

  test('runs on its interval; a failure is logged once per state change, its recovery once; history records the changes', async () => {
    await until('two healthy runs', () => runs() >= 2 && statusOf('docs_reachable') === 'ok');
    expect(logged('check failing', 'docs_reachable')).toBe(0);

    ds.setHealthy(false);
    await until('docs_reachable to fail', () => statusOf('docs_reachable') === 'fail');
    const failedAt = runs();
    await until('three more failing runs', () => runs() >= failedAt + 3);
    expect(statusOf('docs_reachable')).toBe('fail');
    expect(logged('check failing', 'docs_reachable')).toBe(1);
    const warn = tb.logs.entries().find((e) => e.msg === 'check failing' && e.check === 'docs_reachable');
    expect(warn).toMatchObject({ level: 40, status: 'fail', previous: 'ok', component: 'checks' });
    expect(typeof warn?.summary).toBe('string');

    ds.setHealthy(true);
    await until('docs_reachable to recover', () => statusOf('docs_reachable') === 'ok');
    const recoveredAt = runs();
    await until('three more healthy runs', () => runs() >= recoveredAt + 3);
    expect(logged('check failing', 'docs_reachable')).toBe(1);
    expect(logged('check recovered', 'docs_reachable')).toBe(1);
    expect(tb.logs.entries().find((e) => e.msg === 'check recovered' && e.check === 'docs_reachable')).toMatchObject({ level: 30, status: 'ok', previous: 'fail' });

    const { history, last } = snap();
    // Newest first; the oldest run saw every check for the first time.
    const oldest = history[history.length - 1];
    expect(oldest?.changed.map((c) => c.id).sort()).toEqual([...ALL_CHECK_IDS].sort());
    for (const c of oldest?.changed ?? []) expect(c.from).toBeNull();
    const changes = history.flatMap((h) => h.changed.filter((c) => c.id === 'docs_reachable' && c.from !== null).map((c) => ({ ...c, status: h.status })));
    expect(changes).toEqual([
      { id: 'docs_reachable', from: 'fail', to: 'ok', status: expect.any(String) },
      { id: 'docs_reachable', from: 'ok', to: 'fail', status: 'fail' },
    ]);
    // Runs without a change record an empty list.
    expect(history.some((h) => h.changed.length === 0)).toBe(true);
    for (let i = 1; i < history.length; i++) expect(Date.parse(history[i - 1]?.at ?? '')).toBeGreaterThanOrEqual(Date.parse(history[i]?.at ?? ''));
    expect(last?.at).toBe(history[0]?.at);
  }, 60_000);

  test('GET /admin/api/checks/last gives the last run with its time and the history (at most 50)', async () => {
    await until('more than 50 runs', () => runs() >= 50, 40_000);
    const c = new AdminClient(tb.url);
    await c.login();
    const res = await c.get('/admin/api/checks/last');
    expect(res.status).toBe(200);
    const body = res.json<CheckerSnapshot>();
    expect(body.intervalMinutes).toBeCloseTo(100 / 60_000);
    expect(new Date(body.last?.at ?? '').toISOString()).toBe(body.last?.at);
    expect(body.last?.run.results.map((r) => r.id)).toEqual([...ALL_CHECK_IDS]);
    expect(body.history.length).toBe(50);
    for (const h of body.history) {
      expect(Object.keys(h).sort()).toEqual(['at', 'changed', 'status']);
      expect(['ok', 'warn', 'fail', 'skipped']).toContain(h.status);
    }
    expectNoSecrets([...ALL_BODIES, ...tb.logs.lines], [DS_SECRET, tb.config.tokens.secret, tb.config.embedded.password]);
  }, 60_000);

  test('the check-status gauge follows the latest run', async () => {
    const text = await (await fetch(`${tb.url}/metrics`)).text();
    expect(text).toContain('wopi_bridge_check_status{id="docs_reachable",status="ok"} 1');
    expect(text).toContain('wopi_bridge_check_status{id="docs_reachable",status="fail"} 0');
  });

  test('stopping the bridge stops the checker', async () => {
    await tb.bridge.checker.stop();
    const n = runs();
    const at = snap().last?.at;
    await new Promise((r) => setTimeout(r, 400));
    expect(runs()).toBe(n);
    expect(snap().last?.at).toBe(at);
  });
});

describe('background checks switched off', () => {
  test('CHECK_INTERVAL_MINUTES=0: no run, an empty answer', async () => {
    const tb = await startAdminBridge({ CHECK_INTERVAL_MINUTES: '0' }, { checkIntervalMs: undefined, firstCheckDelayMs: 0 });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const c = new AdminClient(tb.url);
      await c.login();
      expect((await c.get('/admin/api/checks/last')).json()).toEqual({ last: null, history: [], intervalMinutes: 0 });
    } finally {
      await tb.stop();
    }
  });
});
