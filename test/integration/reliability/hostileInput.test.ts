import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cleanupProcesses, makeTempDir, spawnBridge, type SpawnedBridge } from '../../helpers/processes.js';
import { rawDrive, startTestBridge, TEST_SECRETS, type TestBridge } from '../../helpers/testBridge.js';
import { diffTrees, snapshotTree } from '../../helpers/treeSnapshot.js';
import { formatReport, makeGenerator, runFuzz, type FuzzBudgets, type FuzzContext, type FuzzTarget } from '../../helpers/wopiFuzz.js';
import { issueAccessToken } from '../../../connector/src/tokens/accessToken.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/**
 * How many requests, how many at once, the longest a run may take. `npm test` sends 10,000 to the in-process bridge
 * (about 15 s on 2 cores: the bridge, its embedded drive and this client share one Node process, ~700 requests/s)
 * and 5,000 to a spawned one (~1,000/s); `scripts/test-long.sh` sends 100,000 and 20,000 (FUZZ_REQUESTS,
 * FUZZ_SPAWN_REQUESTS; about 3 minutes). FUZZ_SEED replays a run; FUZZ_DEBUG=<kind>:<status> (e.g. rename:500)
 * prints every request of that kind answered with that status.
 */
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const SPAWN_REQUESTS = Number(process.env.FUZZ_SPAWN_REQUESTS ?? 5_000);
const CONCURRENCY = 50;
const MAX_RUN_MS = Number(process.env.FUZZ_MAX_MS ?? 120_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const MAX_UPLOAD = 64 * 1024;
/**
 * How much RSS may grow over a run. The spawned bridge's is the honest figure (20,000 requests: +90 MiB, 60,000:
 * +125 MiB — heap settling, not growing with the count); this test process's also holds Jest, the client and the
 * log sink (100,000 requests: about +250 MiB).
 */
const RSS_GROWTH_LIMIT = 300 * 1024 * 1024;
const IN_PROCESS_RSS_GROWTH_LIMIT = 450 * 1024 * 1024;
const LOCK = 'FUZZ-LOCK';

/** A process's resident set size in bytes (Linux /proc). */
async function rssOf(pid: number): Promise<number> {
  const kb = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

const budgetsFor = (): FuzzBudgets => ({ conflictCopies: 20, relativeCreates: 60, renames: 60, goodSaves: 100 });

/** Puts the fuzz targets on a bridge's drive, locks two of them and returns the generator's context. */
async function seedTargets(tb: TestBridge): Promise<Omit<FuzzContext, 'host' | 'port' | 'busy'>> {
  const drive = rawDrive(tb);
  for (const [p, body] of [['/FuzzLocked.docx', 'locked original'], ['/FuzzFree.docx', 'free original'], ['/FuzzView.txt', 'view only'], ['/FuzzStall.docx', 'stall']] as const) {
    expect(await drive.put(p, Buffer.from(body))).toBeLessThan(300);
  }
  const locked = await tb.open('/FuzzLocked.docx');
  const stall = await tb.open('/FuzzStall.docx');
  for (const f of [locked, stall]) expect((await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': LOCK } })).status).toBe(200);
  await (await fetch(locked.url('/contents'))).arrayBuffer();
  const target = (f: { fileId: string; token: string }): FuzzTarget => ({ fileId: f.fileId, token: f.token });
  return {
    secret: tb.config.tokens.secret,
    locked: target(locked),
    lockedWith: LOCK,
    free: target(await tb.open('/FuzzFree.docx')),
    viewOnly: target(await tb.open('/FuzzView.txt', { canWrite: false })),
    stall: target(stall),
    maxUpload: MAX_UPLOAD,
  };
}

// Hostile input: malformed WOPI requests against an in-process bridge over its embedded drive. The process never
// crashes, no client mistake gets a 5xx, nothing is written outside the drive folder, memory stays bounded.
//
// Unhandled rejections and uncaught exceptions: the bridge runs in this Jest worker, and Jest (jest-circus) puts its
// own 'unhandledRejection'/'uncaughtException' handlers on the worker's process and fails the running test on
// either; listeners added here would not see them (the test's `process` is Jest's sandbox object, and
// `node:process` too). So any such event fails this test; the spawned variant below checks a real process.
describe(`fuzz: ${REQUESTS} malformed WOPI requests, bridge in-process`, () => {
  let root: string;
  let dataDir: string;
  let tb: TestBridge;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'wopi-fuzz-'));
    dataDir = path.join(root, 'data');
    // Beside the data folder: what path tricks would like to reach.
    await mkdir(path.join(root, 'outside'), { recursive: true });
    await writeFile(path.join(root, 'outside', 'victim.docx'), 'outside the drive');
    await writeFile(path.join(root, 'secret.txt'), 'outside the data folder');
    tb = await startTestBridge({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD), STORAGE_TIMEOUT_MS: '3000', LOG_LEVEL: 'error' }, dataDir);
  });
  // stop() is bounded by design: the 2 s drain of testBridge, then up to 10 s for the drive's clean-ups in flight
  // (such as the removal of aborted uploads); Jest's default 5 s hook limit is shorter.
  afterAll(async () => {
    await tb?.stop();
    await rm(root, { recursive: true, force: true });
  }, 20_000);

  test('the bridge shrugs it off', async () => {
    const drive = rawDrive(tb);
    const targets = await seedTargets(tb);
    const port = Number(new URL(tb.url).port);
    const budgets = budgetsFor();
    const busy = new Set<string>();
    const next = makeGenerator({ host: '127.0.0.1', port, busy, ...targets }, SEED, budgets);
    const treeBefore = await snapshotTree(root);
    // Warm up (JIT, pools) before measuring memory.
    await runFuzz({ host: '127.0.0.1', port, requests: 500, concurrency: CONCURRENCY, maxMs: 60_000, busy, next: () => ({ kind: 'warm', describe: '', transport: 'http', method: 'GET', path: `/wopi/files/${targets.free.fileId}?access_token=${targets.free.token}` }) });

    const r = await runFuzz({ host: '127.0.0.1', port, requests: REQUESTS, concurrency: CONCURRENCY, maxMs: MAX_RUN_MS, busy, next, ...(process.env.FUZZ_DEBUG ? { debug: process.env.FUZZ_DEBUG } : {}) });
    const explain = (res: { body: string }): string => {
      const reqId = /reqId ([0-9a-f-]+)/.exec(res.body)?.[1];
      const line = reqId === undefined ? undefined : tb.logs.entries().find((e) => e.reqId === reqId);
      return `${JSON.stringify(line?.detail ?? res.body.slice(0, 80))} ${(line?.err as { message?: string } | undefined)?.message ?? ''}`;
    };
    process.stdout.write(formatReport('fuzz (in-process)', r, { seed: SEED, concurrency: CONCURRENCY, budgets, explain }));

    expect(r.sent).toBeGreaterThanOrEqual(REQUESTS);
    // Still alive and serving.
    expect((await fetch(`${tb.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${tb.url}/wopi/files/${targets.free.fileId}?access_token=${targets.free.token}`)).status).toBe(200);
    expect(r.fiveHundreds.map(({ req, res }) => `${res.status} ${req.kind}: ${req.describe}`)).toEqual([]);
    expect(r.byStatus.get('timeout') ?? 0).toBe(0);
    expect(r.rssAfter - r.rssBefore).toBeLessThan(IN_PROCESS_RSS_GROWTH_LIMIT);

    // The lock held all along; the locked file holds the original or one of the good saves, never anything else.
    const locked = `${tb.url}/wopi/files/${targets.locked.fileId}?access_token=${targets.locked.token}`;
    expect((await fetch(locked, { method: 'POST', headers: { 'X-WOPI-Override': 'GET_LOCK' } })).headers.get('x-wopi-lock')).toBe(LOCK);
    expect([sha('locked original'), ...r.accepted]).toContain(sha((await drive.get('/FuzzLocked.docx')) as Buffer));
    expect((await drive.get('/FuzzView.txt'))?.toString()).toBe('view only');

    // Nothing written outside the drive folder: only <DATA_DIR>/files, the state database and the spool folder change.
    const { added, removed, changed } = diffTrees(treeBefore, await snapshotTree(root));
    const allowed = (p: string): boolean => p.startsWith('data/files/') || /^data\/state\.sqlite(-wal|-shm|-journal)?$/.test(p) || p === 'data/tmp' || p.startsWith('data/tmp/');
    expect([...added, ...changed, ...removed].filter((p) => !allowed(p))).toEqual([]);
    expect(await readFile(path.join(root, 'outside', 'victim.docx'), 'utf8')).toBe('outside the drive');
    expect(await readFile(path.join(root, 'secret.txt'), 'utf8')).toBe('outside the data folder');
    // Inside the drive: only plain files at the top (no folder made by a name trick), with names a drive can hold.
    const filesDir = path.join(dataDir, 'files');
    const entries = await readdir(filesDir, { withFileTypes: true });
    const bad = entries.filter((e) => !e.isFile() || /[\u0000-\u001f\u007f/\\]/.test(e.name) || e.name === '..' || Buffer.byteLength(e.name) > 255 || e.name.endsWith('.part'));
    expect(bad.map((e) => e.name)).toEqual([]);
    // No temporary upload left behind, and the spool folder empty.
    expect(entries.filter((e) => e.name.startsWith('.~wopi-')).map((e) => e.name)).toEqual([]);
    expect(await readdir(path.join(dataDir, 'tmp')).catch(() => [])).toEqual([]);
    // A token issued for a path-like id (as if the secret had signed one) still reaches no file: ids are not paths.
    const trick = '../../outside/victim.docx';
    const tricky = issueAccessToken(tb.config.tokens.secret, { userId: 'mallory', fileId: trick, canWrite: true }, 60).token;
    const viaTrick = await fetch(`${tb.url}/wopi/files/${encodeURIComponent(trick)}/contents?access_token=${tricky}`);
    expect(viaTrick.status).toBe(404);
    expect(await viaTrick.text()).not.toContain('outside the drive');
  }, MAX_RUN_MS + 90_000);
});

// The same against the bridge as a real process (`node dist/connector/src/main.js`): Node's own default for an
// unhandled rejection (throw) or an uncaught exception would end it, so "still running, exit 0 on SIGTERM, no error
// or stack trace on stderr, no fatal or error line on stdout" proves there was none.
describe(`fuzz: ${SPAWN_REQUESTS} malformed WOPI requests, bridge as a process`, () => {
  let bridge: SpawnedBridge | undefined;
  afterAll(async () => {
    await bridge?.stop('SIGKILL');
    await cleanupProcesses();
  });

  test('the process neither crashes nor logs an error, and stops cleanly', async () => {
    const dataDir = await makeTempDir('wopi-fuzz-spawn-');
    // Targets (ids, locks) prepared by an in-process bridge on the same data folder, then handed over.
    const seeder = await startTestBridge({}, dataDir);
    const targets = await seedTargets(seeder);
    await seeder.stop();
    const env = { DATA_DIR: dataDir, WOPI_TOKEN_SECRET: TEST_SECRETS.tokenSecret, MAX_UPLOAD_BYTES: String(MAX_UPLOAD), STORAGE_TIMEOUT_MS: '3000', LOG_LEVEL: 'error' };
    bridge = await spawnBridge(env);
    const port = bridge.port;
    const budgets = budgetsFor();
    const busy = new Set<string>();
    const next = makeGenerator({ host: '127.0.0.1', port, busy, ...targets }, SEED + 1, budgets);
    const pid = bridge.child.pid as number;
    // Warm up, then the bridge process's own RSS before and after (Linux /proc).
    await runFuzz({ host: '127.0.0.1', port, requests: 500, concurrency: CONCURRENCY, maxMs: 60_000, busy, next: () => ({ kind: 'warm', describe: '', transport: 'http', method: 'GET', path: `/wopi/files/${targets.free.fileId}?access_token=${targets.free.token}` }) });
    const rssBefore = await rssOf(pid);
    const r = await runFuzz({ host: '127.0.0.1', port, requests: SPAWN_REQUESTS, concurrency: CONCURRENCY, maxMs: MAX_RUN_MS, busy, next });
    const rssAfter = await rssOf(pid);
    process.stdout.write(formatReport('fuzz (spawned bridge)', r, { seed: SEED + 1, concurrency: CONCURRENCY, budgets, rss: false }));
    process.stdout.write(`  RSS of the bridge process: before ${(rssBefore / 2 ** 20).toFixed(0)} MiB, after ${(rssAfter / 2 ** 20).toFixed(0)} MiB\n`);
    expect(rssAfter - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT);

    expect(r.sent).toBeGreaterThanOrEqual(SPAWN_REQUESTS);
    expect(bridge.child.exitCode).toBeNull();
    expect((await fetch(`${bridge.url}/healthz`)).status).toBe(200);
    expect(r.fiveHundreds.map(({ req, res }) => `${res.status} ${req.kind}: ${req.describe}`)).toEqual([]);
    expect(r.byStatus.get('timeout') ?? 0).toBe(0);
    // No fatal line, no 5xx access line. (Error-level lines for requests whose client had gone — "error after
    // response started": a 4xx, a save the client cut off, or one stalled by the defect in clientGone.test.ts — and
    // 501 access lines are counted, not failed: tests of their own in clientGone.test.ts show those defects.)
    const entries = bridge.entries();
    expect(entries.filter((e) => (e.level as number) >= 60)).toEqual([]);
    expect(entries.filter((e) => e.msg === 'request' && (e.status as number) >= 500 && e.status !== 501).map((e) => `${e.op} ${e.status} ${e.code}`)).toEqual([]);
    const errorLines = entries.filter((e) => (e.level as number) >= 50);
    process.stdout.write(
      `  error-level log lines: ${errorLines.length} (${errorLines.filter((e) => e.status === 501).length} for 501, ${errorLines.filter((e) => e.msg === 'error after response started').length} "error after response started")\n`,
    );
    expect(errorLines.filter((e) => e.status !== 501 && e.msg !== 'error after response started').map((e) => e.msg)).toEqual([]);
    expect(await bridge.stop('SIGTERM', 35_000)).toBe(0);
  }, MAX_RUN_MS + 90_000);
});
