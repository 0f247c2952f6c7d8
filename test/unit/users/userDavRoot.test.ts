import { hasUserPlaceholder, userDavRoot } from '../../../connector/src/users/userDavRoot.js';
import { nextcloudBaseOf } from '../../../connector/src/users/nextcloudLoginFlow.js';

describe('userDavRoot: where a person\'s files are', () => {
  test.each([
    ['http://dav.example/{user}', 'alice', 'http://dav.example/alice'],
    // new URL() (loadConfig) encodes the braces.
    [new URL('http://dav.example/home/{user}/files').href, 'alice', 'http://dav.example/home/alice/files'],
    ['http://dav.example/%7buser%7d/', 'bob', 'http://dav.example/bob'],
    ['https://cloud.example/remote.php/dav/files/admin', 'alice', 'https://cloud.example/remote.php/dav/files/alice'],
    ['https://cloud.example/nc/remote.php/dav/files/admin/', 'alice', 'https://cloud.example/nc/remote.php/dav/files/alice'],
    ['https://cloud.example/remote.php/webdav', 'alice', 'https://cloud.example/remote.php/webdav'],
    ['http://dav.example/shared/', 'alice', 'http://dav.example/shared'],
  ])('%s for %s → %s', (url, user, expected) => {
    expect(userDavRoot(url, user)).toBe(expected);
  });

  test('a name with URL characters stays one path segment', () => {
    expect(userDavRoot('http://dav.example/{user}', 'a/../b?c#d')).toBe('http://dav.example/a%2F..%2Fb%3Fc%23d');
    expect(userDavRoot('https://c.example/remote.php/dav/files/x', 'ann@example.org')).toBe('https://c.example/remote.php/dav/files/ann%40example.org');
  });

  test('hasUserPlaceholder is stable across calls (no global-regex state)', () => {
    const url = 'http://dav.example/%7Buser%7D';
    expect([hasUserPlaceholder(url), hasUserPlaceholder(url), hasUserPlaceholder(url)]).toEqual([true, true, true]);
    expect(hasUserPlaceholder('http://dav.example/alice')).toBe(false);
  });

  test.each([
    ['http://127.0.0.1:8081/remote.php/dav/files/alice', 'http://127.0.0.1:8081'],
    ['https://cloud.example/nextcloud/remote.php/webdav/', 'https://cloud.example/nextcloud'],
    ['https://cloud.example/', 'https://cloud.example'],
  ])('the Nextcloud base of %s is %s', (url, base) => {
    expect(nextcloudBaseOf(url)).toBe(base);
  });
});
