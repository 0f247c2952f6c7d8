/**
 * The DocumentServer checks run together: every result reported, in order, with progress; against unreachable
 * hosts the whole run finishes within the configured timeouts; the total limit and cancellation end it early.
 */
import { docsChecks, DOCS_CHECK_IDS } from '../../../connector/src/checks/docsChecks.js';
import { runChecks, type CheckProgress } from '../../../connector/src/checks/runChecks.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { checksConfig, closedPortUrl, expectNoSecret, startSilent, type Running } from './checkServers.js';

const LONG = 'f3c1d0b8a7e6954c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918070605040';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});
async function double(opts: Parameters<typeof startDocServiceDouble>[0] = {}): Promise<DocServiceDouble> {
  const ds = await startDocServiceDouble(opts);
  closers.push(() => ds.close());
  return ds;
}
async function silent(): Promise<Running> {
  const s = await startSilent();
  closers.push(() => s.close());
  return s;
}

describe('runChecks(docsChecks(…))', () => {
  test('a healthy setup: every check ok, results in order, progress for each, no secret anywhere', async () => {
    const ds = await double({ jwtSecret: LONG });
    const events: CheckProgress[] = [];
    const run = await runChecks(
      docsChecks(checksConfig(ds.url, { publicUrl: 'https://docs.example.com', bridgeUrl: 'https://wopi.example.com', jwtSecret: LONG, proofMode: 'auto' })),
      { onProgress: (e) => events.push(e), secrets: [LONG] },
    );
    expect(run.results.map((r) => r.id)).toEqual([...DOCS_CHECK_IDS]);
    expect(run.results.map((r) => [r.id, r.status])).toEqual(DOCS_CHECK_IDS.map((id) => [id, 'ok']));
    expect(run.status).toBe('ok');
    expect(events.filter((e) => e.kind === 'started')).toHaveLength(6);
    const finished = events.filter((e): e is Extract<CheckProgress, { kind: 'finished' }> => e.kind === 'finished');
    expect(finished.map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(finished.every((e) => e.total === 6)).toBe(true);
    expectNoSecret(run, [LONG]);
  });

  test('a broken setup: every problem reported at once, not only the first', async () => {
    const ds = await double({ wopiEnabled: false, healthy: false, proofKeys: false, jwtSecret: LONG, version: '7.3.3.50' });
    const run = await runChecks(
      docsChecks(checksConfig(ds.url, { publicUrl: 'http://docs.example.com', bridgeUrl: 'https://wopi.example.com', jwtSecret: 'wrong-wrong-wrong-wrong-wrong-wrong-wrong', proofMode: 'enforce' })),
    );
    expect(Object.fromEntries(run.results.map((r) => [r.id, r.status]))).toEqual({
      mixed_content: 'fail',
      docs_reachable: 'fail',
      docs_version: 'warn',
      wopi_enabled: 'fail',
      jwt_secret: 'fail',
      proof_keys: 'fail',
    });
    expect(run.status).toBe('fail');
  });

  test('a host that accepts and never answers: the whole run ends within the per-request timeouts', async () => {
    const s = await silent();
    const t0 = Date.now();
    const run = await runChecks(docsChecks(checksConfig(s.url, { timeoutMs: 300, jwtSecret: LONG, nodeUrls: [s.url, `${s.url}/second-node`] })));
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(2000);
    for (const r of run.results.filter((x) => x.id !== 'mixed_content')) {
      expect(r.status).toBe('fail');
      expect(`${r.summary} ${r.detail ?? ''}`).toMatch(/timeout/);
    }
  });

  test('a closed port: every DS check fails at once with "refused"', async () => {
    const url = await closedPortUrl();
    const t0 = Date.now();
    const run = await runChecks(docsChecks(checksConfig(url, { timeoutMs: 5000, jwtSecret: LONG })));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(run.results.filter((r) => r.id !== 'mixed_content' && r.id !== 'proof_keys').every((r) => r.data?.transport === 'refused')).toBe(true);
    // Proof keys: discovery unavailable in mode auto → skipped, the WOPI check carries the failure.
    expect(run.results.find((r) => r.id === 'proof_keys')?.status).toBe('skipped');
  });

  test('the total limit ends a run whose requests would take longer, each unfinished check failed', async () => {
    const s = await silent();
    const t0 = Date.now();
    const run = await runChecks(docsChecks(checksConfig(s.url, { timeoutMs: 10_000 })), { totalTimeoutMs: 400 });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(1500);
    const unfinished = run.results.filter((r) => r.id !== 'mixed_content');
    expect(unfinished.every((r) => r.status === 'fail' && /did not finish within 400 ms \(the time limit of the whole run\)/.test(r.summary))).toBe(true);
    expect(run.results[0]).toMatchObject({ id: 'mixed_content', status: 'ok' });
  });

  test('cancelling the run fails the unfinished checks at once', async () => {
    const s = await silent();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const t0 = Date.now();
    const run = await runChecks(docsChecks(checksConfig(s.url, { timeoutMs: 10_000 })), { signal: controller.signal });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(run.results.find((r) => r.id === 'docs_reachable')?.summary).toMatch(/cancelled/);
  });
});
