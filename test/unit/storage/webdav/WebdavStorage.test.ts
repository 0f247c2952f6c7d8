import { assertSafePath, normaliseEtag } from '../../../../connector/src/storage/webdav/WebdavStorage.js';
import { StorageError } from '../../../../connector/src/storage/StorageAdapter.js';

describe('normaliseEtag', () => {
  test.each([
    ['"309cfcb263cc66e5fd690ee22453da2e"', '309cfcb263cc66e5fd690ee22453da2e'], // Nextcloud getetag / ETag
    ['W/"abc-123"', 'abc-123'], // weak (Apache)
    ['abc', 'abc'], // unquoted (some servers)
    ['  "abc"  ', 'abc'],
    ['"a"b"', 'a"b'],
  ])('%p → %p', (raw, v) => {
    expect(normaliseEtag(raw)).toBe(v);
  });

  test.each([[null], [undefined], [''], ['""'], ['W/""'], ['   ']])('%p → null', (raw) => {
    expect(normaliseEtag(raw)).toBeNull();
  });

  test('the quoted and unquoted forms of one ETag compare equal after normalising', () => {
    expect(normaliseEtag('"e1"')).toBe(normaliseEtag('e1'));
    expect(normaliseEtag('W/"e1"')).toBe(normaliseEtag('"e1"'));
  });
});

describe('assertSafePath', () => {
  test.each([
    '/',
    '/a.docx',
    '/Docs/a b.docx',
    '/a % b.docx',
    '/R&D/Q&A.docx',
    '/#1 report.docx',
    '/what?.docx',
    '/文档/报告.docx',
    '/emoji 😀/🎉.xlsx',
    "/it's (copy) [2].docx",
    '/..hidden',
    '/a..b.docx',
    '/.config',
  ])('accepts %p', (p) => {
    expect(() => assertSafePath(p)).not.toThrow();
  });

  test.each([
    ['a parent segment', '/../etc/passwd'],
    ['a parent segment in the middle', '/Docs/../../x'],
    ['a trailing parent segment', '/Docs/..'],
    ['a dot segment', '/./a.docx'],
    ['a trailing dot segment', '/Docs/.'],
    ['an empty segment', '/Docs//a.docx'],
    ['a trailing slash', '/Docs/'],
    ['a relative path', 'a.docx'],
    ['the empty path', ''],
    ['NUL', '/a\u0000.docx'],
    ['a newline', '/a\nb.docx'],
    ['a carriage return', '/a\rb.docx'],
    ['a tab', '/a\tb.docx'],
    ['DEL', '/a\u007fb.docx'],
    ['ESC', '/a\u001bb.docx'],
  ])('refuses %s with a forbidden StorageError', (_what, p) => {
    let err: unknown;
    try {
      assertSafePath(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe('forbidden');
  });
});
