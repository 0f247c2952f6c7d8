import { CredentialCipher } from '../../../connector/src/users/credentialCipher.js';

const SECRET = 'test-token-secret-0123456789abcdef0123456789abcdef';
const CREDS = { username: 'alice', password: 'correct horse battery staple' };

describe('CredentialCipher (AES-256-GCM, key from HKDF of the token secret)', () => {
  const cipher = new CredentialCipher(SECRET);

  test('credentials sealed for a session open for that session only', () => {
    const sealed = cipher.seal(CREDS, 'sid-1');
    expect(cipher.openCredentials(sealed, 'sid-1')).toEqual(CREDS);
    expect(cipher.openCredentials(sealed, 'sid-2')).toBeNull();
  });

  test('the sealed text holds neither the password nor the secret, and differs every time', () => {
    const a = cipher.seal(CREDS, 'sid-1');
    const b = cipher.seal(CREDS, 'sid-1');
    expect(a).not.toBe(b);
    for (const s of [a, b]) {
      expect(s).not.toContain(CREDS.password);
      expect(Buffer.from(s.split('.')[2] ?? '', 'base64url').toString('latin1')).not.toContain('horse');
      expect(s).not.toContain(SECRET);
    }
  });

  test('another secret cannot open it', () => {
    const sealed = cipher.seal(CREDS, 'sid-1');
    expect(new CredentialCipher(`${SECRET}x`).openCredentials(sealed, 'sid-1')).toBeNull();
  });

  test.each([
    ['', 'empty'],
    ['v1', 'one part'],
    ['v2.a.b.c', 'another version'],
    ['v1.!!.??.**', 'not base64url'],
    ['v1.AAAA.AAAA.AAAA', 'a short IV and tag'],
  ])('garbage %j (%s) opens to null', (garbage) => {
    expect(cipher.open(garbage, 'sid-1')).toBeNull();
  });

  test('a flipped bit anywhere is refused (GCM tag)', () => {
    const sealed = cipher.seal(CREDS, 'sid-1');
    const [v, iv, ct, tag] = sealed.split('.') as [string, string, string, string];
    const flip = (s: string): string => {
      const b = Buffer.from(s, 'base64url');
      b[0] = (b[0] ?? 0) ^ 1;
      return b.toString('base64url');
    };
    expect(cipher.open([v, flip(iv), ct, tag].join('.'), 'sid-1')).toBeNull();
    expect(cipher.open([v, iv, flip(ct), tag].join('.'), 'sid-1')).toBeNull();
    expect(cipher.open([v, iv, ct, flip(tag)].join('.'), 'sid-1')).toBeNull();
  });

  test('a value that is not a username and password is no credentials', () => {
    expect(cipher.openCredentials(cipher.seal({ username: 'a' }, 's'), 's')).toBeNull();
    expect(cipher.openCredentials(cipher.seal('just a string', 's'), 's')).toBeNull();
    expect(cipher.openCredentials(cipher.seal(null, 's'), 's')).toBeNull();
  });
});
