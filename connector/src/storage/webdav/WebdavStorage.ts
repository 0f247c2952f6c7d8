import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { StorageFlavour } from '../../config/config.js';
import {
  StorageError,
  VersionMismatchError,
  joinPath,
  splitExtension,
  splitPath,
  type FileInfo,
  type StorageAdapter,
  type WriteOptions,
} from '../StorageAdapter.js';
import { parseMultistatus, type DavEntry } from './parseMultistatus.js';
import { parseSabreError, toStorageError } from './toStorageError.js';
import { KeyedMutex } from './KeyedMutex.js';
import { DavClient, DavStatusError, abortError, readErrorText } from './DavClient.js';
import { countStreamed } from '../../http/streamGc.js';

/** A request as WebdavStorage makes it: the URL defaults to the path's. */
interface DavInit {
  method: string;
  headers?: Record<string, string>;
  data?: string | Readable;
  url?: string;
}

/** The status and headers of an answer whose body was not needed (read and dropped, so the socket is reused). */
interface DavAnswer {
  status: number;
  headers: IncomingHttpHeaders;
}

const PROPFIND_BODY = `<?xml version="1.0" encoding="UTF-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
  <d:prop><d:getetag/><d:getcontentlength/><d:getlastmodified/><d:resourcetype/><oc:fileid/><oc:permissions/><oc:size/></d:prop>
</d:propfind>`;

/** Prefix of the bridge's temporary uploads beside a file; file lists hide these names. */
export const TEMP_PREFIX = '.~wopi-';

export interface WebdavStorageOptions {
  /** WebDAV URL of the drive root, e.g. https://cloud/remote.php/dav/files/alice (no trailing slash). */
  url: string;
  username: string | null;
  password: string | null;
  flavour: StorageFlavour;
  /** Longest wait for the drive without progress. */
  timeoutMs: number;
  /** Time between sweeps for orphaned temporary uploads (the first one runs soon after start); 0 = none. Default 15 min. */
  sweepIntervalMs?: number;
}

/** A temporary upload untouched this long is an orphan, whoever made it (a live upload makes progress far more often). */
export const ORPHAN_AGE_MS = 3600_000;
const DEFAULT_SWEEP_INTERVAL_MS = 15 * 60_000;
/** Delay of the sweep at start (after the drive had time to come up). */
const FIRST_SWEEP_DELAY_MS = 30_000;
/** Folders remembered for the periodic sweep. */
const MAX_SWEPT_FOLDERS = 1000;
/** Orphans remembered by name (the oldest are left to the age rule of the sweep). */
const MAX_KNOWN_ORPHANS = 10_000;
/** Longest wait of close() for writes and clean-ups in flight. */
const CLOSE_WAIT_MS = 10_000;

/** Quotes an ETag for If-Match (RFC 7232; Nextcloud answers 412 to an unquoted one). */
function quoteEtag(v: string): string {
  return `"${v}"`;
}

/** Strips W/ and quotes from an ETag as servers send it. */
export function normaliseEtag(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const v = raw.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return v === '' ? null : v;
}

/**
 * Refuses paths that could leave the drive root or confuse the server: '.', '..', empty segments, NUL and
 * control characters. Paths are decoded, start with '/'.
 */
export function assertSafePath(p: string): void {
  if (!p.startsWith('/') || /[\u0000-\u001f\u007f]/.test(p)) throw new StorageError('forbidden', 'Unsafe path', { reason: 'chars' });
  if (p === '/') return;
  for (const seg of p.slice(1).split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw new StorageError('forbidden', 'Unsafe path', { reason: 'segment' });
  }
}

/**
 * The StorageAdapter for WebDAV drives, on plain node:http(s) with keep-alive sockets (DavClient). Bodies stream both ways.
 * Writes never trust the server with safety: writes to one path are serialised, the version is checked by the
 * bridge inside that critical section, and where the server is not known to write atomically (generic WebDAV) the
 * body goes to a temporary name beside the file first and is MOVEd over the original only when complete; reads of
 * the path wait for that MOVE. Temporary uploads left behind (the drive went down, a crash) are swept later.
 */
export class WebdavStorage implements StorageAdapter {
  readonly flavour: StorageFlavour;
  readonly mayConsumeBodyOnConflict: boolean;
  private readonly client: DavClient;
  private readonly base: string;
  private readonly basePath: string;
  /** Writes per path, and `dir:<folder>` for picking a new name in a folder. */
  private readonly mutex = new KeyedMutex();
  /** The MOVE of a finished upload over a path: reads of the path wait for it (not atomic on generic WebDAV). */
  private readonly replacing = new KeyedMutex();
  /** Paths createUnique picked and is writing (Nextcloud/ownCloud), so that concurrent calls pick others. */
  private readonly reserved = new Set<string>();
  /** Temporary uploads this process could not remove (the drive was down); swept once a write shows it is back. */
  private readonly orphans = new Set<string>();
  /** Folders written to, oldest first (at most MAX_SWEPT_FOLDERS), swept every sweepIntervalMs. */
  private readonly folders = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly firstSweep: NodeJS.Timeout | undefined;
  private readonly sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: WebdavStorageOptions) {
    this.flavour = opts.flavour;
    // Nextcloud/ownCloud check If-Match themselves and write through a .part file: a direct PUT is safe, but a
    // 412 found by the server may come after it read the body.
    this.mayConsumeBodyOnConflict = opts.flavour !== 'generic';
    this.base = opts.url.replace(/\/+$/, '');
    this.basePath = decodeURIComponent(new URL(this.base).pathname).replace(/\/+$/, '');
    this.client = new DavClient({ https: this.base.startsWith('https:'), username: opts.username, password: opts.password });
    const every = opts.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    if (every > 0) {
      const sweep = (): void => void this.track(this.sweepAll());
      this.firstSweep = setTimeout(sweep, Math.min(every, FIRST_SWEEP_DELAY_MS)).unref();
      this.sweepTimer = setInterval(sweep, every).unref();
    }
  }

  /** The URL of a path below the root, each segment percent-encoded. */
  private urlOf(p: string): string {
    assertSafePath(p);
    return this.base + p.split('/').map(encodeURIComponent).join('/');
  }

  /** Maps an href from a multistatus answer back to a decoded path below the root; null when outside it. */
  private pathOfHref(href: string): string | null {
    // Not new URL(): some servers (webdav-server) leave '#' and '?' unencoded in hrefs.
    const pathname = href.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
    const decoded = pathname
      .split('/')
      .map((s) => {
        try {
          return decodeURIComponent(s);
        } catch {
          return s;
        }
      })
      .join('/');
    if (decoded !== this.basePath && !decoded.startsWith(this.basePath + '/')) return null;
    const rel = decoded.slice(this.basePath.length).replace(/\/+$/, '');
    return rel === '' ? '/' : rel;
  }

  /**
   * Runs one request with a timeout on the wait for the answer; maps failures to StorageError. The answer's body is
   * read and dropped (the socket goes back to the pool).
   */
  private request(op: string, p: string, init: DavInit, signal?: AbortSignal): Promise<DavAnswer> {
    return this.exchange(op, p, init, signal, async (res, arm) => {
      for await (const _chunk of res) arm();
      return { status: res.statusCode ?? 0, headers: res.headers };
    });
  }

  /** Runs one request and reads its answer as text, the idle timeout covering the body too (a 207 that stalls). */
  private requestText(op: string, p: string, init: DavInit, signal?: AbortSignal): Promise<string> {
    return this.exchange(op, p, init, signal, (res, arm) => readBodyText(res, arm, MAX_ANSWER_BYTES));
  }

  /**
   * The one place requests are made: a timeout for no progress (re-armed on every chunk of a streamed request body,
   * then for the wait for the answer, and on every chunk of the answer that `consume` reads), failures mapped to
   * StorageError. An answer ≥ 300 fails (redirects are not followed), with the Sabre exception in the detail.
   * `consume` gets the answer (status < 300); when it returns without reading the body, it owns it.
   */
  private async exchange<T>(
    op: string,
    p: string,
    init: DavInit,
    signal: AbortSignal | undefined,
    consume: (res: IncomingMessage, arm: () => void) => Promise<T>,
  ): Promise<T> {
    let reason: 'timeout' | 'client_gone' | undefined;
    let req: ClientRequest | undefined;
    let res: IncomingMessage | undefined;
    const cut = (why: 'timeout' | 'client_gone'): void => {
      reason ??= why;
      const e = abortError();
      res?.destroy(e);
      req?.destroy(e);
    };
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => cut('timeout'), this.opts.timeoutMs);
    };
    const onAbort = (): void => cut('client_gone');
    try {
      if (signal?.aborted) {
        reason = 'client_gone';
        throw abortError();
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      arm();
      res = await this.client.request(
        { method: init.method, url: init.url ?? this.urlOf(p), headers: init.headers ?? {}, body: init.data ?? null, onBodyChunk: arm },
        (r) => {
          req = r;
        },
      );
      arm();
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const text = await readErrorText(res, arm);
        // The request body may not have been sent whole (an early answer): the socket cannot be reused.
        if (!req?.writableFinished) req?.destroy();
        throw new DavStatusError(status, text);
      }
      return await consume(res, arm);
    } catch (e) {
      const sabre = e instanceof DavStatusError ? parseSabreError(e.bodyText) : null;
      throw toStorageError(e, { op, path: p }, reason, sabre);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private toInfo(entry: DavEntry, fallbackPath: string): FileInfo {
    const path = this.pathOfHref(entry.href) ?? fallbackPath;
    const pr = entry.props;
    const perms = typeof pr.permissions === 'string' ? pr.permissions : null;
    const size = Number(pr.getcontentlength ?? pr.size ?? 0);
    const modified = new Date(String(pr.getlastmodified ?? ''));
    const isDirectory = pr.collection === true;
    return {
      path,
      name: path === '/' ? '' : splitPath(path).name,
      isDirectory,
      size: Number.isFinite(size) ? size : 0,
      version: normaliseEtag(typeof pr.getetag === 'string' ? pr.getetag : null) ?? `m${modified.getTime()}-${size}`,
      lastModified: Number.isNaN(modified.getTime()) ? new Date(0) : modified,
      upstreamId: typeof pr.fileid === 'string' && pr.fileid !== '' ? pr.fileid : null,
      permissions:
        perms === null
          ? { canWrite: true, canRename: true, canDelete: true }
          : {
              canWrite: isDirectory ? /C/.test(perms) : /W/.test(perms),
              canRename: /N/.test(perms) || /V/.test(perms),
              canDelete: /D/.test(perms),
            },
    };
  }

  private async propfind(p: string, depth: '0' | '1', signal?: AbortSignal): Promise<FileInfo[]> {
    const text = await this.requestText('propfind', p, {
      method: 'PROPFIND',
      headers: { Depth: depth, 'Content-Type': 'application/xml; charset=utf-8' },
      data: PROPFIND_BODY,
    }, signal);
    let entries: DavEntry[];
    try {
      entries = await parseMultistatus(text);
    } catch (e) {
      throw new StorageError('unavailable', 'The drive answered PROPFIND with something that is not WebDAV', { op: 'propfind', path: p }, { cause: e });
    }
    return entries.map((e) => this.toInfo(e, p));
  }

  /** @inheritdoc */
  async stat(p: string): Promise<FileInfo> {
    return this.readAfterReplace(p, () => this.statNow(p));
  }

  /** stat without waiting for a replacement of the path in progress (for use inside a write's critical section). */
  private async statNow(p: string): Promise<FileInfo> {
    const [first] = await this.propfind(p, '0');
    if (!first) throw new StorageError('not_found', 'Not found on the drive', { op: 'stat', path: p });
    return { ...first, path: p, name: p === '/' ? '' : splitPath(p).name };
  }

  /** @inheritdoc */
  async list(folder: string): Promise<FileInfo[]> {
    const entries = await this.propfind(folder, '1');
    const self = folder.replace(/\/+$/, '') || '/';
    return entries.filter((e) => e.path !== self && !e.name.startsWith(TEMP_PREFIX));
  }

  /** @inheritdoc */
  async openReadStream(p: string, options: { signal?: AbortSignal } = {}): Promise<{ stream: Readable; size: number | null; version: string | null }> {
    return this.readAfterReplace(p, () => this.openReadStreamNow(p, options));
  }

  private async openReadStreamNow(p: string, options: { signal?: AbortSignal }): Promise<{ stream: Readable; size: number | null; version: string | null }> {
    const signal = options.signal;
    const res = await this.exchange('get', p, { method: 'GET' }, signal, async (r) => r);
    // The body streams after exchange() returned: the client going away still stops the download.
    if (signal) {
      const stop = (): void => {
        res.destroy(abortError());
      };
      if (signal.aborted) stop();
      else {
        signal.addEventListener('abort', stop, { once: true });
        res.once('close', () => signal.removeEventListener('abort', stop));
      }
    }
    const len = res.headers['content-length'];
    const etag = res.headers.etag ?? res.headers['oc-etag'];
    return {
      stream: this.idleGuard(res, 'get', p),
      size: len !== undefined && /^\d+$/.test(len) ? Number(len) : null,
      version: normaliseEtag(Array.isArray(etag) ? etag[0] : etag),
    };
  }

  /**
   * Runs a read of `p` after a replacement of `p` in progress (the MOVE of a finished upload over it) is done. On
   * generic WebDAV that MOVE is not atomic: a read that overlaps it can find nothing (404) or fail (5xx); such a read
   * is retried once, after the replacement. A read never waits for an upload itself (a slow client's body).
   */
  private async readAfterReplace<T>(p: string, read: () => Promise<T>): Promise<T> {
    await this.replacing.idle(p);
    const before = this.replacing.startedCount;
    try {
      return await read();
    } catch (e) {
      const overlapped = this.replacing.isBusy(p) || this.replacing.startedCount !== before;
      const transient = e instanceof StorageError && (e.kind === 'not_found' || (e.kind === 'unavailable' && typeof e.detail.status === 'number'));
      if (!overlapped || !transient) throw e;
      await this.replacing.idle(p);
      return read();
    }
  }

  /** Destroys a stream that makes no progress for timeoutMs. */
  private idleGuard(stream: Readable, op: string, p: string): Readable {
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => guard.destroy(new StorageError('unavailable', 'The drive stalled', { op, path: p, timeout: true })), this.opts.timeoutMs);
    };
    const guard = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        arm();
        cb(null, chunk);
        countStreamed(chunk.length);
      },
      flush(cb) {
        clearTimeout(timer);
        cb();
      },
    });
    guard.on('close', () => clearTimeout(timer));
    stream.on('error', (e) => guard.destroy(e));
    guard.on('close', () => {
      if (!stream.destroyed) stream.destroy();
    });
    arm();
    return stream.pipe(guard);
  }

  private async putRaw(p: string, body: Readable | null, contentLength: number, headers: Record<string, string>, signal?: AbortSignal): Promise<DavAnswer> {
    const data = body === null ? '' : body;
    return this.request('put', p, {
      method: 'PUT',
      headers: {
        'Content-Type': 'application/octet-stream',
        // Content-Length set explicitly: a chunked PUT can store 0 bytes on Nextcloud behind FastCGI (nextcloud/server#7995)
        'Content-Length': String(contentLength),
        ...headers,
      },
      data,
    }, signal);
  }

  private async move(from: string, to: string, overwrite: boolean): Promise<void> {
    await this.request('move', from, {
      method: 'MOVE',
      headers: { Destination: this.urlOf(to), Overwrite: overwrite ? 'T' : 'F' },
    });
  }

  private async deleteQuietly(p: string): Promise<void> {
    try {
      await this.request('delete', p, { method: 'DELETE' });
    } catch {
      // best effort
    }
  }

  /**
   * Removes a temporary upload after a failure. A server may still be handling the broken PUT when the DELETE
   * arrives and create or keep the file afterwards (webdav-server does), so the removal is confirmed: the file must
   * be absent twice in a row, with growing pauses, for about two seconds at most. When that cannot be done (the
   * drive is down) the name is remembered and removed by a later sweep of its folder.
   */
  private async removeTemp(tmp: string): Promise<void> {
    let absentInARow = 0;
    for (let round = 0; round < 8 && absentInARow < 2; round++) {
      if (round > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** Math.min(round, 5)));
      try {
        await this.statNow(tmp);
        absentInARow = 0;
        await this.deleteQuietly(tmp);
      } catch (e) {
        if (e instanceof StorageError && e.kind === 'not_found') absentInARow++;
        else break; // the drive is down: a sweep removes it once the drive is back
      }
    }
    if (absentInARow < 2) {
      this.orphans.add(tmp);
      if (this.orphans.size > MAX_KNOWN_ORPHANS) this.orphans.delete(this.orphans.values().next().value as string);
    }
  }

  private tempPathBeside(p: string): string {
    return joinPath(splitPath(p).folder, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}.tmp`);
  }

  /** Uploads to a temporary name beside `p`; checks the stored size. Returns the temporary path. */
  private async uploadTemp(p: string, body: Readable, contentLength: number, signal?: AbortSignal): Promise<string> {
    const tmp = this.tempPathBeside(p);
    try {
      await this.putRaw(tmp, body, contentLength, {}, signal);
      const stored = await this.statNow(tmp);
      if (stored.size !== contentLength) {
        throw new StorageError('unavailable', 'The drive stored a different size than was sent', { op: 'put', path: p, sent: contentLength, stored: stored.size });
      }
      return tmp;
    } catch (e) {
      await this.removeTemp(tmp);
      throw e;
    }
  }

  /**
   * @inheritdoc
   * The version check is made inside the path's critical section, so it sees every earlier write of this process
   * (an `expectedVersion` function is called there, and `onWritten` runs there before the next write starts).
   */
  async writeStream(p: string, body: Readable, options: WriteOptions): Promise<FileInfo> {
    assertSafePath(p);
    return this.track(
      this.mutex.run(p, async () => {
        const written = await this.writeLocked(p, body, options);
        await options.onWritten?.(written);
        this.wroteIn(splitPath(p).folder);
        return written;
      }),
    );
  }

  private async writeLocked(p: string, body: Readable, options: WriteOptions): Promise<FileInfo> {
    const expected = typeof options.expectedVersion === 'function' ? await options.expectedVersion() : options.expectedVersion;
    if (this.flavour !== 'generic') {
      const headers: Record<string, string> = {};
      if (typeof expected === 'string') {
        const current = await this.statNow(p);
        if (current.version !== expected) throw new VersionMismatchError(current.version, null);
        headers['If-Match'] = quoteEtag(expected);
      }
      try {
        await this.putRaw(p, body, options.contentLength, headers, options.signal);
      } catch (e) {
        if (e instanceof StorageError && e.kind === 'conflict' && typeof expected === 'string') {
          throw new VersionMismatchError(null, null);
        }
        throw e;
      }
      return this.statNow(p);
    }
    // Generic WebDAV: the body goes to a temporary name first; the version is checked once, right before the MOVE
    // over the file (one PROPFIND per save, not one before and one after the upload). On a mismatch the upload is
    // kept at conflictPath.
    const tmp = await this.uploadTemp(p, body, options.contentLength, options.signal);
    try {
      if (typeof expected === 'string') {
        const current = await this.statNow(p);
        if (current.version !== expected) {
          let keptAt: string | null = null;
          if (options.conflictPath) {
            keptAt = await options.conflictPath();
            // keptAt is a placeholder createUnique just reserved for us: replace it.
            await this.move(tmp, keptAt, true);
          }
          throw new VersionMismatchError(current.version, keptAt);
        }
      }
      await this.replacing.run(p, () => this.move(tmp, p, true));
    } catch (e) {
      if (!(e instanceof VersionMismatchError && e.keptAt !== null)) await this.removeTemp(tmp);
      throw e;
    }
    return this.statNow(p);
  }

  /** @inheritdoc */
  async rename(from: string, to: string, options: { onRenamed?: (renamed: FileInfo) => Promise<void> } = {}): Promise<FileInfo> {
    assertSafePath(to);
    return this.track(
      this.mutex.run(from, async () => {
        // A rename that lost a race to another one: not_found, without a MOVE (servers answer that with 500 or 409).
        await this.statNow(from);
        // Overwrite: F is not honoured by every server: look first.
        if (await this.exists(to)) throw new StorageError('conflict', 'Target exists', { op: 'move', path: to });
        await this.move(from, to, false);
        const renamed = await this.statNow(to);
        await options.onRenamed?.(renamed);
        return renamed;
      }),
    );
  }

  private async exists(p: string): Promise<boolean> {
    try {
      await this.statNow(p);
      return true;
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'not_found') return false;
      throw e;
    }
  }

  /** @inheritdoc */
  async delete(p: string): Promise<void> {
    await this.track(
      this.mutex.run(p, async () => {
        await this.request('delete', p, { method: 'DELETE' });
      }),
    );
  }

  /**
   * @inheritdoc
   * The folder's lock is held only to pick the name and create the file, never while a body uploads: one slow client
   * must not hold up every other file created in the folder (Save As, conflict copies). The name is picked and
   * reserved in this process first (so concurrent calls get names in call order); on generic WebDAV the body then
   * goes to a temporary name and is MOVEd to the reserved one, elsewhere it is PUT there with If-None-Match: *.
   */
  async createUnique(folder: string, name: string, body: Readable | null, contentLength: number): Promise<FileInfo> {
    return this.track(this.createUniqueNow(folder, name, body, contentLength));
  }

  private async createUniqueNow(folder: string, name: string, body: Readable | null, contentLength: number): Promise<FileInfo> {
    const [base, ext] = splitExtension(name);
    const candidate = (n: number): string => (n === 1 ? name : `${base} (${n})${ext}`);
    const lockKey = `dir:${folder}`;
    /** The first free name (on the drive and among the names reserved here), reserved. Under the folder's lock. */
    const reserve = async (): Promise<string> => {
      const taken = new Set((await this.list(folder)).map((f) => f.name));
      let n = 1;
      while (taken.has(candidate(n)) || this.reserved.has(joinPath(folder, candidate(n)))) n++;
      const picked = joinPath(folder, candidate(n));
      this.reserved.add(picked);
      return picked;
    };
    if (body === null) {
      const created = await this.mutex.run(lockKey, async () => {
        const target = await reserve();
        try {
          await this.putRaw(target, null, 0, this.flavour !== 'generic' ? { 'If-None-Match': '*' } : {});
          return await this.statNow(target);
        } finally {
          this.reserved.delete(target);
        }
      });
      this.wroteIn(folder);
      return created;
    }
    // Names are given in call order; the body then uploads without the folder's lock.
    let target = await this.mutex.run(lockKey, reserve);
    try {
      let created: FileInfo;
      if (this.flavour !== 'generic') {
        await this.putRaw(target, body, contentLength, { 'If-None-Match': '*' });
        created = await this.statNow(target);
      } else {
        const tmp = await this.uploadTemp(target, body, contentLength);
        let moved = false;
        try {
          created = await this.mutex.run(lockKey, async () => {
            // Created meanwhile outside this process: the next free name (Overwrite: F is not honoured everywhere).
            if (await this.exists(target)) {
              this.reserved.delete(target);
              target = await reserve();
            }
            await this.move(tmp, target, false);
            moved = true;
            return this.statNow(target);
          });
        } catch (e) {
          if (!moved) await this.removeTemp(tmp);
          throw e;
        }
      }
      this.wroteIn(folder);
      return created;
    } finally {
      this.reserved.delete(target);
    }
  }

  /** Keeps a promise of work on the drive until it settles, for close() to wait for. */
  private track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    const done = (): void => {
      this.inflight.delete(work);
    };
    work.then(done, done);
    return work;
  }

  /** Remembers a folder written to (for the periodic sweep) and sweeps it now when it holds a known orphan. */
  private wroteIn(folder: string): void {
    this.folders.delete(folder);
    this.folders.add(folder);
    if (this.folders.size > MAX_SWEPT_FOLDERS) this.folders.delete(this.folders.values().next().value as string);
    if (!this.closed && [...this.orphans].some((o) => splitPath(o).folder === folder)) void this.track(this.sweepFolder(folder));
  }

  /**
   * Removes orphaned temporary uploads in one folder: those this process failed to remove (the drive was down), and
   * any `.~wopi-*` untouched for ORPHAN_AGE_MS, whoever left it (a crash, another instance). Never fails.
   */
  async sweepFolder(folder: string): Promise<void> {
    let entries: FileInfo[];
    try {
      entries = await this.propfind(folder, '1');
    } catch {
      return; // the drive is down or the folder gone: the next sweep tries again
    }
    const known = [...this.orphans].filter((o) => splitPath(o).folder === folder);
    const now = Date.now();
    for (const e of entries) {
      if (e.isDirectory || !e.name.startsWith(TEMP_PREFIX)) continue;
      // A server may keep a broken upload under the name plus a suffix (rclone: `<name>.<hash>.partial`).
      const mine = known.some((o) => e.path === o || e.path.startsWith(`${o}.`));
      if (!mine && now - e.lastModified.getTime() < ORPHAN_AGE_MS) continue;
      try {
        await this.request('delete', e.path, { method: 'DELETE' });
      } catch (err) {
        if (!(err instanceof StorageError && err.kind === 'not_found')) return;
      }
    }
    for (const o of known) this.orphans.delete(o);
  }

  /** Sweeps every folder written to since the start (and the root), one after the other. */
  private async sweepAll(): Promise<void> {
    for (const folder of new Set(['/', ...this.folders])) {
      if (this.closed) return;
      await this.sweepFolder(folder);
    }
  }

  /** @inheritdoc */
  async findByUpstreamId(upstreamId: string): Promise<string | null> {
    const m = /^(.*\/remote\.php\/dav)\/files\/([^/]+)$/.exec(this.base);
    if (!m || !/^\d+$/.test(upstreamId)) return null;
    const [, davRoot, user] = m as unknown as [string, string, string];
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<d:searchrequest xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">
  <d:basicsearch>
    <d:select><d:prop><d:getetag/><oc:fileid/></d:prop></d:select>
    <d:from><d:scope><d:href>/files/${user}</d:href><d:depth>infinity</d:depth></d:scope></d:from>
    <d:where><d:eq><d:prop><oc:fileid/></d:prop><d:literal>${upstreamId}</d:literal></d:eq></d:where>
  </d:basicsearch>
</d:searchrequest>`;
    const text = await this.requestText('search', '/', {
      method: 'SEARCH',
      url: `${davRoot}/`,
      headers: { 'Content-Type': 'text/xml; charset=utf-8' },
      data: body,
    });
    const entries = await parseMultistatus(text).catch(() => []);
    for (const e of entries) {
      if (String(e.props.fileid ?? '') !== upstreamId) continue;
      const p = this.pathOfHref(e.href);
      if (p !== null) return p;
    }
    return null;
  }

  /** @inheritdoc Waits (at most CLOSE_WAIT_MS) for writes and clean-ups in flight, e.g. the removal of an aborted upload. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.firstSweep);
    clearInterval(this.sweepTimer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((r) => {
        timer = setTimeout(r, CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    this.client.destroy();
  }
}

/** Longest PROPFIND or SEARCH answer read (a folder of some 100,000 entries); a longer one is refused. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * Reads an answer's body as UTF-8 text, calling `arm` on every chunk (the caller's idle timer: destroying the body
 * fails the read) and refusing a body above `limit` bytes.
 * @throws StorageError 'unavailable' when the body is above the limit
 */
export async function readBodyText(body: (AsyncIterable<Uint8Array> & { destroy?: () => void }) | null, arm: () => void, limit: number): Promise<string> {
  if (body === null) return '';
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    arm();
    n += chunk.byteLength;
    if (n > limit) {
      body.destroy?.();
      throw new StorageError('unavailable', 'The drive sent an answer too large to read', { bytes: n });
    }
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}
