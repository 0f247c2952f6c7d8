import jwt from 'jsonwebtoken';
import { issueAccessToken, verifyAccessToken } from '../../../connector/src/tokens/accessToken.js';

const SECRET = 'test-token-secret-0123456789abcdef0123456789abcdef';
const NOW = 1_800_000_000_000;

describe('access tokens carry their sign-in session (claim sid)', () => {
  test('a token issued in a session names it; one issued outside (the CLI) has none', () => {
    const inSession = issueAccessToken(SECRET, { userId: 'bob', fileId: 'f1', canWrite: true, sid: 'AbCdEfGhIjKlMnOpQrStUvWx' }, 60, NOW);
    expect(verifyAccessToken(SECRET, inSession.token, 'f1', NOW).sid).toBe('AbCdEfGhIjKlMnOpQrStUvWx');
    const outside = issueAccessToken(SECRET, { userId: 'bob', fileId: 'f1', canWrite: true }, 60, NOW);
    expect(verifyAccessToken(SECRET, outside.token, 'f1', NOW).sid).toBeNull();
    const explicitNull = issueAccessToken(SECRET, { userId: 'bob', fileId: 'f1', canWrite: true, sid: null }, 60, NOW);
    expect(jwt.decode(explicitNull.token)).not.toHaveProperty('sid');
  });

  test.each([42, '', 'short', 'has space in it......', 'x'.repeat(65), ['a'], { a: 1 }])('a signed token with sid %j is refused', (sid) => {
    const token = jwt.sign(
      { sub: 'bob', name: 'bob', fid: 'f1', w: 1, jti: 'j', sid },
      SECRET,
      { algorithm: 'HS256', audience: 'wopi', issuer: 'wopi-bridge', expiresIn: 60 },
    );
    expect(() => verifyAccessToken(SECRET, token, 'f1')).toThrow(expect.objectContaining({ status: 401 }));
  });
});
