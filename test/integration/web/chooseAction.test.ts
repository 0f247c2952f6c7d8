/**
 * Choosing the editor action and building its URL, on the discovery captured from DocService 9.3.1; and the
 * discovery client against the DocumentServer double (ok, WOPI disabled, ipfilter, not XML, unreachable): each a
 * clear error the host page can explain.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDiscovery } from '../../../connector/src/discovery/parseDiscovery.js';
import { DiscoveryClient, DiscoveryFetchError } from '../../../connector/src/discovery/DiscoveryClient.js';
import { isDiscoveryError } from '../../../connector/src/discovery/DiscoveryError.js';
import { createLogger } from '../../../connector/src/logging/createLogger.js';
import { chooseAction, parseRequestedAction } from '../../../connector/src/web/chooseAction.js';
import { editorUrl, languageOf, toPublicDocsUrl } from '../../../connector/src/web/editorUrl.js';
import { parseFileName, parseFolderPath, safeNext } from '../../../connector/src/web/drivePaths.js';
import { startDocServiceDouble } from '../../helpers/docServiceDouble.js';
import { fixturesDir } from '../../helpers/sharedDir.js';
import { LogSink } from '../../helpers/testBridge.js';

const DS = 'http://127.0.0.1:8000';
const discovery = parseDiscovery(readFileSync(path.join(fixturesDir('onlyoffice'), 'discovery.xml'), 'utf8'));

describe('chooseAction on the captured discovery', () => {
  test('docx for a writer: edit; editnew when asked; view and embedview when asked', () => {
    const edit = chooseAction(discovery, 'Report.DOCX', true, []);
    expect(edit).toMatchObject({ kind: 'open', action: 'edit', app: 'Word', ext: 'docx', writable: true, readOnlyReason: null });
    expect(edit.kind === 'open' && edit.urlsrc.startsWith(`${DS}/hosting/wopi/word/edit?`)).toBe(true);
    expect(chooseAction(discovery, 'a.docx', true, [], 'editnew')).toMatchObject({ action: 'editnew', writable: true });
    const view = chooseAction(discovery, 'a.docx', true, [], 'view');
    expect(view).toMatchObject({ action: 'view', writable: false, readOnlyReason: 'asked_for_view' });
    expect(view.kind === 'open' && view.urlsrc.startsWith(`${DS}/hosting/wopi/word/view?`)).toBe(true);
    const embed = chooseAction(discovery, 'a.docx', true, [], 'embedview');
    expect(embed.kind === 'open' && embed.urlsrc).toMatch(/embed=1/);
  });

  test('view when the drive does not let the user write, the format is not in EDITABLE_FORMATS, or DS cannot edit it', () => {
    expect(chooseAction(discovery, 'a.docx', false, [])).toMatchObject({ action: 'view', writable: false, readOnlyReason: 'no_permission' });
    expect(chooseAction(discovery, 'a.docx', false, [], 'editnew')).toMatchObject({ action: 'view', writable: false });
    expect(chooseAction(discovery, 'a.xlsx', true, ['docx'])).toMatchObject({ action: 'view', readOnlyReason: 'format_not_editable' });
    expect(chooseAction(discovery, 'a.docx', true, ['docx', 'pptx'])).toMatchObject({ action: 'edit' });
    // .doc is view-only in this DS (convert offered instead of edit)
    expect(chooseAction(discovery, 'old.doc', true, [])).toMatchObject({ action: 'view', readOnlyReason: 'ds_cannot_edit' });
    expect(chooseAction(discovery, 'sheet.xlsx', true, [])).toMatchObject({ action: 'edit', app: 'Excel' });
    expect(chooseAction(discovery, 'deck.pptx', true, [])).toMatchObject({ action: 'edit', app: 'PowerPoint' });
  });

  test('types DS cannot open: unsupported, whatever was asked', () => {
    for (const name of ['photo.xyz', 'README', '.bashrc', 'archive.tar.gz', 'x.docx.exe', '']) {
      expect(chooseAction(discovery, name, true, [], 'edit')).toMatchObject({ kind: 'unsupported' });
    }
  });

  test('the requested action is read strictly', () => {
    expect(parseRequestedAction('edit')).toBe('edit');
    for (const v of [undefined, '', 'EDIT', 'convert', 'mobileEdit', ['edit'], '<x>']) expect(parseRequestedAction(v)).toBeUndefined();
  });
});

describe('the editor URL', () => {
  const urlsrc = discovery.byExtension.get('docx')?.edit as string;

  test('wopisrc, ui and rs filled; the internal DS address swapped for the public one', () => {
    const url = editorUrl(urlsrc, { publicUrl: 'https://files.example.org/bridge', fileId: 'fAbC_1-x', language: 'fr-FR', docsInternalUrl: DS, docsPublicUrl: 'https://docs.example.org/office' });
    const u = new URL(url);
    expect(u.origin + u.pathname).toBe('https://docs.example.org/office/hosting/wopi/word/edit');
    expect(Object.fromEntries(u.searchParams)).toEqual({ rs: 'fr-FR', ui: 'fr-FR', wopisrc: 'https://files.example.org/bridge/wopi/files/fAbC_1-x' });
  });

  test('the prefix is swapped only at a path boundary, and only when the addresses differ', () => {
    expect(toPublicDocsUrl('http://docs:80/hosting/x', 'http://docs:80', 'https://d.example')).toBe('https://d.example/hosting/x');
    expect(toPublicDocsUrl('http://docs:8080/hosting/x', 'http://docs:80', 'https://d.example')).toBe('http://docs:8080/hosting/x');
    expect(toPublicDocsUrl('http://docs:80/ds/hosting/x', 'http://docs:80/ds', 'https://d.example/o')).toBe('https://d.example/o/hosting/x');
    expect(toPublicDocsUrl('http://docs:80/dsx/hosting', 'http://docs:80/ds', 'https://d.example/o')).toBe('http://docs:80/dsx/hosting');
    expect(toPublicDocsUrl('http://docs/h', 'http://docs', 'http://docs')).toBe('http://docs/h');
    expect(toPublicDocsUrl('http://docs/h', null, 'http://x')).toBe('http://docs/h');
  });

  test('language from Accept-Language: the highest q that looks like a tag; garbage gives en-US', () => {
    expect(languageOf('de-DE,de;q=0.9,en;q=0.8')).toBe('de-DE');
    expect(languageOf('en;q=0.5, pt-BR;q=0.9')).toBe('pt-BR');
    expect(languageOf('zh-Hans-CN')).toBe('zh-Hans-CN');
    for (const bad of [undefined, '', '*', '<script>', 'x'.repeat(5000), 'de;q=0', '"&?=/;']) expect(languageOf(bad)).toBe('en-US');
  });
});

describe('page inputs', () => {
  test('folder paths', () => {
    expect(parseFolderPath(undefined)).toBe('/');
    expect(parseFolderPath('/a//b/')).toBe('/a/b');
    expect(parseFolderPath('/Ünïcødé & co/x y')).toBe('/Ünïcødé & co/x y');
    for (const bad of ['a', '/..', '/a/../b', '/./a', '/a\u0000', '/a\\b', ['/a'], 42, `/${'a'.repeat(3000)}`]) expect(parseFolderPath(bad)).toBeNull();
  });
  test('file names', () => {
    expect(parseFileName('  Plan 2026.docx ')).toBe('Plan 2026.docx');
    for (const bad of ['', ' ', '.', '..', '.env', 'a/b', 'a\\b', 'a\nb', 'x'.repeat(201), undefined, 7]) expect(parseFileName(bad)).toBeNull();
  });
  test('next after sign-in: local paths only', () => {
    expect(safeNext('/open/f1?action=edit')).toBe('/open/f1?action=edit');
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/a\tb', undefined, ['/'], '']) expect(safeNext(bad)).toBe('/');
  });
});

describe('DiscoveryClient against the DocumentServer double', () => {
  const log = createLogger('silent', new LogSink());
  const client = (url: string): DiscoveryClient => new DiscoveryClient({ internalUrl: url, refreshMs: 60_000, timeoutMs: 3000, log });

  test('the served discovery: 59 apps, MIME-type apps, the proof key, cached', async () => {
    const ds = await startDocServiceDouble();
    try {
      const c = client(ds.url);
      const snap = await c.get();
      expect(snap.discovery.apps).toHaveLength(59);
      expect(snap.discovery.apps.some((a) => a.name === 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')).toBe(true);
      expect(snap.discovery.proofKey?.modulus).toBe(ds.proofKeys()?.current.modulusB64);
      expect(snap.keys).not.toBeNull();
      expect(snap.discovery.byExtension.get('docx')?.edit?.startsWith(`${ds.url}/hosting/wopi/word/edit?`)).toBe(true);
      const before = ds.requests.length;
      expect(await c.get()).toBe(snap);
      expect(ds.requests.length).toBe(before);
    } finally {
      await ds.close();
    }
  });

  test('WOPI disabled (404), ipfilter (403), a non-XML 200 and nobody listening: each a clear error', async () => {
    const off = await startDocServiceDouble({ wopiEnabled: false });
    const denied = await startDocServiceDouble({ ipDenied: true });
    const html = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>proxy login</body></html>');
    });
    await new Promise<void>((r) => html.listen(0, '127.0.0.1', () => r()));
    const htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
    try {
      const e404 = await client(off.url).get().catch((e: unknown) => e);
      expect(e404).toBeInstanceOf(DiscoveryFetchError);
      expect(e404).toMatchObject({ status: 404, message: expect.stringMatching(/WOPI is disabled/) });
      const e403 = await client(denied.url).get().catch((e: unknown) => e);
      expect(e403).toMatchObject({ status: 403, message: expect.stringMatching(/ipfilter/) });
      const eHtml = await client(htmlUrl).get().catch((e: unknown) => e);
      expect(isDiscoveryError(eHtml)).toBe(true);
      expect(eHtml).toMatchObject({ code: 'not_xml' });
    } finally {
      await off.close();
      await denied.close();
      await new Promise<void>((r) => html.close(() => r()));
    }
    const gone = await client(off.url).get().catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(DiscoveryFetchError);
    expect({ status: (gone as DiscoveryFetchError).status, message: (gone as Error).message }).toEqual({ status: null, message: expect.stringMatching(/cannot be reached/) });
  });
});
