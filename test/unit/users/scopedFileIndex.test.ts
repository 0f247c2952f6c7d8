import { MemoryStateStore } from '../../../connector/src/state/MemoryStateStore.js';
import { FileIndex } from '../../../connector/src/files/FileIndex.js';
import { StorageError, type FileInfo, type StorageAdapter } from '../../../connector/src/storage/StorageAdapter.js';

const info = (p: string, upstreamId: string | null = null): FileInfo => ({
  path: p,
  name: p.split('/').pop() ?? '',
  isDirectory: false,
  size: 1,
  version: 'v1',
  lastModified: new Date(0),
  upstreamId,
  permissions: { canWrite: true, canRename: true, canDelete: true },
});

/** A drive with fixed files (path → drive id), enough for FileIndex. */
function drive(files: Record<string, string | null>): StorageAdapter {
  return {
    flavour: 'nextcloud',
    async stat(p: string) {
      if (!(p in files)) throw new StorageError('not_found', 'Not found');
      return info(p, files[p] ?? null);
    },
    async findByUpstreamId(id: string) {
      return Object.entries(files).find(([, v]) => v === id)?.[0] ?? null;
    },
  } as unknown as StorageAdapter;
}

describe('FileIndex scopes (one per WebDAV root)', () => {
  test('scope \'\' reads the keys written before scopes existed', async () => {
    const state = new MemoryStateStore();
    await state.set('fileid', 'fOld', '/Old.docx');
    await state.set('filepath', '/Old.docx', 'fOld');
    const files = new FileIndex(state, drive({ '/Old.docx': null }));
    expect(await files.pathOf('fOld')).toBe('/Old.docx');
    expect(await files.idFor(info('/Old.docx'))).toBe('fOld');
  });

  test('the same path in two roots gets two ids, each unknown in the other root', async () => {
    const state = new MemoryStateStore();
    const alice = new FileIndex(state, drive({ '/Report.docx': null }), 'aaaa');
    const bob = new FileIndex(state, drive({ '/Report.docx': null }), 'bbbb');
    const a = await alice.idFor(info('/Report.docx'));
    const b = await bob.idFor(info('/Report.docx'));
    expect(a).not.toBe(b);
    expect(await alice.pathOf(a)).toBe('/Report.docx');
    await expect(bob.pathOf(a)).rejects.toMatchObject({ status: 404 });
    await expect(alice.pathOf(b)).rejects.toMatchObject({ status: 404 });
    await expect(new FileIndex(state, drive({}), '').pathOf(a)).rejects.toMatchObject({ status: 404 });
  });

  test('a drive id is the same for everyone, with each person\'s own path (a shared file)', async () => {
    const state = new MemoryStateStore();
    const alice = new FileIndex(state, drive({ '/Team/Plan.docx': '85' }), 'aaaa');
    const bob = new FileIndex(state, drive({ '/Shared with me/Plan.docx': '85' }), 'bbbb');
    const carol = new FileIndex(state, drive({}), 'cccc');
    expect(await alice.idFor(info('/Team/Plan.docx', '85'))).toBe('n85');
    // Bob never listed it, but his own drive finds it by its id.
    expect(await bob.pathOf('n85')).toBe('/Shared with me/Plan.docx');
    expect((await bob.resolve('n85')).path).toBe('/Shared with me/Plan.docx');
    expect(await alice.pathOf('n85')).toBe('/Team/Plan.docx');
    // Carol's drive does not have it: not found.
    await expect(carol.pathOf('n85')).rejects.toMatchObject({ status: 404 });
  });

  test('renames and deletes stay in their scope', async () => {
    const state = new MemoryStateStore();
    const alice = new FileIndex(state, drive({ '/a.docx': null }), 'aaaa');
    const bob = new FileIndex(state, drive({ '/a.docx': null }), 'bbbb');
    const a = await alice.idFor(info('/a.docx'));
    const b = await bob.idFor(info('/a.docx'));
    await alice.moved(a, '/a.docx', '/b.docx');
    expect(await alice.pathOf(a)).toBe('/b.docx');
    expect(await bob.pathOf(b)).toBe('/a.docx');
    await alice.forget(a, '/b.docx');
    await expect(alice.pathOf(a)).rejects.toMatchObject({ status: 404 });
    expect(await bob.idFor(info('/a.docx'))).toBe(b);
  });
});

describe('FileIndex: a bridge-assigned id whose file is briefly missing', () => {
  test('found on the second look when another instance was replacing it (non-atomic MOVE on generic WebDAV)', async () => {
    const state = new MemoryStateStore();
    let stats = 0;
    const storage = {
      flavour: 'generic',
      async stat(p: string) {
        stats++;
        if (stats === 1) throw new StorageError('not_found', 'Not found'); // the MOVE window
        return info(p);
      },
    } as unknown as StorageAdapter;
    const files = new FileIndex(state, storage);
    const id = await files.idFor(info('/Report.docx'));
    expect((await files.resolve(id)).path).toBe('/Report.docx');
    expect(stats).toBe(2);
  });

  test('found at its new path when another instance renamed it in between', async () => {
    const state = new MemoryStateStore();
    const present = new Set(['/Old.docx']);
    const storage = {
      flavour: 'generic',
      async stat(p: string) {
        if (!present.has(p)) throw new StorageError('not_found', 'Not found');
        return info(p);
      },
    } as unknown as StorageAdapter;
    const mine = new FileIndex(state, storage);
    const theirs = new FileIndex(state, storage);
    const id = await mine.idFor(info('/Old.docx'));
    // the other instance renames it after this one read the map, before it asked the drive
    const pathOf = mine.pathOf.bind(mine);
    let first = true;
    mine.pathOf = async (x: string) => {
      const p = await pathOf(x);
      if (first) {
        first = false;
        present.delete('/Old.docx');
        present.add('/New.docx');
        await theirs.moved(id, '/Old.docx', '/New.docx');
      }
      return p;
    };
    expect((await mine.resolve(id)).path).toBe('/New.docx');
  });

  test('still gone on the second look: 404 as before', async () => {
    const state = new MemoryStateStore();
    const files = new FileIndex(state, drive({}));
    await state.set('fileid', 'fGone', '/Gone.docx');
    await expect(files.resolve('fGone')).rejects.toMatchObject({ status: 404 });
  });
});
