/**
 * The storage contract: one suite that every StorageAdapter target must pass, registered per target with
 * {@link describeStorageContract} (like cs3org/wopiserver `test/test_storageiface.py` and h3's `describeMatrix`).
 *
 * Each target is a WebDAV endpoint plus a factory that builds an adapter for an endpoint. The suite works in a fresh
 * folder below the endpoint's root (`/wopi-contract-<random>`, made with a raw MKCOL and removed afterwards), so it can
 * also run against a real drive that holds other files. Everything the adapter wrote is checked through a raw WebDAV
 * client on node:http, never through the adapter under test alone (leftover temporary uploads, escaped paths).
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { StorageFlavour } from '../../connector/src/config/config.js';
import {
  StorageError,
  VersionMismatchError,
  joinPath,
  type FileInfo,
  type StorageAdapter,
  type StorageErrorKind,
} from '../../connector/src/storage/StorageAdapter.js';

/** Where a WebDAV drive lives and how to log in. */
export interface DavEndpoint {
  /** WebDAV URL of the drive root, no trailing slash. */
  url: string;
  username: string | null;
  password: string | null;
}

/** A running server for one contract target. */
export interface StorageContractServer {
  endpoint: DavEndpoint;
  /** Stops the server and removes what it stored (idempotent). */
  stop(): Promise<void>;
}

/** Builds the adapter under test for an endpoint (the target's own, or one with bad credentials, a closed port…). */
export type MakeAdapter = (endpoint: DavEndpoint, timeoutMs: number) => StorageAdapter;

/** How to run the contract against one target. */
export interface StorageContractOptions {
  /** Flavour the adapters are built with; the conflict-copy tests apply to 'generic' only. */
  flavour: StorageFlavour;
  /** Starts (or connects to) the target's server. */
  start: () => Promise<StorageContractServer>;
  /** Timeout for the adapter under test (ms); large enough for a 10 MB upload. Default 15 000. */
  timeoutMs?: number;
  /** When set, the whole suite is registered as skipped and this reason is shown in the suite's name. */
  skip?: string;
}

/** Names that break naive URL building (webdav-client `test/serverContents/` has the same kind of tree). */
export const AWKWARD_NAMES: readonly string[] = [
  'a % b.docx',
  'R&D.xlsx',
  'with space.txt',
  'hash#tag.txt',
  '中文文件.docx',
  'emoji 😀.pptx',
];
const NESTED_FOLDER = 'Sub folder & Co';
const NESTED_FILE = 'inner 100% #1 ü.txt';

const TEST_TIMEOUT_MS = 60_000;
/** Timeout of the adapters aimed at a closed port or at a server that never answers. */
const SHORT_TIMEOUT_MS = 300;
/** How much later than its timeout an adapter may report it (scheduling, socket teardown). */
const TIMEOUT_SLACK_MS = 400;
export const TEMP_NAME_PREFIX = '.~wopi-';

// ---------------------------------------------------------------------------------------------------------------
// Bodies and digests

/** sha256 of a buffer, hex. */
export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A byte stream (not object mode) that yields `bytes` in chunks of `chunkSize`. */
export function bodyOf(bytes: Buffer, chunkSize = 64 * 1024): Readable {
  function* chunks(): Generator<Buffer> {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, Math.min(bytes.length, i + chunkSize));
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** A body that yields `first` bytes, then runs `between` (e.g. a change made by someone else), then the rest. */
function bodyWithPause(bytes: Buffer, first: number, between: () => Promise<void>): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    yield bytes.subarray(0, first);
    await between();
    yield bytes.subarray(first);
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** A body that yields `n` bytes and then fails, like a client connection that breaks mid-upload. */
function bodyFailingAfter(bytes: Buffer, n: number): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    yield bytes.subarray(0, n);
    // Let the first bytes reach the socket before the failure.
    await new Promise<void>((resolve) => setImmediate(resolve));
    throw new Error('client connection broke after 10 bytes');
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Reads a stream to its end; returns the bytes' sha256 and length. */
export async function digestOf(stream: Readable): Promise<{ sha256: string; length: number }> {
  const hash = createHash('sha256');
  let length = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    hash.update(buf);
    length += buf.length;
  }
  return { sha256: hash.digest('hex'), length };
}

/** Reads a file through the adapter and returns its sha256 and length. */
async function readBack(adapter: StorageAdapter, p: string): Promise<{ sha256: string; length: number }> {
  const { stream } = await adapter.openReadStream(p);
  return digestOf(stream);
}

/** The digest expected for `bytes`, in the shape {@link readBack} returns. */
function digestFor(bytes: Buffer): { sha256: string; length: number } {
  return { sha256: sha256(bytes), length: bytes.length };
}

/** Awaits `promise`, expecting a StorageError; returns it (fails the test with a useful message otherwise). */
async function storageErrorOf(promise: Promise<unknown>): Promise<StorageError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof StorageError) return e;
    throw new Error(`expected a StorageError, got: ${String(e)}`, { cause: e });
  }
  throw new Error('expected a StorageError, but the call succeeded');
}

async function expectKind(promise: Promise<unknown>, kind: StorageErrorKind): Promise<StorageError> {
  const e = await storageErrorOf(promise);
  expect(e).toMatchObject({ kind });
  return e;
}

// ---------------------------------------------------------------------------------------------------------------
// Raw WebDAV client (node:http, one connection per request): the independent view of what the server holds.

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A minimal WebDAV client that checks what the adapter left on the server, without going through the adapter. */
export class RawDav {
  private readonly basePath: string;

  constructor(readonly endpoint: DavEndpoint) {
    this.basePath = decodeURIComponent(new URL(endpoint.url).pathname).replace(/\/+$/, '');
  }

  /** URL of a decoded path below the root, each segment percent-encoded. */
  urlOf(p: string): string {
    return this.endpoint.url + p.split('/').map(encodeURIComponent).join('/');
  }

  /** Sends one request on a fresh connection. */
  request(method: string, p: string, opts: { headers?: Record<string, string>; body?: Buffer | string } = {}): Promise<RawResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (this.endpoint.username !== null) {
      headers.authorization = `Basic ${Buffer.from(`${this.endpoint.username}:${this.endpoint.password ?? ''}`).toString('base64')}`;
    }
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const url = this.urlOf(p);
    const lib = url.startsWith('https:') ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, { method, headers, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  async mkcol(p: string): Promise<void> {
    const res = await this.request('MKCOL', p);
    if (res.status !== 201) throw new Error(`MKCOL ${p} answered ${res.status}`);
  }

  async put(p: string, bytes: Buffer): Promise<void> {
    const res = await this.request('PUT', p, { body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    if (res.status < 200 || res.status > 299) throw new Error(`PUT ${p} answered ${res.status}`);
  }

  async get(p: string): Promise<Buffer | null> {
    const res = await this.request('GET', p);
    if (res.status === 404) return null;
    if (res.status !== 200) throw new Error(`GET ${p} answered ${res.status}`);
    return res.body;
  }

  async move(from: string, to: string): Promise<void> {
    const res = await this.request('MOVE', from, { headers: { destination: this.urlOf(to), overwrite: 'F' } });
    if (res.status !== 201 && res.status !== 204) throw new Error(`MOVE ${from} answered ${res.status}`);
  }

  async remove(p: string): Promise<void> {
    await this.request('DELETE', p);
  }

  async exists(p: string): Promise<boolean> {
    const res = await this.request('PROPFIND', p, { headers: { depth: '0' } });
    if (res.status === 404) return false;
    if (res.status === 207) return true;
    throw new Error(`PROPFIND ${p} answered ${res.status}`);
  }

  /** Names of the entries in a folder (decoded, the folder itself left out), as the server lists them. */
  async names(folder: string): Promise<string[]> {
    const res = await this.request('PROPFIND', folder, {
      headers: { depth: '1', 'content-type': 'application/xml; charset=utf-8' },
      body: '<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/></d:prop></d:propfind>',
    });
    if (res.status !== 207) throw new Error(`PROPFIND ${folder} answered ${res.status}`);
    const self = (this.basePath + folder).replace(/\/+$/, '');
    const names: string[] = [];
    for (const m of res.body.toString('utf8').matchAll(/<(?:[A-Za-z0-9]+:)?href>([^<]*)<\/(?:[A-Za-z0-9]+:)?href>/g)) {
      const href = (m[1] ?? '').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'");
      const decoded = href
        .replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '')
        .split('/')
        .map((s) => {
          try {
            return decodeURIComponent(s);
          } catch {
            return s;
          }
        })
        .join('/')
        .replace(/\/+$/, '');
      if (decoded === self) continue;
      names.push(decoded.slice(decoded.lastIndexOf('/') + 1));
    }
    return names.sort();
  }

  /** Names in a folder that look like the bridge's temporary uploads. */
  async tempNames(folder: string): Promise<string[]> {
    return (await this.names(folder)).filter((n) => n.startsWith(TEMP_NAME_PREFIX));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Servers that fail in controlled ways

/** A URL on 127.0.0.1 where nothing listens (a port that was just bound and released). */
export async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/dav`;
}

/** A TCP server that accepts connections, reads what is sent and never answers. */
export async function startSilentServer(): Promise<{ url: string; accepted: () => number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dav`,
    accepted: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The suite

interface Ctx {
  server: StorageContractServer;
  adapter: StorageAdapter;
  raw: RawDav;
  /** The suite's own folder below the endpoint root. */
  root: string;
  /** Adapters made by tests (closed in afterAll). */
  extra: StorageAdapter[];
}

/**
 * Registers the storage contract for one target: a `describe(name)` block whose tests all run against adapters built
 * by `makeAdapter` for the target's server.
 * @param name suite name, e.g. 'WebdavStorage on rclone serve webdav'
 * @param makeAdapter builds an adapter for an endpoint and timeout
 * @param options the target's server, flavour and timeout; `skip` registers the suite as skipped
 */
export function describeStorageContract(name: string, makeAdapter: MakeAdapter, options: StorageContractOptions): void {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const generic = options.flavour === 'generic';
  const title = options.skip !== undefined ? `${name} (SKIPPED: ${options.skip})` : name;
  const describeFn = options.skip !== undefined ? describe.skip : describe;

  describeFn(title, () => {
    let ctx: Ctx | undefined;
    let folderSeq = 0;
    const c = (): Ctx => {
      if (!ctx) throw new Error('contract target did not start');
      return ctx;
    };
    /** Another adapter for this target (own mutex, own connections); closed in afterAll. */
    const anotherAdapter = (endpoint: DavEndpoint = c().server.endpoint, ms = timeoutMs): StorageAdapter => {
      const a = makeAdapter(endpoint, ms);
      c().extra.push(a);
      return a;
    };
    /** A fresh, empty folder for one test (raw MKCOL; the adapter has no mkdir). */
    const freshFolder = async (label: string): Promise<string> => {
      const p = joinPath(c().root, `${String(++folderSeq).padStart(2, '0')} ${label}`);
      await c().raw.mkcol(p);
      return p;
    };
    /** Writes bytes through the adapter under test. */
    const write = (p: string, bytes: Buffer, opts: { expectedVersion?: string | null } = {}): Promise<FileInfo> =>
      c().adapter.writeStream(p, bodyOf(bytes), { contentLength: bytes.length, ...opts });

    beforeAll(async () => {
      const server = await options.start();
      const raw = new RawDav(server.endpoint);
      const root = `/wopi-contract-${randomBytes(4).toString('hex')}`;
      ctx = { server, adapter: makeAdapter(server.endpoint, timeoutMs), raw, root, extra: [] };
      await raw.mkcol(root);
    }, TEST_TIMEOUT_MS);

    afterAll(async () => {
      if (!ctx) return;
      for (const a of ctx.extra) await a.close();
      await ctx.adapter.close();
      await ctx.raw.remove(ctx.root).catch(() => undefined);
      await ctx.server.stop();
    }, TEST_TIMEOUT_MS);

    describe('a seeded tree with awkward names', () => {
      let seed = '';
      const contentOf = (fileName: string): Buffer => Buffer.from(`content of ${fileName}\n`.repeat(fileName.length), 'utf8');
      const seeded: Array<{ path: string; bytes: Buffer }> = [];

      beforeAll(async () => {
        seed = await freshFolder('seed & tree');
        await c().raw.mkcol(joinPath(seed, NESTED_FOLDER));
        for (const n of AWKWARD_NAMES) {
          const p = joinPath(seed, n);
          const bytes = contentOf(n);
          await write(p, bytes);
          seeded.push({ path: p, bytes });
        }
        const inner = joinPath(joinPath(seed, NESTED_FOLDER), NESTED_FILE);
        const innerBytes = contentOf(NESTED_FILE);
        await write(inner, innerBytes);
        seeded.push({ path: inner, bytes: innerBytes });
      }, TEST_TIMEOUT_MS);

      test('the server stores each awkward name as that exact name (raw PROPFIND)', async () => {
        expect(await c().raw.names(seed)).toEqual([...AWKWARD_NAMES, NESTED_FOLDER].sort());
        expect(await c().raw.names(joinPath(seed, NESTED_FOLDER))).toEqual([NESTED_FILE]);
      }, TEST_TIMEOUT_MS);

      test('stat reports name, size, a non-empty version, lastModified and isDirectory for each', async () => {
        const now = Date.now();
        for (const { path: p, bytes } of seeded) {
          const info = await c().adapter.stat(p);
          expect({ path: info.path, name: info.name, isDirectory: info.isDirectory, size: info.size }).toEqual({
            path: p,
            name: p.slice(p.lastIndexOf('/') + 1),
            isDirectory: false,
            size: bytes.length,
          });
          expect(info.version).toMatch(/\S/);
          expect(info.lastModified).toBeInstanceOf(Date);
          // Written moments ago: a broken date parse shows up as 1970 or NaN.
          expect(Math.abs(info.lastModified.getTime() - now)).toBeLessThan(24 * 3600_000);
          // An unchanged file keeps its version, or every save would look like a conflict.
          expect((await c().adapter.stat(p)).version).toBe(info.version);
        }
        const folder = await c().adapter.stat(joinPath(seed, NESTED_FOLDER));
        expect({ isDirectory: folder.isDirectory, name: folder.name }).toEqual({ isDirectory: true, name: NESTED_FOLDER });
      }, TEST_TIMEOUT_MS);

      test('openReadStream returns the exact bytes stored under each awkward name', async () => {
        for (const { path: p, bytes } of seeded) {
          expect({ p, ...(await readBack(c().adapter, p)) }).toEqual({ p, ...digestFor(bytes) });
        }
      }, TEST_TIMEOUT_MS);

      test('list returns the children with decoded names, not the folder itself', async () => {
        const entries = await c().adapter.list(seed);
        const byName = new Map(entries.map((e) => [e.name, e]));
        expect([...byName.keys()].sort()).toEqual([...AWKWARD_NAMES, NESTED_FOLDER].sort());
        for (const n of AWKWARD_NAMES) {
          expect(byName.get(n)).toMatchObject({ path: joinPath(seed, n), isDirectory: false, size: contentOf(n).length });
        }
        expect(byName.get(NESTED_FOLDER)).toMatchObject({ path: joinPath(seed, NESTED_FOLDER), isDirectory: true });
        const inner = await c().adapter.list(joinPath(seed, NESTED_FOLDER));
        expect(inner.map((e) => ({ name: e.name, path: e.path }))).toEqual([
          { name: NESTED_FILE, path: joinPath(joinPath(seed, NESTED_FOLDER), NESTED_FILE) },
        ]);
      }, TEST_TIMEOUT_MS);
    });

    test('stat of a missing file fails with not_found', async () => {
      const dir = await freshFolder('missing');
      await expectKind(c().adapter.stat(joinPath(dir, 'no such file.docx')), 'not_found');
      await expectKind(c().adapter.stat(joinPath(dir, 'no such folder/x.docx')), 'not_found');
    }, TEST_TIMEOUT_MS);

    test(
      'list hides the bridge\'s temporary uploads (".~wopi-" names)',
      async () => {
        const dir = await freshFolder('list hides temps');
        await write(joinPath(dir, 'visible.docx'), Buffer.from('visible'));
        await c().raw.put(joinPath(dir, `${TEMP_NAME_PREFIX}0123456789ab.tmp`), Buffer.from('a crashed upload'));
        expect((await c().adapter.list(dir)).map((e) => e.name)).toEqual(['visible.docx']);
      },
      TEST_TIMEOUT_MS,
    );

    describe('openReadStream', () => {
      test.each([
        ['0 B', 0],
        ['1 B', 1],
        ['10 MB', 10 * 1024 * 1024 + 7],
      ])('returns the exact bytes of a %s file', async (_label, size) => {
        const dir = await freshFolder(`read ${size}`);
        const p = joinPath(dir, `bytes ${size}.bin`);
        const bytes = randomBytes(size);
        const written = await write(p, bytes);
        expect(written.size).toBe(size);
        const { stream, size: announced, version } = await c().adapter.openReadStream(p);
        if (announced !== null) expect(announced).toBe(size);
        // A version sent with the download must be the one stat reports (it becomes X-WOPI-ItemVersion).
        if (version !== null) expect(version).toBe((await c().adapter.stat(p)).version);
        expect(await digestOf(stream)).toEqual(digestFor(bytes));
      }, TEST_TIMEOUT_MS);

      test('rejects with not_found for a missing file instead of handing out a stream', async () => {
        const dir = await freshFolder('read missing');
        await expectKind(c().adapter.openReadStream(joinPath(dir, 'gone.docx')), 'not_found');
      }, TEST_TIMEOUT_MS);
    });

    describe('writeStream', () => {
      test('with the current expectedVersion replaces the content and returns the new version', async () => {
        const dir = await freshFolder('write expected');
        const p = joinPath(dir, 'Report Q3 & Q4.docx');
        const first = await write(p, Buffer.from('first version'));
        const next = Buffer.from('the second, longer version of the report');
        const written = await write(p, next, { expectedVersion: first.version });
        expect(written.version).not.toBe(first.version);
        expect(written.size).toBe(next.length);
        expect((await c().adapter.stat(p)).version).toBe(written.version);
        expect(await readBack(c().adapter, p)).toEqual(digestFor(next));
        expect(await c().raw.tempNames(dir)).toEqual([]);
      }, TEST_TIMEOUT_MS);

      test('the version changes on every content change, also for same-size rewrites right after each other', async () => {
        const dir = await freshFolder('versions');
        const p = joinPath(dir, 'versions.txt');
        let info = await write(p, Buffer.from('AAAA'));
        const versions = [info.version];
        for (const text of ['BBBB', 'CCCC', 'DDDD', 'a longer one']) {
          info = await write(p, Buffer.from(text), { expectedVersion: info.version });
          versions.push(info.version);
          expect((await c().adapter.stat(p)).version).toBe(info.version);
        }
        expect(new Set(versions).size).toBe(versions.length);
        expect(await readBack(c().adapter, p)).toEqual(digestFor(Buffer.from('a longer one')));
      }, TEST_TIMEOUT_MS);

      test('with a stale expectedVersion fails with VersionMismatchError and leaves the file unchanged', async () => {
        const dir = await freshFolder('stale');
        const p = joinPath(dir, 'stale.docx');
        const v1 = await write(p, Buffer.from('v1'));
        const v2bytes = Buffer.from('v2 written by someone else');
        const v2 = await write(p, v2bytes);
        const e = await storageErrorOf(write(p, Buffer.from('v3 from an editor that loaded v1'), { expectedVersion: v1.version }));
        expect(e).toBeInstanceOf(VersionMismatchError);
        expect(e.kind).toBe('conflict');
        expect((e as VersionMismatchError).currentVersion).toBe(v2.version);
        expect(await readBack(c().adapter, p)).toEqual(digestFor(v2bytes));
        expect(await c().raw.tempNames(dir)).toEqual([]);
      }, TEST_TIMEOUT_MS);

      test('when the file changes during the upload, fails with VersionMismatchError and keeps the other change', async () => {
        const dir = await freshFolder('changed during upload');
        const p = joinPath(dir, 'shared.xlsx');
        const v1 = await write(p, Buffer.from('v1'));
        const outside = Buffer.from('saved meanwhile through the drive');
        const mine = randomBytes(200_000);
        const e = await storageErrorOf(
          c().adapter.writeStream(p, bodyWithPause(mine, 10, () => c().raw.put(p, outside)), {
            contentLength: mine.length,
            expectedVersion: v1.version,
          }),
        );
        expect(e).toBeInstanceOf(VersionMismatchError);
        expect(await readBack(c().adapter, p)).toEqual(digestFor(outside));
        expect(await c().raw.tempNames(dir)).toEqual([]);
      }, TEST_TIMEOUT_MS);

      if (generic) {
        test('(generic) when the file changes during the upload, the body is kept byte-exact at conflictPath', async () => {
          const dir = await freshFolder('conflict copy during upload');
          const p = joinPath(dir, 'plan.docx');
          const v1 = await write(p, Buffer.from('v1'));
          const outside = Buffer.from('saved meanwhile through the drive');
          const mine = randomBytes(300_000);
          let reserved: string | null = null;
          const e = await storageErrorOf(
            c().adapter.writeStream(p, bodyWithPause(mine, 10, () => c().raw.put(p, outside)), {
              contentLength: mine.length,
              expectedVersion: v1.version,
              conflictPath: async () => {
                reserved = (await c().adapter.createUnique(dir, 'plan (conflict).docx', null, 0)).path;
                return reserved;
              },
            }),
          );
          expect(e).toBeInstanceOf(VersionMismatchError);
          expect(reserved).toBe(joinPath(dir, 'plan (conflict).docx'));
          expect((e as VersionMismatchError).keptAt).toBe(reserved);
          expect(await readBack(c().adapter, joinPath(dir, 'plan (conflict).docx'))).toEqual(digestFor(mine));
          expect(await readBack(c().adapter, p)).toEqual(digestFor(outside));
          expect(await c().raw.names(dir)).toEqual(['plan (conflict).docx', 'plan.docx']);
        }, TEST_TIMEOUT_MS);

        test(
          '(generic) with a stale expectedVersion and a conflictPath, the body is kept byte-exact at that path',
          async () => {
            const dir = await freshFolder('conflict copy stale');
            const p = joinPath(dir, 'budget.xlsx');
            const v1 = await write(p, Buffer.from('v1'));
            const v2bytes = Buffer.from('v2 written by someone else');
            await write(p, v2bytes);
            const mine = randomBytes(50_000);
            const e = await storageErrorOf(
              c().adapter.writeStream(p, bodyOf(mine), {
                contentLength: mine.length,
                expectedVersion: v1.version,
                conflictPath: async () => (await c().adapter.createUnique(dir, 'budget (conflict).xlsx', null, 0)).path,
              }),
            );
            expect(e).toBeInstanceOf(VersionMismatchError);
            expect(await readBack(c().adapter, p)).toEqual(digestFor(v2bytes));
            expect((e as VersionMismatchError).keptAt).toBe(joinPath(dir, 'budget (conflict).xlsx'));
            expect(await readBack(c().adapter, joinPath(dir, 'budget (conflict).xlsx'))).toEqual(digestFor(mine));
          },
          TEST_TIMEOUT_MS,
        );
      }

      test('a body that fails after 10 bytes leaves the original intact', async () => {
        const dir = await freshFolder('broken body');
        const p = joinPath(dir, 'precious.docx');
        const original = randomBytes(100_000);
        const before = await write(p, original);
        const next = randomBytes(100_000);
        await storageErrorOf(c().adapter.writeStream(p, bodyFailingAfter(next, 10), { contentLength: next.length, expectedVersion: before.version }));
        expect(await readBack(c().adapter, p)).toEqual(digestFor(original));
        expect((await c().adapter.stat(p)).version).toBe(before.version);
      }, TEST_TIMEOUT_MS);

      test('a body shorter than contentLength fails and leaves the original intact', async () => {
        const dir = await freshFolder('short body');
        const p = joinPath(dir, 'short.docx');
        const original = randomBytes(20_000);
        const before = await write(p, original);
        const next = randomBytes(20_000);
        // The server waits for the missing bytes: a short timeout keeps the test fast.
        const quick = anotherAdapter(c().server.endpoint, SHORT_TIMEOUT_MS);
        await storageErrorOf(quick.writeStream(p, bodyOf(next.subarray(0, next.length - 100)), { contentLength: next.length }));
        expect(await readBack(c().adapter, p)).toEqual(digestFor(original));
        expect((await c().adapter.stat(p)).version).toBe(before.version);
      }, TEST_TIMEOUT_MS);
      const leftoverTitle = 'failed uploads (broken bodies, short bodies) never leave a temporary file behind';
      const leftoverTest = async (): Promise<void> => {
        const dir = await freshFolder('no temp left');
        const p = joinPath(dir, 'precious.docx');
        const original = randomBytes(50_000);
        await write(p, original);
        const quick = anotherAdapter(c().server.endpoint, SHORT_TIMEOUT_MS);
        for (let i = 0; i < 5; i++) {
          const next = randomBytes(50_000);
          await storageErrorOf(c().adapter.writeStream(p, bodyFailingAfter(next, 10), { contentLength: next.length }));
        }
        for (let i = 0; i < 2; i++) {
          const next = randomBytes(50_000);
          await storageErrorOf(quick.writeStream(p, bodyOf(next.subarray(0, next.length - 100)), { contentLength: next.length }));
        }
        expect(await readBack(c().adapter, p)).toEqual(digestFor(original));
        expect(await c().raw.names(dir)).toEqual(['precious.docx']);
      };
      test(leftoverTitle, leftoverTest, TEST_TIMEOUT_MS);

      test('concurrent writes to one path are serialised: both complete and the file holds one of them, intact', async () => {
        const dir = await freshFolder('concurrent');
        const p = joinPath(dir, 'busy.pptx');
        await write(p, Buffer.from('start'));
        const a = randomBytes(2 * 1024 * 1024);
        const b = randomBytes(2 * 1024 * 1024 + 1);
        const [wa, wb] = await Promise.all([write(p, a), write(p, b)]);
        expect([wa.size, wb.size]).toEqual([a.length, b.length]);
        const final = await readBack(c().adapter, p);
        expect([digestFor(a), digestFor(b)]).toContainEqual(final);
        expect(await c().raw.names(dir)).toEqual(['busy.pptx']);
      }, TEST_TIMEOUT_MS);

      test(
        'a steady upload that takes longer than timeoutMs succeeds (the timeout is for no progress)',
        async () => {
          const dir = await freshFolder('slow upload');
          const p = joinPath(dir, 'slow.docx');
          const slowAdapter = anotherAdapter(c().server.endpoint, SHORT_TIMEOUT_MS);
          const chunks = Array.from({ length: 12 }, () => randomBytes(1024));
          const all = Buffer.concat(chunks);
          async function* paced(): AsyncGenerator<Buffer> {
            for (const chunk of chunks) {
              // A slow client: a chunk every 100 ms, 1.2 s in total, never silent for longer than timeoutMs.
              await new Promise<void>((resolve) => setTimeout(resolve, 100));
              yield chunk;
            }
          }
          await slowAdapter.writeStream(p, Readable.from(paced(), { objectMode: false }), { contentLength: all.length });
          expect(await readBack(c().adapter, p)).toEqual(digestFor(all));
        },
        TEST_TIMEOUT_MS,
      );
    });

    describe('rename', () => {
      test('moves a file with its content, also into a folder with an awkward name', async () => {
        const dir = await freshFolder('rename');
        await c().raw.mkcol(joinPath(dir, 'Archive #2 & old'));
        const bytes = randomBytes(30_000);
        await write(joinPath(dir, 'a % b.docx'), bytes);
        const renamed = await c().adapter.rename(joinPath(dir, 'a % b.docx'), joinPath(dir, '中文 renamed 😀.docx'));
        expect({ path: renamed.path, size: renamed.size }).toEqual({ path: joinPath(dir, '中文 renamed 😀.docx'), size: bytes.length });
        await expectKind(c().adapter.stat(joinPath(dir, 'a % b.docx')), 'not_found');
        expect(await readBack(c().adapter, renamed.path)).toEqual(digestFor(bytes));
        const moved = await c().adapter.rename(renamed.path, joinPath(dir, 'Archive #2 & old/R&D.docx'));
        expect(moved.path).toBe(joinPath(dir, 'Archive #2 & old/R&D.docx'));
        expect(await readBack(c().adapter, moved.path)).toEqual(digestFor(bytes));
        expect(await c().raw.names(dir)).toEqual(['Archive #2 & old']);
      }, TEST_TIMEOUT_MS);

      test('fails with conflict when the target exists, and changes neither file', async () => {
        const dir = await freshFolder('rename conflict');
        const src = randomBytes(1000);
        const dst = randomBytes(2000);
        await write(joinPath(dir, 'from.docx'), src);
        await write(joinPath(dir, 'to.docx'), dst);
        await expectKind(c().adapter.rename(joinPath(dir, 'from.docx'), joinPath(dir, 'to.docx')), 'conflict');
        expect(await readBack(c().adapter, joinPath(dir, 'to.docx'))).toEqual(digestFor(dst));
        expect(await readBack(c().adapter, joinPath(dir, 'from.docx'))).toEqual(digestFor(src));
      }, TEST_TIMEOUT_MS);
    });

    test('delete removes the file: stat then fails with not_found', async () => {
      const dir = await freshFolder('delete');
      const p = joinPath(dir, 'R&D.xlsx');
      await write(p, Buffer.from('to be deleted'));
      await c().adapter.delete(p);
      await expectKind(c().adapter.stat(p), 'not_found');
      expect(await c().raw.names(dir)).toEqual([]);
    }, TEST_TIMEOUT_MS);

    describe('createUnique', () => {
      test('picks "name (2).ext", then "name (3).ext" when taken, and never overwrites', async () => {
        const dir = await freshFolder('create unique');
        const original = randomBytes(5000);
        await write(joinPath(dir, 'Notes & ideas.docx'), original);
        const second = randomBytes(6000);
        const c2 = await c().adapter.createUnique(dir, 'Notes & ideas.docx', bodyOf(second), second.length);
        expect({ name: c2.name, size: c2.size }).toEqual({ name: 'Notes & ideas (2).docx', size: second.length });
        const c3 = await c().adapter.createUnique(dir, 'Notes & ideas.docx', null, 0);
        expect({ name: c3.name, size: c3.size }).toEqual({ name: 'Notes & ideas (3).docx', size: 0 });
        expect(await readBack(c().adapter, joinPath(dir, 'Notes & ideas.docx'))).toEqual(digestFor(original));
        expect(await readBack(c().adapter, c2.path)).toEqual(digestFor(second));
        expect(await c().raw.names(dir)).toEqual(['Notes & ideas (2).docx', 'Notes & ideas (3).docx', 'Notes & ideas.docx']);
      }, TEST_TIMEOUT_MS);

      test('uses the name itself when free, and gives concurrent calls distinct names', async () => {
        const dir = await freshFolder('create unique concurrent');
        const bodies = [randomBytes(1000), randomBytes(1001), randomBytes(1002)];
        const created = await Promise.all(bodies.map((b) => c().adapter.createUnique(dir, '中文 new.xlsx', bodyOf(b), b.length)));
        expect(created.map((f) => f.name)).toEqual(['中文 new.xlsx', '中文 new (2).xlsx', '中文 new (3).xlsx']);
        for (const [i, f] of created.entries()) expect(await readBack(c().adapter, f.path)).toEqual(digestFor(bodies[i] as Buffer));
      }, TEST_TIMEOUT_MS);
    });

    describe('unsafe paths are refused with forbidden and nothing is written', () => {
      const cases: Array<[string, (dir: string, escape: string) => string]> = [
        ['a ".." segment', (dir, escape) => `${dir}/../${escape}`],
        ['an empty segment', (dir, escape) => `${dir}//${escape}`],
        ['a NUL character', (dir, escape) => `${dir}/${escape}\u0000.docx`],
        ['a "." segment', (dir, escape) => `${dir}/./${escape}`],
      ];
      test.each(cases)('%s', async (label, makePath) => {
        const dir = await freshFolder(`unsafe ${label.replace(/"/g, '')}`);
        await write(joinPath(dir, 'existing.docx'), Buffer.from('existing'));
        const escape = `escaped-${randomBytes(3).toString('hex')}.docx`;
        const bad = makePath(dir, escape);
        const a = c().adapter;
        const bytes = Buffer.from('must not land anywhere');
        await expectKind(a.writeStream(bad, bodyOf(bytes), { contentLength: bytes.length }), 'forbidden');
        await expectKind(a.stat(bad), 'forbidden');
        await expectKind(a.openReadStream(bad), 'forbidden');
        await expectKind(a.rename(joinPath(dir, 'existing.docx'), bad), 'forbidden');
        await expectKind(a.rename(bad, joinPath(dir, 'renamed.docx')), 'forbidden');
        await expectKind(a.delete(bad), 'forbidden');
        await expectKind(a.createUnique(bad.slice(0, bad.lastIndexOf('/')) || '/', bad.slice(bad.lastIndexOf('/') + 1), bodyOf(bytes), bytes.length), 'forbidden');
        expect(await c().raw.names(dir)).toEqual(['existing.docx']);
        expect(await c().raw.exists(joinPath(c().root, escape))).toBe(false);
        expect(await c().raw.exists(`/${escape}`)).toBe(false);
        expect(await readBack(a, joinPath(dir, 'existing.docx'))).toEqual(digestFor(Buffer.from('existing')));
      }, TEST_TIMEOUT_MS);
    });

    describe('when the drive cannot be used', () => {
      let silent: Awaited<ReturnType<typeof startSilentServer>> | undefined;
      beforeAll(async () => {
        silent = await startSilentServer();
      });
      afterAll(async () => {
        await silent?.stop();
      });

      test('wrong credentials fail with unavailable and detail.auth', async () => {
        const { endpoint } = c().server;
        const wrong = anotherAdapter({ ...endpoint, username: endpoint.username ?? 'wopi-contract', password: `wrong-${randomBytes(4).toString('hex')}` });
        const dir = await freshFolder('wrong credentials');
        const e1 = await expectKind(wrong.stat(dir), 'unavailable');
        expect(e1.detail.auth).toBe(true);
        const bytes = Buffer.from('not with these credentials');
        const e2 = await expectKind(wrong.writeStream(joinPath(dir, 'x.docx'), bodyOf(bytes), { contentLength: bytes.length }), 'unavailable');
        expect(e2.detail.auth).toBe(true);
        expect(await c().raw.names(dir)).toEqual([]);
      }, TEST_TIMEOUT_MS);

      test('an unreachable server (closed port) fails with unavailable, quickly', async () => {
        const adapter = anotherAdapter({ ...c().server.endpoint, url: await closedPortUrl() }, SHORT_TIMEOUT_MS);
        const started = performance.now();
        const e = await expectKind(adapter.stat('/x.docx'), 'unavailable');
        expect(performance.now() - started).toBeLessThan(SHORT_TIMEOUT_MS + TIMEOUT_SLACK_MS);
        expect(e.detail.auth).toBeUndefined();
        const bytes = Buffer.from('nowhere to go');
        await expectKind(adapter.writeStream('/x.docx', bodyOf(bytes), { contentLength: bytes.length }), 'unavailable');
      }, TEST_TIMEOUT_MS);

      test.each([
        ['stat', (a: StorageAdapter) => a.stat('/x.docx')],
        ['list', (a: StorageAdapter) => a.list('/')],
        ['openReadStream', (a: StorageAdapter) => a.openReadStream('/x.docx')],
      ])('a server that accepts the connection but never answers: %s fails with unavailable + detail.timeout within timeoutMs', async (_op, call) => {
        const s = silent;
        if (!s) throw new Error('silent server did not start');
        const adapter = anotherAdapter({ ...c().server.endpoint, url: s.url }, SHORT_TIMEOUT_MS);
        const acceptedBefore = s.accepted();
        const started = performance.now();
        const e = await expectKind(call(adapter), 'unavailable');
        const elapsed = performance.now() - started;
        expect(e.detail.timeout).toBe(true);
        expect(s.accepted()).toBeGreaterThan(acceptedBefore);
        expect(elapsed).toBeGreaterThanOrEqual(SHORT_TIMEOUT_MS - 20);
        expect(elapsed).toBeLessThan(SHORT_TIMEOUT_MS + TIMEOUT_SLACK_MS);
      }, TEST_TIMEOUT_MS);

      test('a server that never answers: writeStream fails with unavailable + detail.timeout', async () => {
        const s = silent;
        if (!s) throw new Error('silent server did not start');
        const adapter = anotherAdapter({ ...c().server.endpoint, url: s.url }, SHORT_TIMEOUT_MS);
        const bytes = Buffer.from('a save the drive never confirms');
        const started = performance.now();
        const e = await expectKind(adapter.writeStream('/x.docx', bodyOf(bytes), { contentLength: bytes.length }), 'unavailable');
        const elapsed = performance.now() - started;
        expect(e.detail.timeout).toBe(true);
        // Generic drives take up to two timeouts: the timed-out PUT of the temporary file, then its cleanup DELETE.
        expect(elapsed).toBeLessThan(2 * SHORT_TIMEOUT_MS + TIMEOUT_SLACK_MS);
      }, TEST_TIMEOUT_MS);
    });
  });
}
