import { Readable } from 'node:stream';
import { assertSafePath, normaliseEtag, readBodyText } from '../../../../connector/src/storage/webdav/WebdavStorage.js';
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

describe('readBodyText (PROPFIND and SEARCH answers)', () => {
  const answer = (chunks: Array<Buffer | string>): Readable => Readable.from(chunks.map((c) => Buffer.from(c)));

  test('joins the chunks as UTF-8, also a character split across chunks, and re-arms the idle timer on each', async () => {
    const euro = Buffer.from('€');
    let armed = 0;
    const text = await readBodyText(answer(['<d:multistatus>', euro.subarray(0, 1), euro.subarray(1), '</d:multistatus>']), () => armed++, 1000);
    expect(text).toBe('<d:multistatus>€</d:multistatus>');
    expect(armed).toBe(4);
  });

  test('garbage bytes (invalid UTF-8, NUL) give replacement characters, not a failure', async () => {
    const text = await readBodyText(answer([Buffer.from([0xff, 0xfe, 0x00, 0xc3])]), () => undefined, 1000);
    expect(text).toBe('\ufffd\ufffd\u0000\ufffd');
  });

  test('an answer above the limit fails with unavailable instead of filling memory', async () => {
    const e = await readBodyText(answer(['x'.repeat(600), 'y'.repeat(600)]), () => undefined, 1000).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(StorageError);
    expect((e as StorageError).kind).toBe('unavailable');
  });

  test('no body is an empty answer', async () => {
    expect(await readBodyText(null, () => undefined, 1000)).toBe('');
  });
});
