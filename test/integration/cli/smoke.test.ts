import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanupProcesses, freePort, makeTempDir, spawnBridge, type SpawnedBridge } from '../../helpers/processes.js';
import { readDocServiceCapture, startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { ticksToMs } from '../../../connector/src/proof/proofKeys.js';
import { loadEffectiveConfig } from '../../../connector/src/config/loadEffectiveConfig.js';
import { createLogger } from '../../../connector/src/logging/createLogger.js';
import { createRuntime, type Runtime } from '../../../connector/src/runtime.js';
import { createApp } from '../../../connector/src/app.js';
import { Locks } from '../../../connector/src/locks/Locks.js';
import type { StateStore } from '../../../connector/src/state/StateStore.js';
import { EXIT, STACK_LINE, cliToken, currentLock, getFile, leaks, lockOp, runs, wb, type CliToken } from './cliHarness.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface SmokeStep {
  name: string;
  phase: 'preflight' | 'session' | 'verify' | 'cleanup';
  result: 'ok' | 'fail' | 'skipped';
  status: number | null;
  ms: number | null;
  note: string;
  lockFailureReason?: string;
  lock?: string;
}

interface SmokeReport {
  ok: boolean;
  path: string;
  fileId: string;
  bridge: string;
  signed: boolean;
  failedStep: string | null;
  failure: string | null;
  steps: SmokeStep[];
  sha256Before: string | null;
  sha256After: string | null;
  unchanged: boolean | null;
  unlocked: boolean | null;
  leftBehind: string[];
}

const SESSION = ['CheckFileInfo', 'Lock', 'GetFile', 'RefreshLock', 'PutFile', 'Unlock'];
/** Every token the tests handle: none may appear in smoke's output. */
const tokens: string[] = [];
/** Every data folder used: their generated secrets may not appear either. */
const dataDirs: string[] = [];

async function dataDir(prefix: string): Promise<string> {
  const d = await makeTempDir(prefix);
  dataDirs.push(d);
  return d;
}

async function token(filePath: string, env: Record<string, string>): Promise<CliToken> {
  const t = await cliToken(filePath, env);
  tokens.push(t.accessToken);
  return t;
}

afterAll(cleanupProcesses);

interface Recorded {
  method: string;
  path: string;
  query: string;
  /** Header names in arrival order. */
  names: string[];
  header(name: string): string | undefined;
  body: Buffer;
}

/** An HTTP proxy in front of the bridge that records each request (header order included) and each answer body. */
async function startRecorder(upstream: string): Promise<{ url: string; requests: Recorded[]; responses: Buffer[]; close(): Promise<void> }> {
  const up = new URL(upstream);
  const requests: Recorded[] = [];
  const responses: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const names = req.rawHeaders.filter((_, i) => i % 2 === 0);
      const [p = '', q = ''] = (req.url ?? '').split('?');
      const index = requests.length;
      requests.push({ method: req.method ?? '', path: p, query: q, names, body, header: (n) => req.headers[n.toLowerCase()] as string | undefined });
      const fwd = httpRequest({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } }, (upRes) => {
        const got: Buffer[] = [];
        upRes.on('data', (c: Buffer) => got.push(c));
        upRes.on('end', () => {
          responses[index] = Buffer.concat(got);
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.end(responses[index]);
        });
      });
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    responses,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('wopi-bridge smoke against a healthy bridge process', () => {
  let env: Record<string, string>;
  let bridge: SpawnedBridge;

  beforeAll(async () => {
    env = { DATA_DIR: await dataDir('wopi-cli-smoke-'), PORT: String(await freePort()) };
    bridge = await spawnBridge(env);
  }, 30_000);
  afterAll(async () => {
    await bridge?.stop('SIGKILL');
  });

  test('text: every step passes in DS order, the verdict says byte-identical and unlocked, exit 0', async () => {
    const onDisk = await readFile(path.join(env.DATA_DIR as string, 'files', 'Welcome.docx'));
    const r = await wb(['smoke', '/Welcome.docx'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.OK);
    const stepLines = r.stdout.split('\n').filter((l) => /^ {2}\S/.test(l)).slice(1);
    expect(stepLines.map((l) => l.trim().split(/\s{2,}/)[0])).toEqual(['GetLock (before)', ...SESSION, 'GetLock (after)', 'GetFile (after)']);
    for (const l of stepLines) expect(l).toMatch(/\s+ok\s+200\s+\d+ ms/);
    expect(r.stdout).toMatch(/^OK: a whole editing session worked in \d+ ms; the file is byte-identical \(sha256 [0-9a-f]{64}\) and unlocked\.$/m);
    expect(r.stdout).toContain(`sha256 ${sha(onDisk)}`);
    expect(await readFile(path.join(env.DATA_DIR as string, 'files', 'Welcome.docx'))).toEqual(onDisk);
  }, 30_000);

  test('the bridge saw what DS sends: the operations in order, from the access log', async () => {
    const before = bridge.entries().length;
    const r = await wb(['smoke', '/Budget.xlsx', '--json', '--user', 'carol'], env);
    expect(r.code).toBe(EXIT.OK);
    const report = JSON.parse(r.stdout) as SmokeReport;
    const requests = (): Array<Record<string, unknown>> =>
      bridge
        .entries()
        .slice(before)
        .filter((e) => e.msg === 'request');
    await bridge.waitForLine(() => requests().length >= 9);
    expect(requests().map((e) => [e.op, e.status])).toEqual(
      ['GetLock', 'CheckFileInfo', 'Lock', 'GetFile', 'RefreshLock', 'PutFile', 'Unlock', 'GetLock', 'GetFile'].map((op) => [op, 200]),
    );
    expect(report).toMatchObject({ ok: true, path: '/Budget.xlsx', signed: false, failedStep: null, unchanged: true, unlocked: true, leftBehind: [] });
    expect(report.sha256Before).toBe(report.sha256After);
    expect(report.steps.map((s) => [s.name, s.result, s.status])).toEqual([
      ['GetLock (before)', 'ok', 200],
      ...SESSION.map((n) => [n, 'ok', 200]),
      ['GetLock (after)', 'ok', 200],
      ['GetFile (after)', 'ok', 200],
    ]);
    const t = await token('/Budget.xlsx', env);
    expect(report.fileId).toBe(t.fileId);
    expect(sha(await getFile(t))).toBe(report.sha256Before);
    expect(await currentLock(t)).toBe('');
  }, 30_000);

  test('each request has DS\'s headers, in the order of the captured DocService requests', async () => {
    const recorder = await startRecorder(bridge.url);
    try {
      const started = Date.now();
      const r = await wb(['smoke', '/Welcome.docx', '--bridge', recorder.url, '--user', 'dave'], env);
      expect(r.code).toBe(EXIT.OK);
      const t = await token('/Welcome.docx', env);
      const seen = recorder.requests;
      expect(seen.map((q) => `${q.method} ${q.path} ${q.header('x-wopi-override') ?? ''}`.trim())).toEqual([
        `POST /wopi/files/${t.fileId} GET_LOCK`,
        `GET /wopi/files/${t.fileId}`,
        `POST /wopi/files/${t.fileId} LOCK`,
        `GET /wopi/files/${t.fileId}/contents`,
        `POST /wopi/files/${t.fileId} REFRESH_LOCK`,
        `POST /wopi/files/${t.fileId}/contents PUT`,
        `POST /wopi/files/${t.fileId} UNLOCK`,
        `POST /wopi/files/${t.fileId} GET_LOCK`,
        `GET /wopi/files/${t.fileId}/contents`,
      ]);
      // The header names of each DS operation in DocService's order (Host and Content-Length placed by the HTTP
      // client; proof headers absent without a key, as DS without keys sends none).
      const order = (names: string[], drop: string[] = []): string[] =>
        names.map((n) => n.toLowerCase()).filter((n) => !['host', 'content-length', 'x-wopi-proof', 'x-wopi-proofold', ...drop].includes(n));
      const capture = (name: string): string[] => readDocServiceCapture(`wopi-from-docservice/${name}`).request.headers.map(([k]) => k);
      const byOp = (i: number): string[] => seen[i]?.names ?? [];
      expect(order(byOp(1))).toEqual(order(capture('s7-editor-session-file1-01-CheckFileInfo')));
      expect(order(byOp(2))).toEqual(order(capture('s7-editor-session-file1-02-LOCK')));
      expect(order(byOp(3))).toEqual(order(capture('s7-editor-session-file1-03-GetFile')));
      expect(order(byOp(4))).toEqual(order(capture('s7-editor-session-file1-04-REFRESH_LOCK')));
      expect(order(byOp(6))).toEqual(order(capture('s7-editor-session-file1-07-UNLOCK')));
      // PutFile: as the captured one (an editnew save) plus the lock and the X-LOOL-WOPI-* flags of an exit save.
      expect(order(byOp(5), ['x-wopi-lock', 'x-lool-wopi-ismodifiedbyuser', 'x-lool-wopi-isautosave', 'x-lool-wopi-isexitsave', 'x-lool-wopi-timestamp'])).toEqual(
        order(capture('s2-edit-file2-empty-02-PutFile')),
      );
      const session = seen.slice(1, 7);
      for (const q of seen) {
        expect(q.header('user-agent')).toBe('Node.js/6.13');
        expect(q.header('accept')).toBe('application/json, text/plain, */*');
        expect(q.header('authorization')).toBeUndefined();
        // The token only in access_token, the same for the whole session.
        expect(q.query).toMatch(/^access_token=eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
        expect(q.query).toBe(seen[0]?.query);
        const ms = ticksToMs(BigInt(q.header('x-wopi-timestamp') ?? '0'));
        expect(Math.abs(ms - started)).toBeLessThan(30_000);
      }
      expect(new Set(seen.map((q) => q.header('x-wopi-sessionid'))).size).toBe(1);
      expect(new Set(seen.map((q) => q.header('x-wopi-correlationid'))).size).toBe(seen.length);
      for (const q of session.filter((x) => x.header('x-wopi-lock') !== undefined)) expect(q.header('x-wopi-lock')).toBe(t.fileId);
      expect(seen[3]?.header('x-wopi-maxexpectedsize')).toBe('104857600');
      const put = seen[5];
      expect(put?.header('x-wopi-editors')).toBe('dave');
      expect(put?.header('content-type')).toBe('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
      expect([put?.header('x-lool-wopi-ismodifiedbyuser'), put?.header('x-lool-wopi-isautosave'), put?.header('x-lool-wopi-isexitsave')]).toEqual(['true', 'false', 'true']);
      expect(put?.header('x-lool-wopi-timestamp')).toMatch(/^\d{4}-\d\d-\d\dT/);
      // The same bytes GetFile gave, announced with Content-Length (never chunked).
      expect(put?.header('content-length')).toBe(String(put?.body.length));
      expect(sha(put?.body ?? Buffer.alloc(0))).toBe(sha(recorder.responses[3] ?? Buffer.alloc(1)));
      for (const q of [seen[0], seen[2], seen[4], seen[6]]) {
        expect(q?.header('content-type')).toBe('application/x-www-form-urlencoded');
        expect(q?.header('content-length')).toBe('0');
      }
    } finally {
      await recorder.close();
    }
  }, 30_000);

  test('a file an editor has locked: refused before anything is sent to it, the lock left as it was (exit 2)', async () => {
    const t = await token('/Notes.txt', env);
    expect((await lockOp(t, 'LOCK', 'ds-session-lock')).status).toBe(200);
    const r = await wb(['smoke', '/Notes.txt', '--json'], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    const report = JSON.parse(r.stdout) as SmokeReport;
    expect(report.failedStep).toBe('GetLock (before)');
    expect(report.failure).toContain('the file is locked (lock id ds-session-lock)');
    expect(report.steps.filter((s) => s.result !== 'skipped').map((s) => s.name)).toEqual(['GetLock (before)']);
    expect(await currentLock(t)).toBe('ds-session-lock');
    expect((await lockOp(t, 'UNLOCK', 'ds-session-lock')).status).toBe(200);
  }, 30_000);

  test('a file that is not on the drive: exit 2, one line', async () => {
    const r = await wb(['smoke', '/No such.docx'], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('wopi-bridge: /No such.docx: no such file on the drive');
  }, 30_000);

  test('no bridge at --bridge: the first step fails with "cannot connect", exit 2', async () => {
    const port = await freePort();
    const r = await wb(['smoke', '/Welcome.docx', '--bridge', `http://127.0.0.1:${port}`], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout).toMatch(/GetLock \(before\)\s+FAIL\s+-\s+\d+ ms\s+cannot connect: ECONNREFUSED/);
    expect(r.stdout).toMatch(/^CRITICAL: GetLock \(before\) failed: cannot connect: ECONNREFUSED\./m);
    expect(r.stderr).not.toMatch(STACK_LINE);
  }, 30_000);

  test.each([
    [['smoke'], 'smoke needs exactly one path'],
    [['smoke', '/a', '/b'], 'smoke needs exactly one path'],
    [['smoke', '/Welcome.docx', '--bridge', 'ftp://x'], '--bridge must be an http:// or https:// URL'],
    [['smoke', '/Welcome.docx', '--proof-key', '/nonexistent.pem'], '--proof-key /nonexistent.pem: cannot be read (ENOENT)'],
    [['smoke', '/Welcome.docx', '--proof-key-old', '/x.pem'], '--proof-key-old needs --proof-key'],
    [['smoke', '/Welcome.docx', '--timeout', '0'], '--timeout must be a whole number of seconds'],
  ])('usage error %j: exit 3, one line', async (args, message) => {
    const r = await wb(args, env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(message)]);
  }, 30_000);

  test('a proof key file that is not a private key: exit 3', async () => {
    const f = path.join(await makeTempDir('wopi-cli-key-'), 'public.pem');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(f, publicKey.export({ type: 'spki', format: 'pem' }));
    const r = await wb(['smoke', '/Welcome.docx', '--proof-key', f], env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stderr).toContain('not a PEM private key');
  }, 30_000);
});

/**
 * A bridge whose lock store loses every lock it is given: Lock answers 200 but nothing is kept, as with a state
 * store that silently drops writes. Built in-process from the real runtime (drive, file ids) and createApp; only
 * the Locks get the forgetful store.
 */
describe('wopi-bridge smoke against a bridge that loses locks', () => {
  let env: Record<string, string>;
  let runtime: Runtime;
  let server: Server;

  beforeAll(async () => {
    const port = await freePort();
    env = { DATA_DIR: await dataDir('wopi-cli-smoke-broken-'), PORT: String(port) };
    const { config } = await loadEffectiveConfig({ ...env, HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
    const log = createLogger('silent');
    runtime = await createRuntime(config, log, { discovery: false });
    const real = runtime.state;
    const forgetful: StateStore = {
      get: (ns, key) => real.get(ns, key),
      list: (ns) => real.list(ns),
      set: async () => undefined,
      delete: async () => undefined,
      compareAndSet: async (_ns, _key, _expected, next) => ({ ok: true, current: next }),
      close: async () => undefined,
    };
    const app = createApp({ config, log, ...runtime, locks: new Locks(forgetful, config.lockTtlSeconds * 1000) });
    server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  }, 30_000);
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await runtime?.close();
  });

  test('reports RefreshLock with its 409 and X-WOPI-LockFailureReason, and leaves nothing behind', async () => {
    const filesDir = path.join(env.DATA_DIR as string, 'files');
    const before = await readFile(path.join(filesDir, 'Welcome.docx'));
    const namesBefore = (await readdir(filesDir)).sort();
    const r = await wb(['smoke', '/Welcome.docx', '--json'], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    const report = JSON.parse(r.stdout) as SmokeReport;
    expect(report.ok).toBe(false);
    expect(report.failedStep).toBe('RefreshLock');
    const failed = report.steps.find((s) => s.name === 'RefreshLock') as SmokeStep;
    expect(failed).toMatchObject({ result: 'fail', status: 409, lockFailureReason: 'File is not locked', lock: '' });
    expect(report.failure).toContain('answered 409; X-WOPI-LockFailureReason: File is not locked');
    // Nothing after the failure ran; no byte was written.
    expect(report.steps.filter((s) => s.name === 'PutFile' || s.name === 'Unlock').map((s) => s.result)).toEqual(['skipped', 'skipped']);
    // Its cleanup looked for its lock and found none to release.
    expect(report.steps.filter((s) => s.phase === 'cleanup').map((s) => [s.name, s.result, s.note])).toEqual([['GetLock (cleanup)', 'ok', 'unlocked: nothing to release']]);
    expect(report).toMatchObject({ unchanged: true, unlocked: true, leftBehind: [] });
    // Checked independently: same bytes on disk, no new file (no conflict copy), unlocked.
    expect(await readFile(path.join(filesDir, 'Welcome.docx'))).toEqual(before);
    expect((await readdir(filesDir)).sort()).toEqual(namesBefore);
    const t = await token('/Welcome.docx', env);
    expect(await currentLock(t)).toBe('');
  }, 30_000);

  test('text: the failing step, its status and reason, and "Left behind: nothing"', async () => {
    const r = await wb(['smoke', '/Welcome.docx'], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout).toMatch(/RefreshLock\s+FAIL\s+409\s+\d+ ms\s+answered 409; X-WOPI-LockFailureReason: File is not locked/);
    expect(r.stdout).toMatch(/PutFile\s+skipped/);
    expect(r.stdout).toMatch(
      /^CRITICAL: RefreshLock failed: answered 409; X-WOPI-LockFailureReason: File is not locked; X-WOPI-Lock: ""\. Left behind: nothing \(the file is unchanged, unlocked\)\.$/m,
    );
  }, 30_000);
});

/** DS's own proof keys: a bridge that enforces proofs, with DOCS_URL at the DS double whose discovery publishes them. */
describe('wopi-bridge smoke --proof-key against a bridge that enforces proof keys', () => {
  let env: Record<string, string>;
  let bridge: SpawnedBridge;
  let ds: DocServiceDouble;
  let keyDir: string;

  beforeAll(async () => {
    ds = await startDocServiceDouble();
    keyDir = await makeTempDir('wopi-cli-proof-');
    const keys = ds.proofKeys();
    if (!keys) throw new Error('the double has no proof keys');
    await writeFile(path.join(keyDir, 'current.pem'), keys.current.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    await writeFile(path.join(keyDir, 'old.pem'), keys.old.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await writeFile(path.join(keyDir, 'stranger.pem'), stranger.export({ type: 'pkcs1', format: 'pem' }) as string, { mode: 0o600 });
    env = { DATA_DIR: await dataDir('wopi-cli-smoke-proof-'), PORT: String(await freePort()), DOCS_URL: ds.url, WOPI_PROOF_MODE: 'enforce' };
    bridge = await spawnBridge(env);
  }, 30_000);
  afterAll(async () => {
    await bridge?.stop('SIGKILL');
    await ds?.close();
  });

  test('signed with DS current and old keys: every step passes, exit 0', async () => {
    const r = await wb(['smoke', '/Welcome.docx', '--proof-key', path.join(keyDir, 'current.pem'), '--proof-key-old', path.join(keyDir, 'old.pem'), '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.OK);
    const report = JSON.parse(r.stdout) as SmokeReport;
    expect(report).toMatchObject({ ok: true, signed: true, unchanged: true, unlocked: true });
    const passed = bridge.entries().filter((e) => e.msg === 'proof rejected');
    expect(passed).toEqual([]);
  }, 30_000);

  test('signed with the current key only (used for ProofOld too): passes', async () => {
    const r = await wb(['smoke', '/Budget.xlsx', '--proof-key', path.join(keyDir, 'current.pem')], env);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toContain(', signed with the proof key:');
  }, 30_000);

  test('unsigned: the first request is refused with 500 (proof rejected), nothing else is sent, exit 2', async () => {
    const r = await wb(['smoke', '/Welcome.docx', '--json'], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    const report = JSON.parse(r.stdout) as SmokeReport;
    expect(report.failedStep).toBe('GetLock (before)');
    expect(report.steps[0]).toMatchObject({ result: 'fail', status: 500 });
    expect(report.steps.filter((s) => s.result !== 'skipped')).toHaveLength(1);
  }, 30_000);

  test('signed with a key DS does not publish: refused with 500, exit 2', async () => {
    const r = await wb(['smoke', '/Welcome.docx', '--proof-key', path.join(keyDir, 'stranger.pem')], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout).toMatch(/GetLock \(before\)\s+FAIL\s+500/);
  }, 30_000);

  test('the proof-signed session left the file unchanged and unlocked', async () => {
    const t = await token('/Welcome.docx', env);
    // Unsigned GetLock is refused by this bridge: check the file on disk and the lock through the CLI.
    expect(t.fileId).toMatch(/^f/);
    const show = await wb(['locks', 'show', t.fileId, '--json'], env);
    expect(JSON.parse(show.stdout)).toMatchObject({ fileId: t.fileId, path: '/Welcome.docx', locked: false });
  }, 30_000);
});

test('no smoke run printed an access token or a secret', async () => {
  const secrets: string[] = [];
  for (const dir of dataDirs) {
    const g = JSON.parse(await readFile(path.join(dir, 'secrets.json'), 'utf8')) as { tokenSecret: string; embeddedPassword: string };
    secrets.push(g.tokenSecret, g.embeddedPassword);
  }
  expect(secrets.length).toBe(2 * dataDirs.length);
  expect(leaks(runs, secrets, tokens)).toEqual([]);
  expect(runs.filter((r) => r.args[0] === 'smoke').length).toBeGreaterThan(10);
});
