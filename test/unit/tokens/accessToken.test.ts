import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { issueAccessToken, verifyAccessToken } from '../../../connector/src/tokens/accessToken.js';
import { InvalidTokenError } from '../../../connector/src/errors/errors.js';

const SECRET = 'a'.repeat(16) + '0123456789abcdef0123456789abcdef';
const NOW = 1_800_000_000_123; // ms, not on a second boundary
const GRANT = { userId: 'alice', userName: 'Alice Example', fileId: 'file-1', canWrite: true };

/** The InvalidTokenError `fn` throws. */
function refusal(fn: () => unknown): InvalidTokenError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidTokenError);
    const err = e as InvalidTokenError;
    expect(err.status).toBe(401);
    return err;
  }
  throw new Error('expected verifyAccessToken to throw');
}

const b64url = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const decodePart = (t: string, i: number): Record<string, unknown> =>
  JSON.parse(Buffer.from(t.split('.')[i] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

describe('issueAccessToken / verifyAccessToken', () => {
  test('round trip: the grant comes back for the same file', () => {
    const { token, jti, accessTokenTtl } = issueAccessToken(SECRET, GRANT, 3600, NOW);
    const g = verifyAccessToken(SECRET, token, 'file-1', NOW + 1000);
    expect(g).toEqual({ userId: 'alice', userName: 'Alice Example', fileId: 'file-1', canWrite: true, jti, expiresAt: accessTokenTtl, sid: null });
  });

  test('a read-only grant stays read-only; userName defaults to the user id', () => {
    const { token } = issueAccessToken(SECRET, { userId: 'bob', fileId: 'f', canWrite: false }, 60, NOW);
    const g = verifyAccessToken(SECRET, token, 'f', NOW);
    expect(g.canWrite).toBe(false);
    expect(g.userName).toBe('bob');
  });

  test('accessTokenTtl is an absolute timestamp in ms (exp * 1000), not a duration', () => {
    const { token, accessTokenTtl } = issueAccessToken(SECRET, GRANT, 3600, NOW);
    expect(accessTokenTtl).toBe((Math.floor(NOW / 1000) + 3600) * 1000);
    expect(accessTokenTtl).toBe((decodePart(token, 1).exp as number) * 1000);
    expect(Math.abs(accessTokenTtl - (NOW + 3600 * 1000))).toBeLessThan(1000);
  });

  test('without an explicit clock, accessTokenTtl is about now + ttl', () => {
    const before = Date.now();
    const { accessTokenTtl } = issueAccessToken(SECRET, GRANT, 36_000);
    const after = Date.now();
    expect(accessTokenTtl).toBeGreaterThan(before + 36_000_000 - 1000);
    expect(accessTokenTtl).toBeLessThanOrEqual(after + 36_000_000);
  });

  test('the token is URL-safe as it is (no +, /, = or %)', () => {
    for (const userId of ['alice', 'ü/?&=+ 文档 😀', '>>>???<<<']) {
      const { token } = issueAccessToken(SECRET, { ...GRANT, userId, userName: userId }, 3600, NOW);
      expect(token).toMatch(/^[A-Za-z0-9_.-]+$/);
      expect(encodeURIComponent(token)).toBe(token);
    }
  });

  test('each token gets its own id (jti)', () => {
    const a = issueAccessToken(SECRET, GRANT, 3600, NOW);
    const b = issueAccessToken(SECRET, GRANT, 3600, NOW);
    expect(a.jti).not.toBe(b.jti);
    expect(a.token).not.toBe(b.token);
  });

  test('the token is an HS256 JWT that does not carry the secret', () => {
    const { token } = issueAccessToken(SECRET, GRANT, 3600, NOW);
    expect(decodePart(token, 0)).toMatchObject({ alg: 'HS256' });
    expect(token).not.toContain(SECRET);
    expect(JSON.stringify(decodePart(token, 1))).not.toContain(SECRET);
  });

  test('still valid one second before expiry, expired at expiry → reason "expired"', () => {
    const { token, accessTokenTtl } = issueAccessToken(SECRET, GRANT, 3600, NOW);
    expect(verifyAccessToken(SECRET, token, 'file-1', accessTokenTtl - 1000).fileId).toBe('file-1');
    expect(refusal(() => verifyAccessToken(SECRET, token, 'file-1', accessTokenTtl)).detail.reason).toBe('expired');
    expect(refusal(() => verifyAccessToken(SECRET, token, 'file-1', accessTokenTtl + 86_400_000)).detail.reason).toBe('expired');
  });

  test('a token for another file → reason "other_file"', () => {
    const { token } = issueAccessToken(SECRET, GRANT, 3600, NOW);
    expect(refusal(() => verifyAccessToken(SECRET, token, 'file-2', NOW)).detail.reason).toBe('other_file');
  });

  test('a tampered payload (other file id, same signature) → "bad_token"', () => {
    const { token } = issueAccessToken(SECRET, GRANT, 3600, NOW);
    const [h, , s] = token.split('.');
    const payload = { ...decodePart(token, 1), fid: 'file-2' };
    const forged = `${h}.${b64url(payload)}.${s}`;
    expect(refusal(() => verifyAccessToken(SECRET, forged, 'file-2', NOW)).detail.reason).toBe('bad_token');
  });

  test('a tampered payload that upgrades read-only to write → "bad_token"', () => {
    const { token } = issueAccessToken(SECRET, { ...GRANT, canWrite: false }, 3600, NOW);
    const [h, , s] = token.split('.');
    const forged = `${h}.${b64url({ ...decodePart(token, 1), w: 1 })}.${s}`;
    expect(refusal(() => verifyAccessToken(SECRET, forged, 'file-1', NOW)).detail.reason).toBe('bad_token');
  });

  test('a tampered signature → "bad_token"', () => {
    const { token } = issueAccessToken(SECRET, GRANT, 3600, NOW);
    const [h, p, s = ''] = token.split('.');
    const mid = Math.floor(s.length / 2);
    const flipped = s.slice(0, mid) + (s[mid] === 'A' ? 'B' : 'A') + s.slice(mid + 1);
    expect(refusal(() => verifyAccessToken(SECRET, `${h}.${p}.${flipped}`, 'file-1', NOW)).detail.reason).toBe('bad_token');
    expect(refusal(() => verifyAccessToken(SECRET, `${h}.${p}.`, 'file-1', NOW)).detail.reason).toBe('bad_token');
  });

  test('a token signed with another secret → "bad_token"', () => {
    const { token } = issueAccessToken('b'.repeat(64), GRANT, 3600, NOW);
    expect(refusal(() => verifyAccessToken(SECRET, token, 'file-1', NOW)).detail.reason).toBe('bad_token');
  });

  test('an unsigned "alg: none" token is refused', () => {
    const { token } = issueAccessToken(SECRET, GRANT, 3600, NOW);
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${token.split('.')[1]}.`;
    expect(refusal(() => verifyAccessToken(SECRET, none, 'file-1', NOW)).detail.reason).toBe('bad_token');
    const noneWithSig = `${b64url({ alg: 'none', typ: 'JWT' })}.${token.split('.')[1]}.${token.split('.')[2]}`;
    expect(refusal(() => verifyAccessToken(SECRET, noneWithSig, 'file-1', NOW)).detail.reason).toBe('bad_token');
  });

  test('a token forged with jsonwebtoken as HS512 with the right secret and claims is refused', () => {
    const claims = { ...decodePart(issueAccessToken(SECRET, GRANT, 3600, NOW).token, 1) };
    const forged = jwt.sign(claims, SECRET, { algorithm: 'HS512' });
    expect(refusal(() => verifyAccessToken(SECRET, forged, 'file-1', NOW)).detail.reason).toBe('bad_token');
  });

  test('a token forged with jsonwebtoken as RS256 is refused', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const claims = { ...decodePart(issueAccessToken(SECRET, GRANT, 3600, NOW).token, 1) };
    const forged = jwt.sign(claims, privateKey, { algorithm: 'RS256' });
    expect(refusal(() => verifyAccessToken(SECRET, forged, 'file-1', NOW)).detail.reason).toBe('bad_token');
  });

  test('an HS256 token with the right secret but without our audience/issuer is refused', () => {
    const claims = { sub: 'alice', name: 'alice', fid: 'file-1', w: 1, jti: 'x', iat: Math.floor(NOW / 1000), exp: Math.floor(NOW / 1000) + 60 };
    const forged = jwt.sign(claims, SECRET, { algorithm: 'HS256' });
    expect(refusal(() => verifyAccessToken(SECRET, forged, 'file-1', NOW)).detail.reason).toBe('bad_token');
  });

  test('missing or empty token → "missing"', () => {
    expect(refusal(() => verifyAccessToken(SECRET, undefined, 'file-1', NOW)).detail.reason).toBe('missing');
    expect(refusal(() => verifyAccessToken(SECRET, '', 'file-1', NOW)).detail.reason).toBe('missing');
  });

  test('garbage → "bad_token"; an absurdly long token is refused before parsing', () => {
    expect(refusal(() => verifyAccessToken(SECRET, 'not-a-jwt', 'file-1', NOW)).detail.reason).toBe('bad_token');
    expect(refusal(() => verifyAccessToken(SECRET, 'a.b.c', 'file-1', NOW)).detail.reason).toBe('bad_token');
    expect(refusal(() => verifyAccessToken(SECRET, 'x'.repeat(5000), 'file-1', NOW)).detail.reason).toBe('too_long');
  });

  test('the error never carries the token itself', () => {
    const { token } = issueAccessToken(SECRET, GRANT, 3600, NOW);
    const err = refusal(() => verifyAccessToken(SECRET, token, 'file-2', NOW));
    expect(JSON.stringify({ m: err.message, d: err.detail, h: err.headers })).not.toContain(token);
  });
});
