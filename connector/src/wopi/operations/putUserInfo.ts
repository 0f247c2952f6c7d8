import { BadRequestError } from '../../errors/errors.js';
import { grantOf, type WopiContext, type WopiDeps } from '../wopiContext.js';
import { byteLimiter } from '../requestBody.js';

/** Longest UserInfo kept (MS-WOPI: at most 1024 ASCII characters). */
const MAX_USER_INFO = 1024;

/** The state-store namespace of PutUserInfo's values, keyed by user id. */
export const USER_INFO_NS = 'userinfo';

/** PutUserInfo: keeps the body for the user; CheckFileInfo returns it as UserInfo. */
export async function putUserInfo(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  const grant = grantOf(ctx);
  const chunks: Buffer[] = [];
  const limiter = byteLimiter(MAX_USER_INFO, null);
  try {
    for await (const chunk of ctx.req.pipe(limiter)) chunks.push(chunk as Buffer);
  } catch {
    throw new BadRequestError(`UserInfo is longer than ${MAX_USER_INFO} bytes`, 'user_info_too_long');
  }
  await deps.state.set(USER_INFO_NS, grant.userId, Buffer.concat(chunks).toString('utf8'));
  ctx.status = 200;
  ctx.body = '';
}
