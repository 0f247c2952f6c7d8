import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { issueAccessToken } from '../../../connector/src/tokens/accessToken.js';
import { rawDrive, startTestBridge, TEST_SECRETS, type TestBridge } from '../../helpers/testBridge.js';

/** UTF-7 is plain ASCII for these names. */
const ASCII_NAME = 'Renamed';

/** Every WOPI operation, as a request on a file's WOPISrc with a given token. */
const OPERATIONS: Array<[op: string, send: (src: string, token: string) => Promise<Response>]> = (() => {
  const q = (token: string): string => `?access_token=${encodeURIComponent(token)}`;
  const post = (override: string, headers: Record<string, string> = {}, body?: string) => (src: string, token: string) =>
    fetch(`${src}${q(token)}`, { method: 'POST', headers: { 'X-WOPI-Override': override, ...headers }, ...(body !== undefined ? { body } : {}) });
  return [
    ['CheckFileInfo', (src, token) => fetch(`${src}${q(token)}`)],
    ['GetFile', (src, token) => fetch(`${src}/contents${q(token)}`)],
    ['PutFile', (src, token) => fetch(`${src}/contents${q(token)}`, { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'held' }, body: 'overwritten' })],
    ['Lock', post('LOCK', { 'X-WOPI-Lock': 'stolen' })],
    ['UnlockAndRelock', post('LOCK', { 'X-WOPI-Lock': 'stolen', 'X-WOPI-OldLock': 'held' })],
    ['RefreshLock', post('REFRESH_LOCK', { 'X-WOPI-Lock': 'held' })],
    ['Unlock', post('UNLOCK', { 'X-WOPI-Lock': 'held' })],
    ['GetLock', post('GET_LOCK')],
    ['PutRelativeFile', post('PUT_RELATIVE', { 'X-WOPI-SuggestedTarget': '.copy.docx' }, 'copied')],
    ['RenameFile', post('RENAME_FILE', { 'X-WOPI-Lock': 'held', 'X-WOPI-RequestedName': ASCII_NAME })],
    ['DeleteFile', post('DELETE')],
    ['PutUserInfo', post('PUT_USER_INFO', {}, 'injected')],
  ];
})();

// What a token lets its holder do, over every WOPI operation (MS-WOPI: 401 for a token that is not valid for the
// request). badInput.test.ts covers the token forms (alg none, HS512, other secret…) on four operations; here each
// refusal is checked on all of them, with the target file, its lock and its folder unchanged afterwards.
describe('WOPI access control: a token reaches its own file only, and only as far as it allows', () => {
  let tb: TestBridge;
  type Opened = Awaited<ReturnType<TestBridge['open']>>;
  let a: Opened;
  let b: Opened;
  const FOLDER = '/acl';
  const B_BYTES = 'file B, untouched';

  /** B's bytes, lock and folder as they must stay. */
  const expectBUnchanged = async (): Promise<void> => {
    expect((await rawDrive(tb).get(`${FOLDER}/B.docx`))?.toString()).toBe(B_BYTES);
    expect((await rawDrive(tb).list(FOLDER)).sort()).toEqual(['A.docx', 'B.docx']);
    const lock = await fetch(b.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'GET_LOCK' } });
    expect(lock.headers.get('x-wopi-lock')).toBe('held');
  };

  beforeAll(async () => {
    tb = await startTestBridge();
    const drive = rawDrive(tb);
    // A folder of their own, so its listing shows whether anything was added, renamed or deleted.
    await mkdir(path.join(tb.config.embedded.filesDir, FOLDER), { recursive: true });
    await drive.put(`${FOLDER}/A.docx`, Buffer.from('file A'));
    await drive.put(`${FOLDER}/B.docx`, Buffer.from(B_BYTES));
    a = await tb.open(`${FOLDER}/A.docx`);
    b = await tb.open(`${FOLDER}/B.docx`);
    expect((await fetch(b.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'held' } })).status).toBe(200);
  });
  afterAll(async () => {
    await tb?.stop();
  });

  test("file A's token on file B: 401 for every operation, B unchanged", async () => {
    const statuses: Array<[string, number]> = [];
    for (const [op, send] of OPERATIONS) {
      const res = await send(b.src, a.token);
      const body = await res.text();
      statuses.push([op, res.status]);
      expect(body).not.toContain(a.token);
    }
    expect(statuses).toEqual(OPERATIONS.map(([op]) => [op, 401]));
    await expectBUnchanged();
    // A's own token still works on A (the refusals were about the file, not the token).
    expect((await fetch(a.url())).status).toBe(200);
  });

  test('a view-only token reads; writes and lock operations are refused (401, PutRelativeFile 501 as MS-WOPI asks), nothing changes', async () => {
    const view = await tb.open(`${FOLDER}/B.docx`, { canWrite: false });
    const info = (await (await fetch(view.url())).json()) as Record<string, unknown>;
    // What DS reads to offer (or not) editing, Save As and Rename.
    expect(info).toMatchObject({ UserCanWrite: false, ReadOnly: true, UserCanNotWriteRelative: true, UserCanRename: false });
    const expected: Record<string, number> = {
      CheckFileInfo: 200,
      GetFile: 200,
      // Every lock operation, GetLock included, needs a write token: a viewer takes part in no lock handover.
      // MS-WOPI: a host that does not let this user PutRelativeFile sets UserCanNotWriteRelative and answers 501.
      PutRelativeFile: 501,
      // The user's own UserInfo blob (MS-WOPI PutUserInfo): not a write to the file, allowed to viewers.
      PutUserInfo: 200,
    };
    const statuses: Array<[string, number]> = [];
    for (const [op, send] of OPERATIONS) statuses.push([op, (await send(view.src, view.token)).status]);
    expect(statuses).toEqual(OPERATIONS.map(([op]) => [op, expected[op] ?? 401]));
    await expectBUnchanged();
  });

  test('expired and tampered tokens: 401 for every operation, nothing changes', async () => {
    const expired = issueAccessToken(TEST_SECRETS.tokenSecret, { userId: 'alice', fileId: b.fileId, canWrite: true }, 60, Date.now() - 2 * 3600_000).token;
    const view = await tb.open(`${FOLDER}/B.docx`, { canWrite: false });
    const [h, p, s] = view.token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const reencode = (c: Record<string, unknown>): string => Buffer.from(JSON.stringify(c)).toString('base64url');
    const bad: Array<[string, string]> = [
      ['expired', expired],
      ['view-only token turned into a write token', `${h}.${reencode({ ...claims, w: 1 })}.${s}`],
      ["A's token pointed at B", (() => {
        const [ah, ap, as] = a.token.split('.') as [string, string, string];
        const ac = JSON.parse(Buffer.from(ap, 'base64url').toString()) as Record<string, unknown>;
        return `${ah}.${reencode({ ...ac, fid: b.fileId })}.${as}`;
      })()],
      ['expiry pushed back', `${h}.${reencode({ ...claims, exp: Math.floor(Date.now() / 1000) + 86_400 * 365 })}.${s}`],
      ['signature cut short', `${h}.${p}.${s.slice(0, -4)}`],
    ];
    for (const [label, token] of bad) {
      const statuses: Array<[string, number]> = [];
      for (const [op, send] of OPERATIONS) statuses.push([op, (await send(b.src, token)).status]);
      expect([label, statuses]).toEqual([label, OPERATIONS.map(([op]) => [op, 401])]);
    }
    await expectBUnchanged();
  });
});
