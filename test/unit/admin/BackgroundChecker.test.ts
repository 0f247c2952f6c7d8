import { BackgroundChecker } from '../../../connector/src/admin/BackgroundChecker.js';
import type { CheckStatus } from '../../../connector/src/checks/CheckResult.js';
import type { CheckDefinition } from '../../../connector/src/checks/runChecks.js';
import { createLogger } from '../../../connector/src/logging/createLogger.js';
import { createMetrics } from '../../../connector/src/metrics/createMetrics.js';
import { LogSink } from '../../helpers/testBridge.js';

function checker(statuses: Record<string, CheckStatus>, options: { historySize?: number; secret?: string } = {}) {
  const logs = new LogSink();
  const metrics = createMetrics();
  let t = Date.parse('2026-01-01T00:00:00Z');
  const defs = (): CheckDefinition[] =>
    Object.keys(statuses).map((id) => ({
      id,
      run: async () => ({ id, status: statuses[id] as CheckStatus, summary: `${id} is ${statuses[id]} ${options.secret ?? ''}`, ms: 1 }),
    }));
  const c = new BackgroundChecker({
    checks: defs,
    secrets: options.secret ? [options.secret] : [],
    intervalMs: 60_000,
    log: createLogger('debug', logs),
    metrics,
    now: () => new Date((t += 1000)),
    ...(options.historySize !== undefined ? { historySize: options.historySize } : {}),
  });
  return { c, logs, metrics };
}

describe('BackgroundChecker', () => {
  test('logs a check only when its status changes: warn when it turns bad, info when it recovers', async () => {
    const statuses: Record<string, CheckStatus> = { a: 'ok', b: 'fail' };
    const { c, logs } = checker(statuses);
    await c.runNow();
    await c.runNow();
    statuses.a = 'fail';
    await c.runNow();
    await c.runNow();
    statuses.a = 'warn';
    await c.runNow();
    statuses.a = 'ok';
    statuses.b = 'ok';
    await c.runNow();
    await c.runNow();
    const lines = logs.entries().filter((e) => e.level !== 20).map((e) => [e.msg, e.check, e.previous, e.status]);
    expect(lines).toEqual([
      ['check failing', 'b', null, 'fail'],
      ['check failing', 'a', 'ok', 'fail'],
      ['check warning', 'a', 'fail', 'warn'],
      ['check recovered', 'a', 'warn', 'ok'],
      ['check recovered', 'b', 'fail', 'ok'],
    ]);
  });

  test('history: newest first, worst status, what changed; capped', async () => {
    const statuses: Record<string, CheckStatus> = { a: 'ok', b: 'skipped' };
    const { c } = checker(statuses, { historySize: 3 });
    await c.runNow();
    statuses.a = 'warn';
    await c.runNow();
    await c.runNow();
    await c.runNow();
    const s = c.snapshot();
    expect(s.history).toHaveLength(3);
    expect(s.history.map((h) => h.changed)).toEqual([[], [], [{ id: 'a', from: 'ok', to: 'warn' }]]);
    expect(s.history.map((h) => h.status)).toEqual(['warn', 'warn', 'warn']);
    expect(s.last?.at).toBe(s.history[0]?.at);
    expect(s.intervalMinutes).toBe(1);
  });

  test('the gauge holds 1 for each check\'s current status and 0 for the others', async () => {
    const statuses: Record<string, CheckStatus> = { a: 'fail' };
    const { c, metrics } = checker(statuses);
    await c.runNow();
    statuses.a = 'ok';
    await c.runNow();
    const values = (await metrics.checkStatus.get()).values.map((v) => [v.labels.id, v.labels.status, v.value]);
    expect(values).toEqual(expect.arrayContaining([['a', 'ok', 1], ['a', 'fail', 0], ['a', 'warn', 0], ['a', 'skipped', 0]]));
  });

  test('secrets are scrubbed from what it keeps and logs', async () => {
    const { c, logs } = checker({ a: 'fail' }, { secret: 'a-secret-value-xyz' });
    await c.runNow();
    expect(JSON.stringify(c.snapshot())).not.toContain('a-secret-value-xyz');
    expect(logs.lines.join('\n')).not.toContain('a-secret-value-xyz');
  });

  test('runNow joins a run in progress (one at a time)', async () => {
    const { c } = checker({ a: 'ok' });
    const [x, y] = [c.runNow(), c.runNow()];
    expect(x).toBe(y);
    await x;
    expect(c.snapshot().history).toHaveLength(1);
  });
});
