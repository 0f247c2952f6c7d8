/**
 * The whole browser flow in Debian's chromium (playwright-core) against a real bridge and the DocumentServer double
 * playing the editor, on the embedded drive (service sign-in) and on rclone's independent WebDAV server (sign-in
 * with the drive's own credentials): sign in, list a folder, open a document → the double receives the POSTed form
 * and calls CheckFileInfo, Lock and GetFile through the bridge; create a new document → the double fills the 0-byte
 * file with a PutFile without lock (editnew). No access token in any URL the browser visited, in any page other than
 * the host page's form, or in the bridge's logs. Screenshots of the file list and the host page go to test-artifacts/.
 */
import { createHash } from 'node:crypto';
import type { Page, Request } from 'playwright-core';
import { startDocServiceDouble, type DocServiceDouble, type EditorSession } from '../../helpers/docServiceDouble.js';
import { DRIVE_TARGETS, rawDrive, startBridgeOn, type DriveTarget, type TestBridge } from '../../helpers/testBridge.js';
import { PHONE, LAPTOP, horizontalOverflow, launchBrowser, recordResponses, screenshot, type TestBrowser } from '../browser.js';

declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- browser global

const T = 120_000;
const REPORT = Buffer.from('PK fake docx bytes of the quarterly report');

/** MKCOL on the bridge's drive, bypassing the bridge. */
async function mkcol(tb: TestBridge, folder: string): Promise<void> {
  const emb = tb.bridge.runtime.embedded;
  const base = emb?.url ?? (tb.config.storage.url as string);
  const user = emb?.username ?? tb.config.storage.username;
  const pass = emb?.password ?? tb.config.storage.password;
  const res = await fetch(base + folder.split('/').map(encodeURIComponent).join('/'), {
    method: 'MKCOL',
    headers: { Authorization: `Basic ${Buffer.from(`${user}:${pass ?? ''}`).toString('base64')}` },
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`MKCOL ${folder}: ${res.status}`);
}

/** Waits until the double has finished one more editor opening than `before`. */
async function nextEditorSession(ds: DocServiceDouble, page: Page, before: number): Promise<EditorSession> {
  await page.frameLocator('iframe[name="office_frame"]').locator('#editor-double').waitFor({ timeout: 30_000 });
  const s = ds.editorSessions[before];
  if (!s) throw new Error(`no editor session #${before + 1}`);
  return s;
}

describe.each(DRIVE_TARGETS)('editing from the browser on the %s drive', (target: DriveTarget) => {
  let ds: DocServiceDouble;
  let tb: TestBridge;
  let browser: TestBrowser;
  let page: Page;
  let responses: ReturnType<typeof recordResponses>;
  /** The editor session of the new document (still open: DS holds its lock). */
  let minutes: EditorSession | undefined;
  const visited: string[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    ds = await startDocServiceDouble({ editor: true });
    tb = await startBridgeOn(target, { DOCS_URL: ds.url, SIGN_IN_MODE: target === 'rclone' ? 'webdav' : 'service' });
    await mkcol(tb, '/Team docs');
    expect(await rawDrive(tb).put('/Team docs/Quarterly report.docx', REPORT)).toBeLessThan(300);
    expect(await rawDrive(tb).put('/Team docs/photo.xyz', Buffer.from('not a document'))).toBeLessThan(300);
    browser = await launchBrowser('en-US');
    page = browser.page;
    responses = recordResponses(page);
    browser.context.on('request', (r: Request) => visited.push(r.url()));
    page.on('framenavigated', (f) => visited.push(f.url()));
  }, T);

  afterAll(async () => {
    await browser?.close();
    await tb?.stop();
    await ds?.close();
  }, T);

  test('sign in, then the folder asked for', async () => {
    await page.goto(`${tb.url}/?path=${encodeURIComponent('/Team docs')}`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    await page.getByLabel(target === 'rclone' ? 'User name' : 'Your name').fill(target === 'rclone' ? (tb.config.storage.username as string) : 'Alice Example');
    if (target === 'rclone') await page.getByLabel('Password').fill(tb.config.storage.password as string);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Team docs' }).waitFor();
    const names = await page.locator('table.files tbody tr').evaluateAll((rows) => rows.map((r: any) => r.dataset.name));
    expect(names).toEqual(['photo.xyz', 'Quarterly report.docx']);
    expect(await page.locator('tr[data-name="Quarterly report.docx"] td.size').textContent()).toBe(`${REPORT.length} B`);
    expect(await page.locator('tr[data-name="photo.xyz"] a.open').count()).toBe(0);
    await screenshot(page, `web-file-list-${target}-laptop`, LAPTOP);
    await screenshot(page, `web-file-list-${target}-phone`, PHONE);
    expect(await horizontalOverflow(page, PHONE)).toBe(0);
  }, T);

  test('open a document: the form reaches DS, which calls CheckFileInfo, Lock and GetFile through the bridge', async () => {
    const before = ds.editorSessions.length;
    await page.getByRole('link', { name: 'Quarterly report.docx' }).click();
    const s = await nextEditorSession(ds, page, before);
    expect(s.path).toBe('/hosting/wopi/word/edit');
    expect(s.contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.keys(s.form).sort()).toEqual(['access_token', 'access_token_ttl']);
    expect(Number(s.form.access_token_ttl)).toBeGreaterThan(Date.now());
    expect(s.query.ui).toBe('en-US');
    tokens.push(s.form.access_token as string);
    expect(s.steps.map((x) => [x.op, x.status])).toEqual([
      ['CheckFileInfo', 200],
      ['Lock', 200],
      ['GetFile', 200],
    ]);
    expect(s.steps[2]?.sha256).toBe(createHash('sha256').update(REPORT).digest('hex'));
    expect(s.finalMode).toBe('edit');
    const info = s.steps[0]?.json ?? {};
    expect(info.BaseFileName).toBe('Quarterly report.docx');
    expect(info.CloseUrl).toBe(`${tb.config.publicUrl}/?path=${encodeURIComponent('/Team docs')}`);
    // The iframe fills the window; the page shows the editor, not the form.
    const frame = await page.locator('iframe[name="office_frame"]').boundingBox();
    expect(frame?.width).toBe(LAPTOP.width);
    expect(await page.locator('#office_form').isHidden()).toBe(true);
    await screenshot(page, `web-host-page-${target}`, LAPTOP);
  }, T);

  test('a file DS cannot open explains itself, with a way back', async () => {
    await page.goBack();
    await page.getByRole('heading', { name: 'Team docs' }).waitFor();
    const row = page.locator('tr[data-name="photo.xyz"]');
    const id = await row.locator('input[name="id"]').first().getAttribute('value');
    await page.goto(`${tb.url}/open/${id}`);
    await page.getByRole('heading', { name: 'Cannot open this file here' }).waitFor();
    await page.getByRole('link', { name: 'Back to the folder' }).click();
    await page.getByRole('heading', { name: 'Team docs' }).waitFor();
  }, T);

  test('new document: a 0-byte .docx, then DS fills it with a PutFile without lock (editnew)', async () => {
    const before = ds.editorSessions.length;
    await page.getByLabel('Type', { exact: true }).selectOption('docx');
    await page.getByLabel('Name', { exact: true }).fill('Minutes');
    await page.getByRole('button', { name: 'Create' }).click();
    const s = await nextEditorSession(ds, page, before);
    minutes = s;
    tokens.push(s.form.access_token as string);
    expect(s.steps.map((x) => [x.op, x.status])).toEqual([
      ['CheckFileInfo', 200],
      ['PutFile', 200],
      ['Lock', 200],
      ['GetFile', 200],
    ]);
    expect(s.steps[0]?.json?.Size).toBe(0);
    const put = s.steps[1];
    expect(Object.keys(put?.headers ?? {}).map((k) => k.toLowerCase())).not.toContain('x-wopi-lock');
    const stored = await rawDrive(tb).get('/Team docs/Minutes.docx');
    expect(stored?.length).toBe(put?.sentBytes);
    expect(s.steps[3]?.bytes).toBe(put?.sentBytes);
    expect(page.url()).toMatch(/\/open\/[A-Za-z0-9_-]+\?action=editnew$/);
  }, T);

  test('rename and delete from the list (with the confirm dialog; refused while the editor has the file open)', async () => {
    await page.goto(`${tb.url}/?path=${encodeURIComponent('/Team docs')}`);
    const row = page.locator('tr[data-name="Minutes.docx"]');
    await row.locator('summary').click();
    await row.getByLabel('New name for Minutes.docx').fill('Minutes 2026');
    await row.getByRole('button', { name: 'Save' }).click();
    await page.locator('tr[data-name="Minutes 2026.docx"]').waitFor();
    page.once('dialog', (d) => void d.dismiss());
    await page.getByRole('button', { name: 'Delete Minutes 2026.docx' }).click();
    expect(await page.locator('tr[data-name="Minutes 2026.docx"]').count()).toBe(1); // dismissed: still there
    // Still open in the editor (DS holds the lock): deleting it would lose the next save, so the page refuses.
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete Minutes 2026.docx' }).click();
    await page.getByText('is open in the editor').waitFor();
    expect(await rawDrive(tb).list('/Team docs')).toContain('Minutes 2026.docx');
    // The editor closes: DS unlocks the file.
    const lock = minutes?.steps.find((x) => x.op === 'Lock');
    const token = minutes?.form.access_token as string;
    const wopiUrl = `${lock?.url as string}?access_token=${encodeURIComponent(token)}`;
    const unlock = await fetch(wopiUrl, {
      method: 'POST',
      headers: { ...ds.signWopiRequest(wopiUrl, token), 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': lock?.headers['X-WOPI-Lock'] ?? lock?.headers['x-wopi-lock'] ?? '' },
    });
    expect(unlock.status).toBe(200);
    await page.goto(`${tb.url}/?path=${encodeURIComponent('/Team docs')}`);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete Minutes 2026.docx' }).click();
    await page.waitForFunction(() => document.querySelector('tr[data-name="Minutes 2026.docx"]') === null);
    expect(await rawDrive(tb).list('/Team docs')).not.toContain('Minutes 2026.docx');
  }, T);

  test('no access token in any URL the browser visited, in any page but the host page form, or in the logs', async () => {
    await responses.settled();
    expect(tokens).toHaveLength(2);
    for (const token of tokens) {
      expect(visited.filter((u) => u.includes(token) || /access_token/i.test(u))).toEqual([]);
      const carrying = responses.bodies.filter((b) => b.text.includes(token));
      expect(carrying).toHaveLength(1);
      const only = carrying[0];
      expect(new URL(only?.url ?? 'http://x/').pathname).toMatch(/^\/open\//);
      expect(only?.text.split(token)).toHaveLength(2);
      expect(only?.text).toContain(`name="access_token" value="${token}"`);
      expect(tb.logs.lines.filter((l) => l.includes(token))).toEqual([]);
    }
    expect(tb.logs.lines.filter((l) => l.includes('access_token='))).toEqual([]);
    // Browser history: only bridge pages and DS's editor entry, no token anywhere.
    const history = await page.evaluate(() => document.referrer as string);
    expect(history).toBe('');
  }, T);
});
