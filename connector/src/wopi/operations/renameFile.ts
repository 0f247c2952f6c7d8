import { BadRequestError, InvalidFileNameError, LockConflictError } from '../../errors/errors.js';
import { StorageError, joinPath, splitExtension, splitPath } from '../../storage/StorageAdapter.js';
import { H, readHeader } from '../wopiHeaders.js';
import { grantOf, type WopiContext, type WopiDeps } from '../wopiContext.js';
import { toWopiError } from '../storageErrors.js';
import { decodeUtf7, fileNameProblem } from '../fileNames.js';
import { requireWrite } from './lock.js';

/**
 * RenameFile: X-WOPI-RequestedName (UTF-7, without extension) becomes the file's name, extension kept. A locked
 * file needs the matching X-WOPI-Lock (409 otherwise); an unlocked one is renamed. A name in use gets " (2)"…; a
 * name the drive cannot hold is 400 with X-WOPI-InvalidFileNameError. The file id, and so the lock, stay.
 * Answers {Name} without the extension (MS-WOPI; DS always reads it).
 */
export async function renameFile(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  requireWrite(ctx);
  const grant = grantOf(ctx);
  const raw = readHeader(ctx.headers, H.requestedName);
  if (raw === undefined) throw new BadRequestError('Missing X-WOPI-RequestedName', 'missing_name');
  const requested = decodeUtf7(raw);
  const info = await deps.files.resolve(grant.fileId).catch((e) => {
    throw toWopiError(e);
  });
  if (!info.permissions.canRename) throw new InvalidFileNameError('The drive does not allow renaming this file');
  const lock = await deps.locks.get(grant.fileId);
  const requestLock = readHeader(ctx.headers, H.lock);
  if (lock !== null && requestLock !== lock.id) throw new LockConflictError(lock.id, 'Lock mismatch');

  const [, ext] = splitExtension(info.name);
  const problem = requested.trim() === '' ? 'The name is empty' : fileNameProblem(`${requested}${ext}`);
  if (problem !== null) throw new InvalidFileNameError(problem);
  const folder = splitPath(info.path).folder;
  let newName = `${requested}${ext}`;
  if (newName !== info.name) {
    const taken = new Set((await deps.storage.list(folder).catch((e) => {
      throw toWopiError(e);
    })).map((f) => f.name));
    for (let n = 2; taken.has(newName); n++) newName = `${requested} (${n})${ext}`;
    // The id map is updated inside the rename's critical section: an overlapping rename of this file that waited
    // for this one finds the file gone from info.path and the id pointing elsewhere.
    await deps.storage
      .rename(info.path, joinPath(folder, newName), { onRenamed: (renamed) => deps.files.moved(grant.fileId, info.path, renamed.path) })
      .catch(async (e: unknown) => {
        if (e instanceof StorageError && e.kind === 'forbidden') throw new InvalidFileNameError('The drive refused the name');
        if (e instanceof StorageError && e.kind === 'not_found' && (await renamedMeanwhile(deps, grant.fileId, info.path))) {
          throw new LockConflictError(lock?.id ?? null, 'The file was renamed by another request meanwhile', { code: 'renamed_meanwhile' });
        }
        throw toWopiError(e, lock?.id ?? null);
      });
  }
  ctx.set('Content-Type', 'application/json; charset=utf-8');
  ctx.body = { Name: splitExtension(newName)[0] };
}

/** Whether the file id now points away from `path` (another rename through the bridge moved it). */
async function renamedMeanwhile(deps: WopiDeps, fileId: string, path: string): Promise<boolean> {
  try {
    return (await deps.files.pathOf(fileId)) !== path;
  } catch {
    return false;
  }
}
