import { InvalidTokenError } from '../../errors/errors.js';
import { H, readHeader, readLockId } from '../wopiHeaders.js';
import { grantOf, type WopiContext, type WopiDeps } from '../wopiContext.js';
import { toWopiError } from '../storageErrors.js';

/** Lock operations change editing state: a view-only token may not use them. */
export function requireWrite(ctx: WopiContext): void {
  const grant = grantOf(ctx);
  if (!grant.canWrite) throw new InvalidTokenError('read_only', { jti: grant.jti });
}

/**
 * Lock (and UnlockAndRelock when X-WOPI-OldLock is sent): locks an unlocked file, refreshes a lock with the same
 * id, 409 with the current lock otherwise. Taking a new lock starts an editing session: the file's current version
 * becomes the baseline PutFile compares against.
 */
export async function lock(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  requireWrite(ctx);
  const grant = grantOf(ctx);
  const id = readLockId(ctx.headers, H.lock);
  const oldLock = readHeader(ctx.headers, H.oldLock);
  const oldId = oldLock === undefined ? undefined : readLockId(ctx.headers, H.oldLock);
  ctx.state.op = oldId === undefined ? 'Lock' : 'UnlockAndRelock';
  const info = await deps.files.resolve(grant.fileId).catch((e) => {
    throw toWopiError(e);
  });
  const { before } = await deps.locks.apply(grant.fileId, oldId === undefined ? { kind: 'lock', id } : { kind: 'relock', oldId, id });
  if (before === null) await deps.versions.set(grant.fileId, info.version);
  ctx.state.result = before === null ? 'locked' : before.id === id ? 'refreshed' : 'relocked';
  ctx.status = 200;
  ctx.set(H.itemVersion, info.version);
  ctx.body = '';
}

/** Applies a lock operation that needs only the lock id (RefreshLock, Unlock); 409 when unlocked or another id. */
async function applyById(ctx: WopiContext, deps: WopiDeps, kind: 'refresh' | 'unlock'): Promise<void> {
  requireWrite(ctx);
  const grant = grantOf(ctx);
  const id = readLockId(ctx.headers);
  await deps.files.pathOf(grant.fileId);
  await deps.locks.apply(grant.fileId, { kind, id });
  ctx.status = 200;
  ctx.body = '';
}

/** RefreshLock: resets the 30-minute expiry of a matching lock; 409 when unlocked or another id. */
export function refreshLock(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  return applyById(ctx, deps, 'refresh');
}

/** Unlock: removes a matching lock; 409 when unlocked or another id. */
export function unlock(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  return applyById(ctx, deps, 'unlock');
}

/** GetLock: 200 with the current lock in X-WOPI-Lock, '' when unlocked (MS-WOPI; not 404 as wopiserver does). */
export async function getLock(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  requireWrite(ctx);
  const grant = grantOf(ctx);
  await deps.files.pathOf(grant.fileId);
  const current = await deps.locks.get(grant.fileId);
  ctx.status = 200;
  ctx.set('X-WOPI-Lock', current?.id ?? '');
  ctx.body = '';
}
