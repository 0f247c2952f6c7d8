import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanupProcesses, freePort, makeTempDir, runCli, spawnBridge, type SpawnedBridge } from '../../helpers/processes.js';
import { issueAccessToken } from '../../../connector/src/tokens/accessToken.js';

/** One request of the session and what its access line must say. */
interface Sent {
  reqId: string;
  what: string;
  op: string;
  status: number;
  /** pino level: 30 info (2xx, 401, 404, 409), 40 warn (other 4xx and 501, the client's unknown override), 50 error (other 5xx) — STYLE §7. */
  level: 30 | 40 | 50;
}

interface CliToken {
  fileId: string;
  wopiSrc: string;
  accessToken: string;
}

/** Every substring of `s` of length `n`. */
function windows(s: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= s.length; i++) out.push(s.slice(i, i + n));
  return out;
}

// A whole editing session with the usual failures, against the real process at LOG_LEVEL=debug; then everything it
// wrote is searched for secrets (pino's test/helper.js sink() + STYLE §7's "one test fails if any line contains a
// token, a secret or an access_token=").
describe('the bridge process logs', () => {
  const tokenSecret = `logs-test-secret-${randomBytes(24).toString('hex')}`;
  let bridge: SpawnedBridge;
  let dataDir: string;
  let welcome: CliToken;
  let budget: CliToken;
  let badToken: string;
  let unknownFileToken: string;
  const sent: Sent[] = [];

  beforeAll(async () => {
    dataDir = await makeTempDir('wopi-logs-');
    const env = { DATA_DIR: dataDir, PORT: String(await freePort()), LOG_LEVEL: 'debug', WOPI_TOKEN_SECRET: tokenSecret };
    bridge = await spawnBridge(env);
    const cli = async (file: string): Promise<CliToken> => {
      const res = await runCli(['token', file, '--json'], env);
      if (res.code !== 0) throw new Error(`wopi-bridge token ${file}: ${res.code}\n${res.stderr}`);
      return JSON.parse(res.stdout) as CliToken;
    };
    welcome = await cli('/Welcome.docx');
    budget = await cli('/Budget.xlsx');
    const [head, payload, sig] = welcome.accessToken.split('.') as [string, string, string];
    badToken = `${head}.${payload}.${sig.slice(0, -4)}${sig.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    unknownFileToken = issueAccessToken(tokenSecret, { userId: 'alice', fileId: 'fNoSuchFileAtAll', canWrite: true }, 600).token;

    const src = welcome.wopiSrc;
    const lockId = welcome.fileId;
    let n = 0;
    const call = async (
      what: string,
      expected: Omit<Sent, 'reqId' | 'what'>,
      url: string,
      init: RequestInit & { headers?: Record<string, string> } = {},
    ): Promise<void> => {
      const reqId = `logs-test-${String(++n).padStart(2, '0')}-${randomBytes(4).toString('hex')}`;
      const res = await fetch(url, { ...init, headers: { ...init.headers, 'X-Request-Id': reqId } });
      await res.arrayBuffer();
      if (res.status !== expected.status) throw new Error(`${what}: expected ${expected.status}, got ${res.status}`);
      expect(res.headers.get('x-request-id')).toBe(reqId);
      sent.push({ reqId, what, ...expected });
    };
    const q = (t: string): string => `?access_token=${encodeURIComponent(t)}`;
    const post = (override: string, headers: Record<string, string> = {}): RequestInit & { headers: Record<string, string> } => ({
      method: 'POST',
      headers: { 'X-WOPI-Override': override, ...headers },
    });
    const ok = { level: 30 } as const;

    await call('CheckFileInfo', { op: 'CheckFileInfo', status: 200, ...ok }, `${src}${q(welcome.accessToken)}`);
    await call('Lock', { op: 'Lock', status: 200, ...ok }, `${src}${q(welcome.accessToken)}`, post('LOCK', { 'X-WOPI-Lock': lockId }));
    await call('GetFile', { op: 'GetFile', status: 200, ...ok }, `${src}/contents${q(welcome.accessToken)}`);
    await call('RefreshLock', { op: 'RefreshLock', status: 200, ...ok }, `${src}${q(welcome.accessToken)}`, post('REFRESH_LOCK', { 'X-WOPI-Lock': lockId }));
    await call('PutFile', { op: 'PutFile', status: 200, ...ok }, `${src}/contents${q(welcome.accessToken)}`, {
      ...post('PUT', { 'X-WOPI-Lock': lockId }),
      body: Buffer.from('saved by the logs test'),
    });
    // Failures DocService and users cause every day.
    const refused = { level: 30 } as const;
    await call('bad signature', { op: 'CheckFileInfo', status: 401, ...refused }, `${src}${q(badToken)}`);
    await call('no token', { op: 'CheckFileInfo', status: 401, ...refused }, src);
    await call("another file's token", { op: 'CheckFileInfo', status: 401, ...refused }, `${src}${q(budget.accessToken)}`);
    await call('bad token on Lock', { op: 'Lock', status: 401, ...refused }, `${src}${q(badToken)}`, post('LOCK', { 'X-WOPI-Lock': lockId }));
    await call('unknown file', { op: 'CheckFileInfo', status: 404, ...ok }, `${welcome.wopiSrc.replace(/[^/]+$/, 'fNoSuchFileAtAll')}${q(unknownFileToken)}`);
    await call('Lock with another id', { op: 'Lock', status: 409, ...ok }, `${src}${q(welcome.accessToken)}`, post('LOCK', { 'X-WOPI-Lock': 'another-lock' }));
    await call('Unlock with another id', { op: 'Unlock', status: 409, ...ok }, `${src}${q(welcome.accessToken)}`, post('UNLOCK', { 'X-WOPI-Lock': 'another-lock' }));
    await call('PutFile with another lock', { op: 'PutFile', status: 409, ...ok }, `${src}/contents${q(welcome.accessToken)}`, {
      ...post('PUT', { 'X-WOPI-Lock': 'another-lock' }),
      body: Buffer.from('a save that lost its lock'),
    });
    await call('Lock without X-WOPI-Lock', { op: 'Lock', status: 400, ...ok, level: 40 }, `${src}${q(welcome.accessToken)}`, post('LOCK'));
    await call('GetFile above MaxExpectedSize', { op: 'GetFile', status: 412, ...ok, level: 40 }, `${src}/contents${q(welcome.accessToken)}`, {
      headers: { 'X-WOPI-MaxExpectedSize': '1' },
    });
    await call('unknown override', { op: 'Unknown', status: 501, ...ok, level: 40 }, `${src}${q(welcome.accessToken)}`, post('FROBNICATE'));
    await call('GetLock', { op: 'GetLock', status: 200, ...ok }, `${src}${q(welcome.accessToken)}`, post('GET_LOCK'));
    await call('Unlock', { op: 'Unlock', status: 200, ...ok }, `${src}${q(welcome.accessToken)}`, post('UNLOCK', { 'X-WOPI-Lock': lockId }));

    // Stopping flushes every line: stdout is read to its end.
    expect(await bridge.stop('SIGTERM')).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await bridge?.stop('SIGKILL');
    await cleanupProcesses();
  });

  test('stdout carries only JSON lines: start, one per request, shutdown', () => {
    expect(() => bridge.entries()).not.toThrow();
    const msgs = bridge.entries().map((e) => e.msg);
    expect(msgs).toEqual(expect.arrayContaining(['listening', 'request', 'shutting down']));
    expect(bridge.stdoutLines.length).toBeGreaterThan(sent.length);
  });

  test('no line contains a token, any part of its signature, access_token=, the token secret or the drive password', async () => {
    const generated = JSON.parse(await readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { tokenSecret: string; embeddedPassword: string };
    const forbidden: Array<[string, string]> = [
      ['access_token=', 'access_token='],
      ['WOPI_TOKEN_SECRET', tokenSecret],
      ['generated token secret', generated.tokenSecret],
      ['embedded drive password', generated.embeddedPassword],
      ['unknown-file token', unknownFileToken],
      ['tampered token', badToken],
    ];
    for (const t of [welcome, budget]) {
      const [, payload, sig] = t.accessToken.split('.') as [string, string, string];
      forbidden.push(['token', t.accessToken], ['token payload', payload]);
      for (const w of windows(sig, 8)) forbidden.push(['8 characters of a token signature', w]);
    }
    for (const w of windows(badToken.split('.')[2] as string, 8)) forbidden.push(['8 characters of a tampered signature', w]);
    const lines = [...bridge.stdoutLines, ...bridge.stderr.split('\n')];
    const leaks: string[] = [];
    for (const line of lines) for (const [name, value] of forbidden) if (line.includes(value)) leaks.push(`${name} in: ${line}`);
    expect(leaks).toEqual([]);
  });

  test('exactly one access line per request, with reqId, status, ms, and the level STYLE §7 gives its status', () => {
    const access = bridge.entries().filter((e) => e.msg === 'request');
    expect(access).toHaveLength(sent.length);
    for (const s of sent) {
      const mine = access.filter((e) => e.reqId === s.reqId);
      expect({ what: s.what, lines: mine.length }).toEqual({ what: s.what, lines: 1 });
      const line = mine[0] as Record<string, unknown>;
      expect({ what: s.what, status: line.status, level: line.level }).toEqual({ what: s.what, status: s.status, level: s.level });
      expect(typeof line.ms).toBe('number');
      expect(line.ms as number).toBeGreaterThanOrEqual(0);
      if (s.level === 50) expect(line.err).toBeDefined();
    }
  });

  // Including requests refused with 401: the operation is named before authentication (wopiRouter.ts), so an
  // operator can tell which operation a bad or expired token was used for.
  test('the access line of every request names its operation and file id', () => {
    const access = bridge.entries().filter((e) => e.msg === 'request');
    for (const s of sent) {
      const line = access.find((e) => e.reqId === s.reqId) as Record<string, unknown>;
      expect({ what: s.what, op: line.op, hasFileId: typeof line.fileId === 'string' }).toEqual({ what: s.what, op: s.op, hasFileId: true });
    }
  });
});
