import { LockConflictError, NotImplementedError } from '../../errors/errors.js';
import { grantOf, type WopiContext, type WopiDeps } from '../wopiContext.js';
import { toWopiError } from '../storageErrors.js';
import { requireWrite } from './lock.js';

/** DeleteFile: 409 with the lock when locked, 404 when gone; otherwise removes the file and forgets its id. */
export async function deleteFile(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  requireWrite(ctx);
  const grant = grantOf(ctx);
  const info = await deps.files.resolve(grant.fileId).catch((e) => {
    throw toWopiError(e);
  });
  const lock = await deps.locks.get(grant.fileId);
  if (lock !== null) throw new LockConflictError(lock.id, 'File is locked');
  if (!info.permissions.canDelete) throw new NotImplementedError('deleting a file the drive does not let this account delete');
  await deps.storage.delete(info.path).catch((e) => {
    throw toWopiError(e);
  });
  await deps.files.forget(grant.fileId, info.path);
  ctx.status = 200;
  ctx.body = '';
}
