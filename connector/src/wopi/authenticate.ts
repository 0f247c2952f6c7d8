import type { Next } from 'koa';
import { verifyAccessToken } from '../tokens/accessToken.js';
import { InvalidTokenError } from '../errors/errors.js';
import type { WopiContext } from './wopiContext.js';

/**
 * Reads `access_token` from the query (DS sends no Authorization header), verifies it for the file in the path
 * and puts the grant on ctx.state. 401 for anything wrong.
 * @param secret WOPI_TOKEN_SECRET
 */
export function authenticate(secret: string) {
  return async (ctx: WopiContext, next: Next): Promise<void> => {
    const fileId = ctx.params.id ?? '';
    ctx.state.fileId = fileId;
    const raw = ctx.query.access_token;
    if (Array.isArray(raw)) throw new InvalidTokenError('repeated');
    const grant = verifyAccessToken(secret, raw, fileId);
    ctx.state.grant = grant;
    ctx.state.log = ctx.state.log.child({ jti: grant.jti, user: grant.userId });
    await next();
  };
}
