import { Router } from '@koa/router';
import type { Next } from 'koa';
import { NotImplementedError, BadRequestError, InvalidTokenError } from '../errors/errors.js';
import { H, assertSingleValued, readHeader } from './wopiHeaders.js';
import { authenticate } from './authenticate.js';
import { proofCheck } from './proofCheck.js';
import type { WopiContext, WopiDeps, WopiState } from './wopiContext.js';
import { checkFileInfo } from './operations/checkFileInfo.js';
import { getFile } from './operations/getFile.js';
import { putFile } from './operations/putFile.js';
import { getLock, lock, refreshLock, unlock } from './operations/lock.js';
import { putRelativeFile } from './operations/putRelativeFile.js';
import { renameFile } from './operations/renameFile.js';
import { deleteFile } from './operations/deleteFile.js';
import { putUserInfo } from './operations/putUserInfo.js';
import { endSessionRefusedByDrive } from '../users/driveRefusedSession.js';

type Operation = (ctx: WopiContext, deps: WopiDeps) => Promise<void>;

/** X-WOPI-Override values of POST /wopi/files/:id and their operations; anything else is 501. */
const OVERRIDES: Record<string, [string, Operation]> = {
  LOCK: ['Lock', lock],
  REFRESH_LOCK: ['RefreshLock', refreshLock],
  UNLOCK: ['Unlock', unlock],
  GET_LOCK: ['GetLock', getLock],
  PUT_RELATIVE: ['PutRelativeFile', putRelativeFile],
  RENAME_FILE: ['RenameFile', renameFile],
  DELETE: ['DeleteFile', deleteFile],
  PUT_USER_INFO: ['PutUserInfo', putUserInfo],
};

/**
 * The WOPI routes (MS-WOPI files endpoint). Thin: authenticate, name the operation, call it.
 * @param deps what operations need
 */
export function wopiRouter(deps: WopiDeps): Router<WopiState> {
  const router = new Router<WopiState>({ prefix: '/wopi' });
  // The operation is named before authenticating, so a refused request's access line still says what it was.
  const named = (op: string) => async (ctx: WopiContext, next: Next): Promise<void> => {
    ctx.state.op = op;
    await next();
  };
  // A token from a sign-in session reaches the drive as that session's person (their credentials and root).
  const call = async (fn: Operation, ctx: WopiContext): Promise<void> => {
    const { drive, session } = ctx.state;
    if (!drive || !session) return fn(ctx, deps);
    try {
      await fn(ctx, { ...deps, storage: drive.storage, files: drive.files });
    } catch (e) {
      // The drive refused the session's own credentials (app password revoked): the session ends with it.
      if ((await endSessionRefusedByDrive(deps.users, session, e)) !== null) throw new InvalidTokenError('session_revoked', { by: 'drive' });
      throw e;
    }
  };
  const run = (fn: Operation) => (ctx: WopiContext) => call(fn, ctx);
  // MS-WOPI order: the proof first, then the token, then the operation.
  const proof = proofCheck({ mode: deps.config.docs.proofMode, discovery: deps.discovery, publicUrl: deps.config.publicUrl, counters: deps.proofCounters });
  const auth = authenticate(deps.config.tokens.secret, deps.users);
  router.use(async (ctx, next) => {
    assertSingleValued(ctx.req.headersDistinct);
    await next();
  });

  router.get('/files/:id', named('CheckFileInfo'), proof, auth, run(checkFileInfo));
  router.get('/files/:id/contents', named('GetFile'), proof, auth, run(getFile));
  router.post('/files/:id/contents', named('PutFile'), proof, auth, run(putFile));
  router.post(
    '/files/:id',
    async (ctx: WopiContext, next: Next) => {
      const override = readHeader(ctx.headers, H.override);
      if (override === undefined || override === '') throw new BadRequestError('Missing X-WOPI-Override', 'missing_override');
      const entry = OVERRIDES[override.toUpperCase()];
      ctx.state.op = entry?.[0] ?? 'Unknown';
      await next();
    },
    proof,
    auth,
    async (ctx: WopiContext) => {
      const entry = OVERRIDES[String(ctx.headers[H.override]).toUpperCase()];
      if (!entry) throw new NotImplementedError('this X-WOPI-Override');
      if (entry[0] === 'Lock' && ctx.headers[H.oldLock] !== undefined) ctx.state.op = 'UnlockAndRelock';
      await call(entry[1], ctx);
    },
  );
  return router;
}
