import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DRIVE_TARGETS, rawDrive, startBridgeOn, type TestBridge } from '../../helpers/testBridge.js';
import { DS_CAPTURES, loadDsRequest, replayDsRequest } from '../../helpers/docService.js';

const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');

// The real DocService editing session (s7: CheckFileInfo, LOCK, GetFile, REFRESH_LOCK x3, UNLOCK) with the exit
// save (PutFile with X-LOOL-WOPI-* headers) that DS sends before UNLOCK when there are changes (reference §1.3–1.4).
describe.each(DRIVE_TARGETS)('DocService sequence on %s', (target) => {
  let tb: TestBridge;
  beforeAll(async () => {
    tb = await startBridgeOn(target);
  });
  afterAll(async () => {
    await tb.stop();
  });

  test('open, lock, download, refresh, exit save and unlock leave the edited bytes on the drive, unlocked', async () => {
    const drive = rawDrive(tb);
    const original = Buffer.from('original content of the document');
    expect(await drive.put('/Session.docx', original)).toBeLessThan(300);
    const { src, token, fileId } = await tb.open('/Session.docx');

    const cfi = await replayDsRequest(loadDsRequest('s7-editor-session-file1-01-CheckFileInfo.http'), src, token);
    expect(cfi.status).toBe(200);
    expect(cfi.headers.get('content-type')).toMatch(/^application\/json/);
    const info = (await cfi.json()) as Record<string, unknown>;
    expect(info).toMatchObject({ BaseFileName: 'Session.docx', Size: original.length, UserCanWrite: true, ReadOnly: false, SupportsLocks: true, SupportsUpdate: true });
    expect(typeof info.Version).toBe('string');
    expect(Object.values(info)).not.toContain(null);
    // A second CheckFileInfo of the unchanged file gives the same Version and LastModifiedTime strings (DS cache key).
    const again = (await (await replayDsRequest(loadDsRequest('s7-editor-session-file1-01-CheckFileInfo.http'), src, token)).json()) as Record<string, unknown>;
    expect([again.Version, again.LastModifiedTime]).toEqual([info.Version, info.LastModifiedTime]);

    // DS's lock id is the document key = the last segment of WOPISrc.
    const lockHeaders = { 'X-WOPI-Lock': fileId };
    const lock = await replayDsRequest(loadDsRequest('s7-editor-session-file1-02-LOCK.http'), src, token, { headers: lockHeaders });
    expect(lock.status).toBe(200);
    expect(lock.headers.get('x-wopi-lock')).toBeNull();

    const get = await replayDsRequest(loadDsRequest('s7-editor-session-file1-03-GetFile.http'), src, token);
    expect(get.status).toBe(200);
    expect(get.headers.get('x-wopi-itemversion')).toBe(info.Version);
    expect(sha(Buffer.from(await get.arrayBuffer()))).toBe(sha(original));

    for (const n of ['04', '05', '06']) {
      const refresh = await replayDsRequest(loadDsRequest(`s7-editor-session-file1-${n}-REFRESH_LOCK.http`), src, token, { headers: lockHeaders });
      expect(refresh.status).toBe(200);
    }

    const edited = Buffer.from('edited content, longer than the original one');
    const put = await replayDsRequest(loadDsRequest('s2-edit-file2-empty-02-PutFile.http'), src, token, {
      headers: {
        ...lockHeaders,
        'X-LOOL-WOPI-IsModifiedByUser': 'true',
        'X-LOOL-WOPI-IsAutosave': 'false',
        'X-LOOL-WOPI-IsExitSave': 'true',
        'X-LOOL-WOPI-Timestamp': String(info.LastModifiedTime),
      },
      body: edited,
    });
    expect(put.status).toBe(200);
    const putBody = (await put.json()) as { LastModifiedTime: string };
    expect(Number.isNaN(Date.parse(putBody.LastModifiedTime))).toBe(false);
    const newVersion = put.headers.get('x-wopi-itemversion');
    expect(newVersion).not.toBeNull();
    expect(newVersion).not.toBe(info.Version);

    const unlock = await replayDsRequest(loadDsRequest('s7-editor-session-file1-07-UNLOCK.http'), src, token, { headers: lockHeaders });
    expect(unlock.status).toBe(200);

    expect(sha((await drive.get('/Session.docx')) as Buffer)).toBe(sha(edited));
    const getLock = await fetch(`${src}?access_token=${token}`, { method: 'POST', headers: { 'X-WOPI-Override': 'GET_LOCK' } });
    expect(getLock.status).toBe(200);
    expect(getLock.headers.get('x-wopi-lock')).toBe('');
    // CheckFileInfo now reports the new version.
    const after = (await (await fetch(`${src}?access_token=${token}`)).json()) as Record<string, unknown>;
    expect(after.Version).toBe(newVersion);
    expect(after.Size).toBe(edited.length);
  });

  test('new document: DS PutFiles its template without a lock into the 0-byte file, then locks it', async () => {
    const drive = rawDrive(tb);
    expect(await drive.put('/New document.docx', Buffer.alloc(0))).toBeLessThan(300);
    const { src, token, fileId } = await tb.open('/New document.docx');
    const cfi = (await (await replayDsRequest(loadDsRequest('s2-edit-file2-empty-01-CheckFileInfo.http'), src, token)).json()) as Record<string, unknown>;
    expect(cfi.Size).toBe(0);

    const template = readFileSync(path.join(DS_CAPTURES, 's2-edit-file2-empty-02-PutFile.body.docx'));
    const put = await replayDsRequest(loadDsRequest('s2-edit-file2-empty-02-PutFile.http'), src, token, { body: template });
    expect(put.status).toBe(200);
    expect(sha((await drive.get('/New document.docx')) as Buffer)).toBe(sha(template));

    const lock = await replayDsRequest(loadDsRequest('s2-edit-file2-empty-03-LOCK.http'), src, token, { headers: { 'X-WOPI-Lock': fileId } });
    expect(lock.status).toBe(200);

    // The same unlocked PutFile on the now non-empty (and locked) file is refused and changes nothing.
    const second = await replayDsRequest(loadDsRequest('s2-edit-file2-empty-02-PutFile.http'), src, token, { body: Buffer.from('other') });
    expect(second.status).toBe(409);
    expect(second.headers.get('x-wopi-lock')).toBe(fileId);
    expect(sha((await drive.get('/New document.docx')) as Buffer)).toBe(sha(template));
  });
});
