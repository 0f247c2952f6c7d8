import type { Next } from 'koa';
import { verifyAccessToken } from '../tokens/accessToken.js';
import { InvalidTokenError } from '../errors/errors.js';
import type { UserService } from '../users/types.js';
import type { WopiContext } from './wopiContext.js';

/**
 * Reads `access_token` from the query (DS sends no Authorization header), verifies it for the file in the path
 * and puts the grant on ctx.state. A token issued in a sign-in session (claim `sid`) works only while that session
 * lives, and reaches the drive as that session's person: ctx.state.drive. 401 for anything wrong.
 * @param secret WOPI_TOKEN_SECRET
 * @param users the sign-in sessions
 */
export function authenticate(secret: string, users: UserService) {
  return async (ctx: WopiContext, next: Next): Promise<void> => {
    const fileId = ctx.params.id ?? '';
    ctx.state.fileId = fileId;
    const raw = ctx.query.access_token;
    if (Array.isArray(raw)) throw new InvalidTokenError('repeated');
    const grant = verifyAccessToken(secret, raw, fileId);
    ctx.state.grant = grant;
    ctx.state.log = ctx.state.log.child({ jti: grant.jti, user: grant.userId });
    if (grant.sid !== null) {
      // Signed out, expired or revoked (e.g. the drive refused its app password): the session's tokens die with it.
      const session = await users.session(grant.sid);
      if (session === null || session.userId !== grant.userId) throw new InvalidTokenError('session_revoked', { jti: grant.jti });
      ctx.state.session = session;
      try {
        ctx.state.drive = await users.driveOf(session);
      } catch (e) {
        throw new InvalidTokenError('session_revoked', { jti: grant.jti, error: (e as Error).name });
      }
    }
    await next();
  };
}
