import path from 'node:path';
import type { Readable } from 'node:stream';
import { BadRequestError, LockConflictError, PayloadTooLargeError, InvalidTokenError } from '../../errors/errors.js';
import { decidePutFile } from '../../locks/lockRules.js';
import { StorageError, VersionMismatchError, splitExtension, splitPath, type FileInfo } from '../../storage/StorageAdapter.js';
import { H, readHeader, readOptionalLockId } from '../wopiHeaders.js';
import { grantOf, type WopiContext, type WopiDeps } from '../wopiContext.js';
import { toWopiError } from '../storageErrors.js';
import { truncateUtf8 } from '../fileNames.js';
import { declaredLength, limitedBody, spoolBody, type Spool } from '../requestBody.js';

/** Attempts for a save the drive refuses with 423 (Nextcloud locks a file while a download of it runs). */
const LOCKED_RETRIES = [500, 1500, 3000];

/**
 * The name of a conflict copy, beside the original, that a user recognises:
 * `Report (conflict 2026-11-22 0745 alice).docx`. At most 240 UTF-8 bytes (drives allow 255), never splitting a
 * character, so the copy can always be created.
 */
export function conflictName(original: string, userName: string, now: Date = new Date()): string {
  const [base, ext] = splitExtension(original);
  const stamp = now.toISOString().replace(/T(\d\d):(\d\d).*$/, ' $1$2');
  const who = truncateUtf8(userName.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_'), 40);
  const suffix = ` (conflict ${stamp} ${who})${truncateUtf8(ext, 20)}`;
  return `${truncateUtf8(base, 240 - Buffer.byteLength(suffix))}${suffix}`;
}

/** Whether the editor's last known LastModifiedTime (X-LOOL-WOPI-Timestamp) says the file changed since. */
function timestampSaysChanged(ctx: WopiContext, info: FileInfo): boolean {
  const raw = readHeader(ctx.headers, H.loolTimestamp) ?? readHeader(ctx.headers, H.coolTimestamp);
  if (raw === undefined || raw === '') return false;
  const t = Date.parse(raw);
  return Number.isFinite(t) && t !== info.lastModified.getTime();
}

/**
 * PutFile: lock rules first (before any body is read), then the external-change check, then a streamed write
 * that leaves the original intact on failure. A save that would overwrite a change made outside the editor, or
 * that comes with a lock the file no longer has, is kept as a conflict copy beside the file and answered 409.
 */
export async function putFile(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  const grant = grantOf(ctx);
  if (!grant.canWrite) throw new InvalidTokenError('read_only', { jti: grant.jti });
  const override = readHeader(ctx.headers, H.override);
  if (override !== undefined && override.toUpperCase() !== 'PUT') throw new BadRequestError('X-WOPI-Override must be PUT', 'bad_override');
  const requestLock = readOptionalLockId(ctx.headers);
  const declared = declaredLength(ctx.headers);
  const limit = deps.config.maxUploadBytes;
  if (declared !== null && declared > limit) throw new PayloadTooLargeError(limit);

  const info = await deps.files.resolve(grant.fileId).catch((e) => {
    throw toWopiError(e);
  });
  if (!info.permissions.canWrite) throw new InvalidTokenError('drive_read_only', { jti: grant.jti });
  const lock = await deps.locks.get(grant.fileId);
  const currentLock = lock?.id ?? null;
  const log = ctx.state.log;

  const keepAsConflictCopy = async (body: Readable, length: number): Promise<string> => {
    const copy = await deps.storage.createUnique(splitPath(info.path).folder, conflictName(info.name, grant.userName), body, length);
    log.warn({ result: 'conflict_copy', copy: copy.name }, 'save kept as conflict copy');
    ctx.state.result = 'conflict_copy';
    return copy.name;
  };

  const refusal = decidePutFile(currentLock, requestLock, info.size);
  if (refusal !== null) {
    // An editor's save that lost its lock (expired, taken over) is still the user's work: keep it.
    if (requestLock !== undefined) {
      const spool = await spoolBody(ctx.req, tmpDir(deps), limit, declared);
      try {
        const name = await keepAsConflictCopy(spool.open(), spool.size);
        throw new LockConflictError(currentLock, `${refusal}; this version was saved as "${name}"`, { code: 'lock_mismatch_saved_copy' });
      } finally {
        await spool.dispose();
      }
    }
    throw new LockConflictError(currentLock, refusal);
  }

  // The version check itself is made by writeStream under the file's write lock, against the session's baseline
  // read there: a save that overlaps an earlier save of the same session (forcesave during autosave, a retry) then
  // sees the version that save wrote as its own, not as a change made on the drive.
  const changedOutside = currentLock !== null && timestampSaysChanged(ctx, info);

  let spool: Spool | null = null;
  try {
    if (declared === null || deps.storage.mayConsumeBodyOnConflict || changedOutside) {
      spool = await spoolBody(ctx.req, tmpDir(deps), limit, declared);
    }
    const length = spool?.size ?? (declared as number);
    const body = (): Readable => {
      return spool ? spool.open() : limitedBody(ctx.req, limit, declared);
    };

    if (changedOutside) {
      const name = await keepAsConflictCopy(body(), length);
      throw new LockConflictError(currentLock, `File changed on the drive since it was opened; this version was saved as "${name}"`, {
        code: 'version_conflict',
        detail: { current: info.version, currentModified: info.lastModified.toISOString() },
      });
    }

    const abort = new AbortController();
    const onClose = (): void => {
      if (!ctx.req.complete) abort.abort();
    };
    if (ctx.req.destroyed) onClose();
    else ctx.req.once('close', onClose);
    let written: FileInfo | undefined;
    for (let attempt = 0; written === undefined; attempt++) {
      try {
        written = await deps.storage.writeStream(info.path, body(), {
          contentLength: length,
          // With a lock: the version this session loaded or last wrote (info.version when none is known).
          expectedVersion: currentLock === null ? info.version : async () => (await deps.versions.get(grant.fileId)) ?? info.version,
          ...(currentLock !== null ? { onWritten: (w: FileInfo) => deps.versions.set(grant.fileId, w.version) } : {}),
          conflictPath: async () => {
            const created = await deps.storage.createUnique(splitPath(info.path).folder, conflictName(info.name, grant.userName), null, 0);
            return created.path;
          },
          signal: abort.signal,
        });
      } catch (e) {
        if (e instanceof VersionMismatchError) {
          const name = e.keptAt !== null ? splitPath(e.keptAt).name : spool ? await keepAsConflictCopy(spool.open(), length) : null;
          if (e.keptAt !== null) {
            log.warn({ result: 'conflict_copy', copy: name }, 'save kept as conflict copy');
            ctx.state.result = 'conflict_copy'; // counted in wopi_bridge_conflict_copies_total
          }
          throw new LockConflictError(
            currentLock,
            name === null ? 'File changed on the drive while saving' : `File changed on the drive while saving; this version was saved as "${name}"`,
            { code: 'version_conflict' },
          );
        }
        const retry = e instanceof StorageError && e.kind === 'locked' && spool !== null ? LOCKED_RETRIES[attempt] : undefined;
        if (retry === undefined) throw toWopiError(e, currentLock);
        log.info({ attempt: attempt + 1, waitMs: retry }, 'drive has the file locked; retrying save');
        await new Promise((r) => setTimeout(r, retry));
      }
    }
    ctx.state.bytes = length;
    ctx.status = 200;
    ctx.set(H.itemVersion, written.version);
    ctx.set('Content-Type', 'application/json; charset=utf-8');
    ctx.body = { LastModifiedTime: written.lastModified.toISOString() };
  } finally {
    await spool?.dispose();
  }
}

function tmpDir(deps: WopiDeps): string {
  return path.join(deps.config.dataDir, 'tmp');
}
