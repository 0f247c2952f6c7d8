/**
 * WebdavStorage on the embedded webdav-server (generic WebDAV: temporary upload + MOVE): what happens inside a
 * write's critical section, writes that overlap, orphaned temporary uploads and close(). The served folder is read
 * on disk, not through the adapter under test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { startEmbeddedWebdav, type EmbeddedWebdav } from '../../../connector/src/storage/embedded/startEmbeddedWebdav.js';
import { ORPHAN_AGE_MS, TEMP_PREFIX, WebdavStorage } from '../../../connector/src/storage/webdav/WebdavStorage.js';
import { StorageError, VersionMismatchError } from '../../../connector/src/storage/StorageAdapter.js';
import { startFaultInjectingProxy } from '../../helpers/faultInjectingProxy.js';

const body = (s: string | Buffer): Readable => Readable.from([Buffer.from(s)]);

/** A body that sends `first`, then waits until release() before sending `rest`. */
function heldBody(first: Buffer, rest: Buffer): { stream: Readable; release: () => void; started: Promise<void> } {
  let release!: () => void;
  let started!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const begun = new Promise<void>((r) => (started = r));
  const stream = Readable.from(
    (async function* () {
      yield first;
      started();
      await released;
      yield rest;
    })(),
  );
  return { stream, release, started: begun };
}

describe('WebdavStorage (generic) on the embedded drive: overlapping writes, orphans, close', () => {
  let dir: string;
  let server: EmbeddedWebdav;
  let storage: WebdavStorage;
  const make = (): WebdavStorage =>
    new WebdavStorage({ url: server.url, username: server.username, password: server.password, flavour: 'generic', timeoutMs: 5_000, sweepIntervalMs: 0 });
  const temps = async (): Promise<string[]> => (await readdir(dir)).filter((n) => n.startsWith(TEMP_PREFIX));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wopi-writes-'));
    server = await startEmbeddedWebdav(dir, randomBytes(12).toString('hex'));
    storage = make();
  });
  afterAll(async () => {
    await storage.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('an expectedVersion function is read inside the critical section: five overlapping saves of one session all land', async () => {
    let recorded = (await storage.writeStream('/Session.docx', body('v0'), { contentLength: 2 })).version;
    const saves = Array.from({ length: 5 }, (_, i) =>
      storage.writeStream('/Session.docx', body(`save ${i}`), {
        contentLength: 6,
        expectedVersion: async () => recorded,
        onWritten: async (w) => {
          recorded = w.version;
        },
      }),
    );
    const results = await Promise.allSettled(saves);
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('fulfilled'));
    expect(['save 0', 'save 1', 'save 2', 'save 3', 'save 4']).toContain(await readFile(path.join(dir, 'Session.docx'), 'utf8'));
    expect((await storage.stat('/Session.docx')).version).toBe(recorded);
    expect(await temps()).toEqual([]);
  });

  test('… and one based on a version another writer replaced fails with VersionMismatchError, the other writer\'s bytes kept', async () => {
    const loaded = (await storage.writeStream('/Shared.docx', body('v0'), { contentLength: 2 })).version;
    await storage.writeStream('/Shared.docx', body('someone else'), { contentLength: 12 });
    const e = await storage
      .writeStream('/Shared.docx', body('editor'), { contentLength: 6, expectedVersion: async () => loaded })
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(VersionMismatchError);
    expect(await readFile(path.join(dir, 'Shared.docx'), 'utf8')).toBe('someone else');
  });

  test('createUnique with a body that trickles does not hold up another createUnique in the same folder', async () => {
    const slow = heldBody(Buffer.alloc(1000, 1), Buffer.alloc(1000, 2));
    const first = storage.createUnique('/', 'Copy.docx', slow.stream, 2000);
    await slow.started;
    const second = await storage.createUnique('/', 'Copy.docx', body('quick'), 5);
    slow.release();
    const firstInfo = await first;
    expect([second.name, firstInfo.name].sort()).toEqual(['Copy (2).docx', 'Copy.docx']);
    expect(await readFile(path.join(dir, second.name), 'utf8')).toBe('quick');
    expect((await readFile(path.join(dir, firstInfo.name))).length).toBe(2000);
    expect(await temps()).toEqual([]);
  });

  test('a rename of a path that another rename already moved fails with not_found and creates nothing', async () => {
    await storage.writeStream('/Before.docx', body('r'), { contentLength: 1 });
    const [a, b] = await Promise.allSettled([storage.rename('/Before.docx', '/After A.docx'), storage.rename('/Before.docx', '/After B.docx')]);
    expect(a.status).toBe('fulfilled');
    expect(b.status === 'rejected' && b.reason instanceof StorageError && b.reason.kind).toBe('not_found');
    expect((await readdir(dir)).filter((n) => n.startsWith('After') || n === 'Before.docx')).toEqual(['After A.docx']);
  });

  test('onRenamed runs before the next rename of the same path starts', async () => {
    await storage.writeStream('/Order.docx', body('o'), { contentLength: 1 });
    const seen: string[] = [];
    const first = storage.rename('/Order.docx', '/Order 2.docx', {
      onRenamed: async (r) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen.push(`recorded ${r.name}`);
      },
    });
    const second = storage.rename('/Order.docx', '/Order 3.docx').catch((e: unknown) => {
      seen.push(`second ${(e as StorageError).kind}`);
    });
    await Promise.all([first, second]);
    expect(seen).toEqual(['recorded Order 2.docx', 'second not_found']);
  });

  test('a sweep removes temporary uploads untouched for an hour, keeps a fresh one (it may be a live upload) and other files', async () => {
    const old = `${TEMP_PREFIX}0123456789ab.tmp`;
    const fresh = `${TEMP_PREFIX}ba9876543210.tmp`;
    await writeFile(path.join(dir, old), 'left by a crash');
    await writeFile(path.join(dir, fresh), 'being uploaded');
    await writeFile(path.join(dir, 'Old but ordinary.docx'), 'keep');
    const longAgo = new Date(Date.now() - ORPHAN_AGE_MS - 60_000);
    await utimes(path.join(dir, old), longAgo, longAgo);
    await utimes(path.join(dir, 'Old but ordinary.docx'), longAgo, longAgo);
    await storage.sweepFolder('/');
    const names = await readdir(dir);
    expect(names).not.toContain(old);
    expect(names).toContain(fresh);
    expect(names).toContain('Old but ordinary.docx');
    await rm(path.join(dir, fresh));
  });

  test('a sweep of a folder that does not exist, or of a drive that is down, fails quietly', async () => {
    await expect(storage.sweepFolder('/no such folder')).resolves.toBeUndefined();
    const down = new WebdavStorage({ url: 'http://127.0.0.1:9', username: null, password: null, flavour: 'generic', timeoutMs: 500, sweepIntervalMs: 0 });
    await expect(down.sweepFolder('/')).resolves.toBeUndefined();
    await down.close();
  });

  test('a save with an expectedVersion asks for the file\'s state once before the MOVE (not also before the upload)', async () => {
    const proxy = await startFaultInjectingProxy(server.url);
    const counted = new WebdavStorage({ url: proxy.url, username: server.username, password: server.password, flavour: 'generic', timeoutMs: 5_000, sweepIntervalMs: 0 });
    try {
      const v0 = await counted.writeStream('/Counted.docx', body('v0'), { contentLength: 2 });
      proxy.seen.length = 0;
      const v1 = await counted.writeStream('/Counted.docx', body('v1!'), { contentLength: 3, expectedVersion: v0.version });
      const calls = proxy.seen.map((r) => `${r.method} ${decodeURIComponent(r.url).includes('Counted.docx') ? 'file' : 'temporary'}`);
      expect(calls).toEqual(['PUT temporary', 'PROPFIND temporary', 'PROPFIND file', 'MOVE temporary', 'PROPFIND file']);
      expect(v1.version).not.toBe(v0.version);
      expect(await readFile(path.join(dir, 'Counted.docx'), 'utf8')).toBe('v1!');
    } finally {
      await counted.close();
      await proxy.close();
    }
  });

  test('close() waits until a failed upload\'s temporary file is removed', async () => {
    const own = make();
    const original = Buffer.from('original');
    await own.writeStream('/Closing.docx', body(original), { contentLength: original.length });
    // As PutFile does when its client disconnects: the body fails and the request's signal is aborted.
    const cut = heldBody(Buffer.alloc(64 * 1024, 7), Buffer.alloc(0));
    const clientGone = new AbortController();
    const write = own.writeStream('/Closing.docx', cut.stream, { contentLength: 1024 * 1024, signal: clientGone.signal }).catch((e: unknown) => e);
    await cut.started;
    cut.stream.destroy(new Error('client went away'));
    clientGone.abort();
    await own.close();
    expect(await temps()).toEqual([]);
    expect(await write).toBeInstanceOf(Error);
    expect(await readFile(path.join(dir, 'Closing.docx'))).toEqual(original);
  }, 15_000);
});
