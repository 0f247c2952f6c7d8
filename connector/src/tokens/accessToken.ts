import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { InvalidTokenError } from '../errors/errors.js';

const AUDIENCE = 'wopi';
const ISSUER = 'wopi-bridge';
/** Upper bound for any token's age, whatever TOKEN_TTL_SECONDS says (config caps it at 7 days). */
const MAX_AGE_SECONDS = 7 * 24 * 3600;

/** What an access token lets its bearer do: one user, one file, read or read-write. */
export interface AccessGrant {
  userId: string;
  userName: string;
  fileId: string;
  canWrite: boolean;
  /** Token id: logged instead of the token. */
  jti: string;
  /** Expiry, ms since the epoch (= access_token_ttl). */
  expiresAt: number;
  /** The sign-in session the token was issued in (claim `sid`); null for tokens made outside one (the CLI's). */
  sid: string | null;
}

const keys = new Map<string, KeyObject>();
/**
 * The secret as a KeyObject, made once: given a string, jsonwebtoken 9 first tries to read it as a public key on
 * every call, which costs about 0.7 ms per request (measured by the bench); a secret KeyObject costs ~17 µs.
 */
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    keys.set(secret, key);
  }
  return key;
}

interface Claims {
  sub: string;
  name: string;
  fid: string;
  w: 0 | 1;
  jti: string;
  exp: number;
  iat: number;
  sid?: string;
}

/** Shape of a session id (random base64url); anything else in a `sid` claim is refused. */
const SID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * Issues a WOPI access token: a JWT (HS256), URL-safe as it is (base64url parts and dots).
 * @param secret WOPI_TOKEN_SECRET
 * @param grant who, which file, which permission, and the sign-in session it belongs to (if any)
 * @param ttlSeconds lifetime
 * @param now clock (ms)
 * @returns the token and access_token_ttl (its expiry in ms since the epoch, as WOPI defines it — not a duration)
 */
export function issueAccessToken(
  secret: string,
  grant: { userId: string; userName?: string; fileId: string; canWrite: boolean; sid?: string | null },
  ttlSeconds: number,
  now: number = Date.now(),
): { token: string; accessTokenTtl: number; jti: string } {
  const iat = Math.floor(now / 1000);
  const exp = iat + ttlSeconds;
  const jti = randomBytes(9).toString('base64url');
  const claims: Claims = { sub: grant.userId, name: grant.userName ?? grant.userId, fid: grant.fileId, w: grant.canWrite ? 1 : 0, jti, iat, exp };
  if (grant.sid !== undefined && grant.sid !== null) claims.sid = grant.sid;
  const token = jwt.sign(claims, keyOf(secret), { algorithm: 'HS256', audience: AUDIENCE, issuer: ISSUER });
  return { token, accessTokenTtl: exp * 1000, jti };
}

/**
 * Verifies an access token for a file.
 * @param secret WOPI_TOKEN_SECRET
 * @param token the access_token query parameter
 * @param fileId the file the request is for; a token for another file is refused
 * @throws InvalidTokenError (401) when missing, malformed, signed otherwise, expired, or for another file
 */
export function verifyAccessToken(secret: string, token: string | undefined, fileId: string, now: number = Date.now()): AccessGrant {
  if (token === undefined || token === '') throw new InvalidTokenError('missing');
  if (token.length > 4096) throw new InvalidTokenError('too_long');
  let claims: Claims;
  try {
    claims = jwt.verify(token, keyOf(secret), {
      algorithms: ['HS256'],
      audience: AUDIENCE,
      issuer: ISSUER,
      maxAge: MAX_AGE_SECONDS,
      clockTimestamp: Math.floor(now / 1000),
    }) as Claims;
  } catch (e) {
    const name = (e as Error).name;
    throw new InvalidTokenError(name === 'TokenExpiredError' ? 'expired' : 'bad_token', { error: name });
  }
  if (typeof claims.fid !== 'string' || typeof claims.sub !== 'string' || (claims.w !== 0 && claims.w !== 1)) {
    throw new InvalidTokenError('bad_claims');
  }
  if (claims.sid !== undefined && (typeof claims.sid !== 'string' || !SID_PATTERN.test(claims.sid))) throw new InvalidTokenError('bad_claims');
  if (claims.fid !== fileId) throw new InvalidTokenError('other_file', { jti: claims.jti });
  return {
    userId: claims.sub,
    userName: typeof claims.name === 'string' ? claims.name : claims.sub,
    fileId: claims.fid,
    canWrite: claims.w === 1,
    jti: String(claims.jti),
    expiresAt: claims.exp * 1000,
    sid: claims.sid ?? null,
  };
}
