/** runChecks with stand-in checks (no network): order, crashes, malformed results, secrets, progress. */
import { measureCheck, worstStatus, type CheckResult, type CheckStatus } from '../../../connector/src/checks/CheckResult.js';
import { runChecks, type CheckDefinition, type CheckProgress } from '../../../connector/src/checks/runChecks.js';

function check(id: string, status: CheckStatus, extra: Partial<CheckResult> = {}): CheckDefinition {
  return { id, run: async () => ({ id, status, summary: `${id} is ${status}`, ms: 1, ...extra }) };
}

/** Resolves when `release()` is called: finishes a check on demand. */
function gated(id: string): { def: CheckDefinition; release: () => void } {
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  return { def: { id, run: async () => (await gate, { id, status: 'ok', summary: 'late', ms: 1 }) }, release };
}

describe('runChecks', () => {
  test('results come in the order given, whatever order they finish in; the worst status wins', async () => {
    const slow = gated('slow');
    const events: CheckProgress[] = [];
    const running = runChecks([slow.def, check('fast', 'warn')], { onProgress: (e) => events.push(e) });
    await new Promise((r) => setImmediate(r));
    expect(events.filter((e) => e.kind === 'finished').map((e) => e.id)).toEqual(['fast']);
    slow.release();
    const run = await running;
    expect(run.results.map((r) => r.id)).toEqual(['slow', 'fast']);
    expect(run.status).toBe('warn');
    expect(events.map((e) => `${e.kind}:${e.id}`)).toEqual(['started:slow', 'started:fast', 'finished:fast', 'finished:slow']);
  });

  test('a check that throws, rejects or returns garbage becomes a fail; the others are still reported', async () => {
    const run = await runChecks([
      { id: 'throws', run: () => { throw new Error('boom at http://admin:pw@host/'); } },
      { id: 'rejects', run: () => Promise.reject(new TypeError('nope')) },
      { id: 'garbage', run: async () => 42 as unknown as CheckResult },
      { id: 'bad-status', run: async () => ({ id: 'bad-status', status: 'great', summary: 'x', ms: 0 }) as unknown as CheckResult },
      check('fine', 'ok'),
    ]);
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['throws', 'fail'],
      ['rejects', 'fail'],
      ['garbage', 'fail'],
      ['bad-status', 'fail'],
      ['fine', 'ok'],
    ]);
    expect(run.results[0]?.summary).toBe('The check crashed: Error: boom at http://host/');
    expect(run.status).toBe('fail');
  });

  test('the definition\'s id wins over the one the check returned', async () => {
    const run = await runChecks([{ id: 'mine', run: async () => ({ id: 'theirs', status: 'ok', summary: 's', ms: 3 }) }]);
    expect(run.results[0]).toEqual({ id: 'mine', status: 'ok', summary: 's', ms: 3 });
  });

  test('configured secrets are scrubbed from every field, data included', async () => {
    const secret = 'super-secret-value';
    const run = await runChecks([check('leaky', 'fail', { detail: `x ${secret} y`, fix: secret, data: { nested: [{ v: secret }] } })], { secrets: [secret, null, ''] });
    expect(JSON.stringify(run)).not.toContain(secret);
    expect(run.results[0]?.detail).toBe('x [redacted] y');
  });

  test('a progress callback that throws does not break the run', async () => {
    const run = await runChecks([check('a', 'ok')], { onProgress: () => { throw new Error('display broke'); } });
    expect(run.results[0]?.status).toBe('ok');
  });

  test('an already cancelled run fails every check at once', async () => {
    const controller = new AbortController();
    controller.abort();
    const never: CheckDefinition = { id: 'never', run: () => new Promise<CheckResult>(() => undefined) };
    const run = await runChecks([never], { signal: controller.signal });
    expect(run.results[0]).toMatchObject({ id: 'never', status: 'fail' });
    expect(run.results[0]?.summary).toMatch(/cancelled/);
  });

  test('no checks: skipped', async () => {
    expect((await runChecks([])).status).toBe('skipped');
  });
});

describe('CheckResult helpers', () => {
  test('worstStatus', () => {
    expect(worstStatus(['ok', 'skipped'])).toBe('ok');
    expect(worstStatus(['ok', 'warn', 'skipped'])).toBe('warn');
    expect(worstStatus([{ status: 'warn' }, { status: 'fail' }])).toBe('fail');
    expect(worstStatus(['skipped'])).toBe('skipped');
  });

  test('measureCheck turns a throw into a fail and measures time', async () => {
    let t = 1000;
    const r = await measureCheck('x', async () => {
      t += 25;
      throw new Error('bad');
    }, () => t);
    expect(r).toMatchObject({ id: 'x', status: 'fail', ms: 25 });
    expect(r.detail).toBe('Internal error: Error: bad');
  });
});
