/**
 * Runs the storage contract (test/helpers/storageContract.ts) against WebdavStorage on every WebDAV server we can
 * start here: the embedded webdav-server, Debian's `rclone serve webdav`, the Nextcloud double, and any server named
 * in WEBDAV_TEST_URL. Nextcloud-only behaviour (file ids, If-Match, 423 while a download runs) is tested below.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { StorageFlavour } from '../../../connector/src/config/config.js';
import { startEmbeddedWebdav } from '../../../connector/src/storage/embedded/startEmbeddedWebdav.js';
import { WebdavStorage } from '../../../connector/src/storage/webdav/WebdavStorage.js';
import { StorageError, VersionMismatchError } from '../../../connector/src/storage/StorageAdapter.js';
import { startNextcloudDouble, type NextcloudDouble } from '../../helpers/nextcloudDouble.js';
import { startRcloneWebdav } from '../../helpers/rcloneWebdav.js';
import { RawDav, bodyOf, describeStorageContract, digestOf, sha256, type MakeAdapter } from '../../helpers/storageContract.js';

const webdavStorage =
  (flavour: StorageFlavour): MakeAdapter =>
  (endpoint, timeoutMs) =>
    new WebdavStorage({ url: endpoint.url, username: endpoint.username, password: endpoint.password, flavour, timeoutMs });

describeStorageContract('WebdavStorage (generic) on the embedded webdav-server', webdavStorage('generic'), {
  flavour: 'generic',
  start: async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wopi-contract-embedded-'));
    const server = await startEmbeddedWebdav(dir, randomBytes(12).toString('hex'));
    return {
      endpoint: { url: server.url, username: server.username, password: server.password },
      stop: async () => {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});

describeStorageContract('WebdavStorage (generic) on rclone serve webdav', webdavStorage('generic'), {
  flavour: 'generic',
  start: async () => {
    const server = await startRcloneWebdav({ user: 'contract', pass: randomBytes(12).toString('hex') });
    return { endpoint: { url: server.url, username: server.user, password: server.pass }, stop: () => server.stop() };
  },
});

describeStorageContract('WebdavStorage (nextcloud) on the Nextcloud double', webdavStorage('nextcloud'), {
  flavour: 'nextcloud',
  start: async () => {
    const nc = await startNextcloudDouble();
    return { endpoint: { url: nc.davUrl('alice'), username: 'alice', password: 'alice-pass-123' }, stop: () => nc.close() };
  },
});

const envUrl = process.env.WEBDAV_TEST_URL;
const envFlavour = (process.env.WEBDAV_TEST_FLAVOUR ?? 'generic') as StorageFlavour;
if (!['generic', 'nextcloud', 'owncloud'].includes(envFlavour)) {
  throw new Error(`WEBDAV_TEST_FLAVOUR must be generic, nextcloud or owncloud, not "${envFlavour}"`);
}
describeStorageContract(`WebdavStorage (${envFlavour}) on WEBDAV_TEST_URL`, webdavStorage(envFlavour), {
  flavour: envFlavour,
  timeoutMs: 60_000,
  ...(envUrl === undefined || envUrl === ''
    ? { skip: 'set WEBDAV_TEST_URL (+ WEBDAV_TEST_USER, WEBDAV_TEST_PASSWORD, WEBDAV_TEST_FLAVOUR) to run the contract against another WebDAV server' }
    : {}),
  start: async () => ({
    endpoint: {
      url: (envUrl ?? '').replace(/\/+$/, ''),
      username: process.env.WEBDAV_TEST_USER ?? null,
      password: process.env.WEBDAV_TEST_PASSWORD ?? null,
    },
    stop: async () => undefined,
  }),
});

describe('WebdavStorage (nextcloud) on the Nextcloud double: Nextcloud-only behaviour', () => {
  const USER = 'alice';
  let nc: NextcloudDouble;
  let storage: WebdavStorage;
  let raw: RawDav;

  beforeAll(async () => {
    nc = await startNextcloudDouble();
    storage = new WebdavStorage({ url: nc.davUrl(USER), username: USER, password: 'alice-pass-123', flavour: 'nextcloud', timeoutMs: 5_000 });
    raw = new RawDav({ url: nc.davUrl(USER), username: USER, password: 'alice-pass-123' });
  });

  afterAll(async () => {
    nc.releaseDownloads();
    await storage?.close();
    await nc?.close();
  });

  const write = (p: string, bytes: Buffer, expectedVersion?: string) =>
    storage.writeStream(p, bodyOf(bytes), { contentLength: bytes.length, ...(expectedVersion !== undefined ? { expectedVersion } : {}) });

  test('upstreamId is oc:fileid and stays the same across a rename', async () => {
    const info = await write('/Q3 & Q4 中文.docx', Buffer.from('q3'));
    expect(info.upstreamId).toBe(nc.fileIdOf(USER, '/Q3 & Q4 中文.docx'));
    expect(info.upstreamId).toMatch(/^\d+$/);
    const renamed = await storage.rename('/Q3 & Q4 中文.docx', '/Q3 final 😀.docx');
    expect(renamed.upstreamId).toBe(info.upstreamId);
    expect((await storage.stat('/Q3 final 😀.docx')).upstreamId).toBe(info.upstreamId);
  });

  test('findByUpstreamId finds a file that was moved outside the bridge', async () => {
    nc.mkdirDirect(USER, '/Moved away #1');
    const info = await write('/wander % ing.xlsx', Buffer.from('wandering'));
    const id = info.upstreamId;
    if (id === null) throw new Error('the double gave no oc:fileid');
    await raw.move('/wander % ing.xlsx', '/Moved away #1/R&D wandered.xlsx');
    expect(await storage.findByUpstreamId(id)).toBe('/Moved away #1/R&D wandered.xlsx');
    expect(await storage.findByUpstreamId('999999')).toBeNull();
  });

  test('permissions come from oc:permissions (RGDNVW on a file: may write, rename, delete)', async () => {
    const info = await write('/perms.docx', Buffer.from('perms'));
    expect(info.permissions).toEqual({ canWrite: true, canRename: true, canDelete: true });
  });

  test('a write with a stale expectedVersion fails with VersionMismatchError and does not change the file', async () => {
    const v1 = await write('/stale.docx', Buffer.from('v1'));
    nc.putFileDirect(USER, '/stale.docx', Buffer.from('edited in the web UI'));
    const e = await write('/stale.docx', Buffer.from('editor save based on v1'), v1.version).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(VersionMismatchError);
    expect(nc.readFileDirect(USER, '/stale.docx')?.toString()).toBe('edited in the web UI');
  });

  test('the PUT carries the expected version as a quoted If-Match, so Nextcloud itself refuses a stale write', async () => {
    const v1 = await write('/ifmatch.docx', Buffer.from('v1'));
    await write('/ifmatch.docx', Buffer.from('v2'), v1.version);
    const put = nc.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/ifmatch.docx')).at(-1);
    expect(put?.headers['if-match']).toBe(`"${v1.version}"`);
    expect(nc.readFileDirect(USER, '/ifmatch.docx')?.toString()).toBe('v2');
  });

  test('a PUT while a download of the same file is held open fails with kind "locked"', async () => {
    const bytes = randomBytes(64 * 1024);
    await write('/being read.docx', bytes);
    nc.holdDownloads(true);
    try {
      const download = await storage.openReadStream('/being read.docx');
      await nc.downloadHeld();
      const e = await write('/being read.docx', Buffer.from('a save during the download')).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(StorageError);
      expect((e as StorageError).kind).toBe('locked');
      const digest = digestOf(download.stream);
      nc.releaseDownloads();
      expect(await digest).toEqual({ sha256: sha256(bytes), length: bytes.length });
    } finally {
      nc.holdDownloads(false);
    }
    expect(sha256(nc.readFileDirect(USER, '/being read.docx') ?? Buffer.alloc(0))).toBe(sha256(bytes));
  });
});
