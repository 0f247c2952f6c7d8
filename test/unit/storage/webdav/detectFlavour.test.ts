import { statusUrlFor } from '../../../../connector/src/storage/webdav/detectFlavour.js';

describe('statusUrlFor', () => {
  test.each([
    ['https://cloud.example.com/remote.php/dav/files/alice', 'https://cloud.example.com/status.php'],
    ['https://cloud.example.com/remote.php/dav/files/alice/', 'https://cloud.example.com/status.php'],
    ['https://example.com/nextcloud/remote.php/dav/files/alice', 'https://example.com/nextcloud/status.php'],
    ['https://example.com/owncloud/remote.php/webdav', 'https://example.com/owncloud/status.php'],
    ['http://127.0.0.1:8081/remote.php/dav/files/alice', 'http://127.0.0.1:8081/status.php'],
    ['http://nas.local:8080/webdav/share', 'http://nas.local:8080/status.php'],
    ['https://dav.example.com', 'https://dav.example.com/status.php'],
    ['https://cloud.example.com/remote.php/dav/files/a%20b', 'https://cloud.example.com/status.php'],
  ])('%s → %s', (dav, status) => {
    expect(statusUrlFor(dav)).toBe(status);
  });

  test('never carries credentials, query or fragment of the WebDAV URL', () => {
    const u = statusUrlFor('https://alice:pw@cloud.example.com/remote.php/dav/files/alice?x=1#y');
    expect(u).toBe('https://cloud.example.com/status.php');
  });
});
