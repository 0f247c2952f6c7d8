import { joinPath, splitExtension, splitPath, StorageError, VersionMismatchError } from '../../../connector/src/storage/StorageAdapter.js';

describe('splitPath', () => {
  test.each([
    ['/a.docx', '/', 'a.docx'],
    ['/Docs/a.docx', '/Docs', 'a.docx'],
    ['/Docs/sub/a % b.docx', '/Docs/sub', 'a % b.docx'],
    ['/文档/报告 😀.docx', '/文档', '报告 😀.docx'],
    ['/', '/', ''],
  ])('%p → folder %p, name %p', (p, folder, name) => {
    expect(splitPath(p)).toEqual({ folder, name });
  });

  test('joinPath undoes splitPath', () => {
    for (const p of ['/a.docx', '/Docs/a.docx', '/x/y/z #1 & 2.xlsx', '/文档/报告.docx']) {
      const { folder, name } = splitPath(p);
      expect(joinPath(folder, name)).toBe(p);
    }
  });
});

describe('joinPath', () => {
  test('joins with exactly one slash', () => {
    expect(joinPath('/', 'a.docx')).toBe('/a.docx');
    expect(joinPath('/Docs', 'a.docx')).toBe('/Docs/a.docx');
    expect(joinPath('/Docs/', 'a.docx')).toBe('/Docs/a.docx');
  });
});

describe('splitExtension', () => {
  test.each([
    ['a.docx', 'a', '.docx'],
    ['a.b.docx', 'a.b', '.docx'],
    ['README', 'README', ''],
    ['.bashrc', '.bashrc', ''],
    ['archive.tar.gz', 'archive.tar', '.gz'],
    ['报告.xlsx', '报告', '.xlsx'],
    ['', '', ''],
  ])('%p → [%p, %p]', (name, base, ext) => {
    expect(splitExtension(name)).toEqual([base, ext]);
    expect(base + ext).toBe(name);
  });
});

describe('StorageError', () => {
  test('carries kind and detail; VersionMismatchError is a conflict with the current version', () => {
    const e = new StorageError('locked', 'Locked on the drive', { status: 423 });
    expect(e).toBeInstanceOf(Error);
    expect(e.kind).toBe('locked');
    expect(e.detail).toEqual({ status: 423 });
    const v = new VersionMismatchError('etag2', '/a (conflict).docx');
    expect(v).toBeInstanceOf(StorageError);
    expect(v.kind).toBe('conflict');
    expect(v.currentVersion).toBe('etag2');
    expect(v.keptAt).toBe('/a (conflict).docx');
  });
});
