import { BadRequestError, PayloadTooLargeError, isWopiError } from '../../errors/errors.js';
import { grantOf, type WopiContext, type WopiDeps } from '../wopiContext.js';
import { declaredLength, limitedBody } from '../requestBody.js';

/** Longest UserInfo kept (MS-WOPI: at most 1024 ASCII characters). */
const MAX_USER_INFO = 1024;

/** The state-store namespace of PutUserInfo's values, keyed by user id. */
export const USER_INFO_NS = 'userinfo';

/** PutUserInfo: keeps the body for the user; CheckFileInfo returns it as UserInfo. */
export async function putUserInfo(ctx: WopiContext, deps: WopiDeps): Promise<void> {
  const grant = grantOf(ctx);
  const declared = declaredLength(ctx.headers);
  if (declared !== null && declared > MAX_USER_INFO) throw tooLong();
  const chunks: Buffer[] = [];
  try {
    // limitedBody, not pipe(): it ends when the client disconnects or pauses too long (pipe would wait forever).
    for await (const chunk of limitedBody(ctx.req, MAX_USER_INFO, declared)) chunks.push(chunk as Buffer);
  } catch (e) {
    if (e instanceof PayloadTooLargeError) throw tooLong();
    if (isWopiError(e)) throw e;
    throw new BadRequestError('UserInfo could not be read', 'bad_body', { cause: e });
  }
  await deps.state.set(USER_INFO_NS, grant.userId, Buffer.concat(chunks).toString('utf8'));
  ctx.status = 200;
  ctx.body = '';
}

function tooLong(): BadRequestError {
  return new BadRequestError(`UserInfo is longer than ${MAX_USER_INFO} bytes`, 'user_info_too_long');
}
