import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readProcMemory, startBenchBridge, startRclone, type BenchBridge, type DriveKind } from '../../bench/bridgeProcess.js';
import type { DavClient, WopiClient, WopiFile } from '../../bench/clients.js';
import { MiB, expectedSha256, pseudoRandomBytes, pseudoRandomStream, sha256 } from '../../bench/data.js';
import { Recorder } from '../../bench/load.js';
import { bridgeGet, bridgePut, directGet, directPut, prepareSizeFiles } from '../../bench/throughput.js';
import { CFI_FILE_SIZE, seedCfiFiles, timedCfi, timedPropfind } from '../../bench/checkFileInfo.js';
import { lockPair } from '../../bench/locks.js';
import { SESSION_OPS, runSessionLoad, seedSessionFiles } from '../../bench/sessions.js';
import { microbench, signedRequest } from '../../bench/crypto.js';
import { verifyProof } from '../../../connector/src/proof/proofKeys.js';
import { verifyAccessToken } from '../../../connector/src/tokens/accessToken.js';
import type { RcloneWebdav } from '../../helpers/rcloneWebdav.js';

// `npm run bench` measures these very functions; a benchmark of a broken path is worthless, so each one is checked
// here, small and fast: the bytes it moves, the statuses it gets (test/bench/README.md).

describe('the bench data generator', () => {
  test('the stream and the buffer give the same bytes, whatever the chunking, and the stream reports their hash', async () => {
    const size = 3 * 256 * 1024 + 123;
    const chunks: Buffer[] = [];
    const stream = pseudoRandomStream(size, 'seed-a', { hash: true });
    await pipeline(
      stream,
      new Writable({
        write(c: Buffer, _e, cb) {
          chunks.push(c);
          cb();
        },
      }),
    );
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(size);
    expect(all.equals(pseudoRandomBytes(size, 'seed-a'))).toBe(true);
    expect(stream.sha256()).toBe(sha256(all));
    expect(await expectedSha256(size, 'seed-a')).toBe(sha256(all));
    expect(pseudoRandomBytes(1024, 'seed-b').equals(pseudoRandomBytes(1024, 'seed-a'))).toBe(false);
  });
});

describe.each<DriveKind>(['embedded', 'rclone'])('benchmarked paths on %s', (drive) => {
  let workDir: string;
  let rclone: RcloneWebdav | undefined;
  let bridge: BenchBridge;
  let wopi: WopiClient;
  let dav: DavClient;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'wopi-bench-test-'));
    if (drive === 'rclone') rclone = await startRclone(workDir);
    bridge = await startBenchBridge({ label: `test-${drive}`, drive, workDir, ...(rclone ? { rclone } : {}) });
    wopi = bridge.wopi(4);
    dav = bridge.dav(4);
  }, 60_000);
  afterAll(async () => {
    await bridge?.stop();
    await rclone?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  test('throughput: GetFile and PutFile move exactly the generator bytes, like the direct GET and PUT', async () => {
    const size = 1 * MiB + 7;
    const f = await prepareSizeFiles(bridge, wopi, dav, size);
    expect(f.sourceSha).toBe(await expectedSha256(size, `/tp-${size}-source`));
    const got = await wopi.getFile(f.source, 'sha256');
    expect(got.status).toBe(200);
    expect(got.sha256).toBe(f.sourceSha);
    expect((await dav.get(f.source.path, 'sha256')).sha256).toBe(f.sourceSha);

    for (const rate of [await bridgeGet(wopi, f), await directGet(dav, f), await bridgePut(wopi, f, 'put-x'), await directPut(dav, f, 'put-y')]) {
      expect(rate).toBeGreaterThan(0);
      expect(Number.isFinite(rate)).toBe(true);
    }
    expect((await dav.get(f.bridgeTarget.path, 'sha256')).sha256).toBe(await expectedSha256(size, 'put-x'));
    expect((await dav.get(f.directTargetPath, 'sha256')).sha256).toBe(await expectedSha256(size, 'put-y'));
    // And back through the bridge.
    expect((await wopi.getFile(f.bridgeTarget, 'sha256')).sha256).toBe(await expectedSha256(size, 'put-x'));
  }, 60_000);

  test('CheckFileInfo and the direct PROPFIND it is compared with answer 200 / 207 for the file', async () => {
    const files = await seedCfiFiles(bridge, dav, 3);
    const rec = new Recorder();
    for (const f of files) {
      await timedCfi(rec, wopi, f);
      await timedPropfind(rec, dav, f.path);
    }
    expect(rec.firstErrors).toEqual([]);
    expect(rec.count('CheckFileInfo')).toBe(3);
    expect(rec.count('PROPFIND')).toBe(3);
    const info = JSON.parse(((await wopi.checkFileInfo(files[0] as WopiFile)).body as Buffer).toString('utf8')) as Record<string, unknown>;
    expect(info.Size).toBe(CFI_FILE_SIZE);
    // The check itself catches a wrong answer.
    const wrong = new Recorder();
    await timedCfi(wrong, wopi, { ...(files[0] as WopiFile), path: '/other.docx' });
    expect(wrong.errors()).toBe(1);
  }, 30_000);

  test('lock pairs: LOCK and UNLOCK answer 200, and a held lock is seen as a conflict', async () => {
    const files = await seedCfiFiles(bridge, dav, 3);
    const rec = new Recorder();
    for (const [i, f] of files.entries()) await lockPair(rec, wopi, i, f);
    expect(rec.firstErrors).toEqual([]);
    expect(rec.count('Lock')).toBe(3);
    expect(rec.count('Unlock')).toBe(3);
    // Unlocked afterwards: another client's lock succeeds, and then ours is refused.
    const other = files[0] as WopiFile;
    expect((await wopi.lock(other, 'someone-else')).status).toBe(200);
    const refused = new Recorder();
    await lockPair(refused, wopi, 0, other);
    expect(refused.errors('Lock')).toBe(1);
    expect((await wopi.unlock(other, 'someone-else')).status).toBe(200);
  }, 30_000);

  test('editing sessions: every operation answers 2xx, GetFile serves the file and the saves land on the drive', async () => {
    const files = await seedSessionFiles(bridge, dav, 4);
    const run = await runSessionLoad(bridge, files, 4, { rampMs: 100, holdMs: 700, refreshMs: 200 });
    expect(run.recorder.firstErrors).toEqual([]);
    for (const op of SESSION_OPS) expect(run.recorder.count(op)).toBeGreaterThanOrEqual(4);
    expect(run.recorder.count('Unlock')).toBe(4);
    expect(run.maxOpen).toBeGreaterThanOrEqual(2);
    expect(run.checkedAfter).toBe(4);
    expect(run.wrongAfter).toBe(0);
  }, 30_000);

  test('the memory figures come from the bridge process itself', async () => {
    const m = readProcMemory(bridge.pid);
    expect(m.rss).toBeGreaterThan(10 * 1e6);
    expect(m.hwm).toBeGreaterThanOrEqual(m.rss);
    expect(bridge.pid).not.toBe(process.pid);
  });
});

describe('the proof and token microbenchmark', () => {
  test('verifies a correctly signed request (current key and old key) and its token', () => {
    const req = signedRequest();
    expect(verifyProof(req.current)).toEqual({ ok: true, via: 'current' });
    expect(verifyProof(req.oldKey)).toEqual({ ok: true, via: 'proof-old' });
    expect(verifyProof({ ...req.current, url: `${req.url}&x=1` })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyAccessToken(req.secret, req.token, req.fileId).fileId).toBe(req.fileId);
    const s = microbench(() => verifyProof(req.current), 50, 1000);
    expect(s.n).toBe(50);
    expect(s.p50).toBeGreaterThan(0);
  });
});

