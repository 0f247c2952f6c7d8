import iconv from 'iconv-lite';
import { DRIVE_TARGETS, rawDrive, startBridgeOn, type TestBridge } from '../../helpers/testBridge.js';

const utf7 = (s: string): string => iconv.encode(s, 'utf-7').toString('ascii');
type Opened = Awaited<ReturnType<TestBridge['open']>>;

describe.each(DRIVE_TARGETS)('PutRelativeFile, RenameFile, DeleteFile, PutUserInfo on %s', (target) => {
  let tb: TestBridge;
  let n = 0;
  beforeAll(async () => {
    tb = await startBridgeOn(target);
  });
  afterAll(async () => {
    await tb.stop();
  });

  async function source(name: string, content = 'source'): Promise<Opened & { folder: string }> {
    const folder = `/t${++n}`;
    await fetch(`${(tb.bridge.runtime.embedded?.url ?? tb.config.storage.url) as string}${folder}`, {
      method: 'MKCOL',
      headers: { Authorization: `Basic ${Buffer.from(`${tb.bridge.runtime.embedded?.username ?? tb.config.storage.username}:${tb.bridge.runtime.embedded?.password ?? tb.config.storage.password}`).toString('base64')}` },
    });
    await rawDrive(tb).put(`${folder}/${name}`, Buffer.from(content));
    return { ...(await tb.open(`${folder}/${name}`)), folder };
  }
  const post = (f: Opened, override: string, headers: Record<string, string> = {}, body?: string): Promise<Response> =>
    fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': override, ...headers }, ...(body !== undefined ? { body } : {}) });

  describe('PutRelativeFile', () => {
    test('suggested mode: a UTF-7 name with Chinese and emoji is created beside the source; Url, HostViewUrl, HostEditUrl answer', async () => {
      const f = await source('Report.docx');
      const res = await post(f, 'PUT_RELATIVE', { 'X-WOPI-SuggestedTarget': utf7('报告 😀.docx') }, 'new bytes');
      expect(res.status).toBe(200);
      const body = (await res.json()) as { Name: string; Url: string; HostViewUrl: string; HostEditUrl: string };
      expect(body.Name).toBe('报告 😀.docx');
      expect((await rawDrive(tb).get(`${f.folder}/报告 😀.docx`))?.toString()).toBe('new bytes');
      const info = (await (await fetch(body.Url)).json()) as Record<string, unknown>;
      expect(info.BaseFileName).toBe('报告 😀.docx');
      expect(new URL(body.Url).pathname).toMatch(/^\/wopi\/files\/[0-9A-Za-z_-]+$/);
      expect(body.HostEditUrl).toMatch(/\/open\/.+action=edit$/);
      expect(body.HostViewUrl).toMatch(/\/open\/.+action=view$/);
    });

    test('suggested mode never fails on a clash or a bad name; a bare extension means "same name, that extension"', async () => {
      const f = await source('Plan.docx');
      const clash = (await (await post(f, 'PUT_RELATIVE', { 'X-WOPI-SuggestedTarget': utf7('Plan.docx') }, 'a')).json()) as { Name: string };
      expect(clash.Name).toBe('Plan (2).docx');
      const ext = (await (await post(f, 'PUT_RELATIVE', { 'X-WOPI-SuggestedTarget': '.pdf' }, 'pdf')).json()) as { Name: string };
      expect(ext.Name).toBe('Plan.pdf');
      const bad = await post(f, 'PUT_RELATIVE', { 'X-WOPI-SuggestedTarget': utf7('a/b\\c.docx') }, 'b');
      expect(bad.status).toBe(200);
      expect(((await bad.json()) as { Name: string }).Name).toBe('a_b_c.docx');
      expect((await rawDrive(tb).get(`${f.folder}/Plan.docx`))?.toString()).toBe('source');
    });

    test('X-WOPI-FileConversion: the converted file is written next to the source', async () => {
      const f = await source('Old.doc');
      const res = await post(f, 'PUT_RELATIVE', { 'X-WOPI-SuggestedTarget': '.docx', 'X-WOPI-FileConversion': 'true' }, 'converted');
      expect(res.status).toBe(200);
      expect(((await res.json()) as { Name: string }).Name).toBe('Old.docx');
      expect((await rawDrive(tb).get(`${f.folder}/Old.docx`))?.toString()).toBe('converted');
    });

    test('relative mode: exact name; existing target 409 without overwrite, replaced with it, 409 with its lock when locked', async () => {
      const f = await source('A.docx');
      expect((await post(f, 'PUT_RELATIVE', { 'X-WOPI-RelativeTarget': utf7('B.docx') }, 'b1')).status).toBe(200);
      const exists = await post(f, 'PUT_RELATIVE', { 'X-WOPI-RelativeTarget': utf7('B.docx') }, 'b2');
      expect(exists.status).toBe(409);
      expect(exists.headers.get('x-wopi-lock')).toBe('');
      expect(exists.headers.get('x-wopi-validrelativetarget')).toBe(utf7('B (2).docx'));
      expect((await rawDrive(tb).get(`${f.folder}/B.docx`))?.toString()).toBe('b1');
      const over = await post(f, 'PUT_RELATIVE', { 'X-WOPI-RelativeTarget': utf7('B.docx'), 'X-WOPI-OverwriteRelativeTarget': 'true' }, 'b3');
      expect(over.status).toBe(200);
      expect((await rawDrive(tb).get(`${f.folder}/B.docx`))?.toString()).toBe('b3');
      const b = await tb.open(`${f.folder}/B.docx`);
      expect((await post(b, 'LOCK', { 'X-WOPI-Lock': 'held' })).status).toBe(200);
      const locked = await post(f, 'PUT_RELATIVE', { 'X-WOPI-RelativeTarget': utf7('B.docx'), 'X-WOPI-OverwriteRelativeTarget': 'true' }, 'b4');
      expect(locked.status).toBe(409);
      expect(locked.headers.get('x-wopi-lock')).toBe('held');
      expect((await rawDrive(tb).get(`${f.folder}/B.docx`))?.toString()).toBe('b3');
    });

    test('400: both mode headers, neither, an illegal relative name (with X-WOPI-InvalidFileNameError); 501 for a view-only token', async () => {
      const f = await source('C.docx');
      expect((await post(f, 'PUT_RELATIVE', { 'X-WOPI-SuggestedTarget': '.pdf', 'X-WOPI-RelativeTarget': 'x.pdf' }, 'x')).status).toBe(400);
      expect((await post(f, 'PUT_RELATIVE', {}, 'x')).status).toBe(400);
      const illegal = await post(f, 'PUT_RELATIVE', { 'X-WOPI-RelativeTarget': utf7('../escape.docx') }, 'x');
      expect(illegal.status).toBe(400);
      expect(illegal.headers.get('x-wopi-invalidfilenameerror')).toBeTruthy();
      const view = await tb.open(`${f.folder}/C.docx`, { canWrite: false });
      expect((await post(view, 'PUT_RELATIVE', { 'X-WOPI-SuggestedTarget': '.pdf' }, 'x')).status).toBe(501);
      expect((await rawDrive(tb).list(f.folder)).sort()).toEqual(['C.docx']);
    });
  });

  describe('RenameFile', () => {
    test('renames (UTF-7, extension kept), answers {Name} without extension; same id, lock kept', async () => {
      const f = await source('Draft.docx');
      expect((await post(f, 'LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
      const res = await post(f, 'RENAME_FILE', { 'X-WOPI-Lock': 'L', 'X-WOPI-RequestedName': utf7('终稿 ✅') });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ Name: '终稿 ✅' });
      expect(((await (await fetch(f.url())).json()) as Record<string, unknown>).BaseFileName).toBe('终稿 ✅.docx');
      expect((await rawDrive(tb).get(`${f.folder}/终稿 ✅.docx`))?.toString()).toBe('source');
      expect((await post(f, 'GET_LOCK')).headers.get('x-wopi-lock')).toBe('L');
      expect((await tb.open(`${f.folder}/终稿 ✅.docx`)).fileId).toBe(f.fileId);
      expect((await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body: 'saved after rename' })).status).toBe(200);
      expect((await rawDrive(tb).get(`${f.folder}/终稿 ✅.docx`))?.toString()).toBe('saved after rename');
    });

    test('409 with the lock on a lock mismatch; a taken name gets " (2)"; an unlocked file is renamed', async () => {
      const f = await source('One.xlsx');
      await rawDrive(tb).put(`${f.folder}/Two.xlsx`, Buffer.from('other'));
      expect((await post(f, 'LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
      const mismatch = await post(f, 'RENAME_FILE', { 'X-WOPI-Lock': 'wrong', 'X-WOPI-RequestedName': 'Two' });
      expect(mismatch.status).toBe(409);
      expect(mismatch.headers.get('x-wopi-lock')).toBe('L');
      expect((await post(f, 'UNLOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
      const res = await post(f, 'RENAME_FILE', { 'X-WOPI-RequestedName': 'Two' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ Name: 'Two (2)' });
      expect((await rawDrive(tb).get(`${f.folder}/Two.xlsx`))?.toString()).toBe('other');
    });

    test('400 with X-WOPI-InvalidFileNameError for a name the drive cannot hold; 400 without X-WOPI-RequestedName', async () => {
      const f = await source('Keep.docx');
      for (const bad of ['a/b', '', '  ', 'x'.repeat(300)]) {
        const res = await post(f, 'RENAME_FILE', { 'X-WOPI-RequestedName': utf7(bad) });
        expect(res.status).toBe(400);
        expect(res.headers.get('x-wopi-invalidfilenameerror')).toBeTruthy();
      }
      expect((await post(f, 'RENAME_FILE')).status).toBe(400);
      expect(await rawDrive(tb).list(f.folder)).toEqual(['Keep.docx']);
    });
  });

  describe('DeleteFile', () => {
    test('409 with the lock when locked; deletes when unlocked; 404 when gone', async () => {
      const f = await source('Bin.pptx');
      expect((await post(f, 'LOCK', { 'X-WOPI-Lock': 'L' })).status).toBe(200);
      const locked = await post(f, 'DELETE');
      expect(locked.status).toBe(409);
      expect(locked.headers.get('x-wopi-lock')).toBe('L');
      expect(await rawDrive(tb).get(`${f.folder}/Bin.pptx`)).not.toBeNull();
      await post(f, 'UNLOCK', { 'X-WOPI-Lock': 'L' });
      expect((await post(f, 'DELETE')).status).toBe(200);
      expect(await rawDrive(tb).get(`${f.folder}/Bin.pptx`)).toBeNull();
      expect((await post(f, 'DELETE')).status).toBe(404);
      expect((await fetch(f.url())).status).toBe(404);
    });
  });

  describe('PutUserInfo', () => {
    test('stored per user and returned in CheckFileInfo UserInfo; over 1024 bytes is 400', async () => {
      const f = await source('Info.docx');
      expect((await post(f, 'PUT_USER_INFO', {}, '{"theme":"dark"}')).status).toBe(200);
      expect(((await (await fetch(f.url())).json()) as Record<string, unknown>).UserInfo).toBe('{"theme":"dark"}');
      const bob = await tb.open(`${f.folder}/Info.docx`, { user: 'bob' });
      expect(((await (await fetch(bob.url())).json()) as Record<string, unknown>).UserInfo).toBeUndefined();
      expect((await post(f, 'PUT_USER_INFO', {}, 'x'.repeat(1025))).status).toBe(400);
    });
  });
});
