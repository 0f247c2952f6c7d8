/** checkWopiEnabled against the DocumentServer double (WOPI on/off, ipfilter, keys) and servers that are not DS. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkWopiEnabled } from '../../../connector/src/checks/checkWopiEnabled.js';
import { ONLYOFFICE_FIXTURE_DIR, startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { checksConfig, reply, startHttp, startSilent, type Running } from './checkServers.js';
import { render } from './checkTexts.js';

const DISCOVERY = readFileSync(path.join(ONLYOFFICE_FIXTURE_DIR, 'discovery.xml'), 'utf8');
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});
async function double(opts: Parameters<typeof startDocServiceDouble>[0] = {}): Promise<DocServiceDouble> {
  const ds = await startDocServiceDouble(opts);
  closers.push(() => ds.close());
  return ds;
}
async function server(start: Promise<Running>): Promise<Running> {
  const s = await start;
  closers.push(() => s.close());
  return s;
}

/** The first JSON object in a fix text. */
function snippet(fix: string | undefined): unknown {
  const m = /\{[\s\S]*?\n\}/.exec(fix ?? '');
  return m ? JSON.parse(m[0]) : null;
}

describe('checkWopiEnabled', () => {
  test('ok: discovery with apps and proof keys', async () => {
    const ds = await double();
    const r = await checkWopiEnabled(checksConfig(ds.url));
    expect(r).toMatchObject({ id: 'wopi_enabled', status: 'ok', data: { apps: 59, proofKey: true, netZone: 'external-http' } });
    expect(r.summary).toMatch(/^WOPI is on: discovery lists 59 apps and \d+ extensions; proof keys published\.$/);
  });

  test('ok without proof keys says so', async () => {
    const ds = await double({ proofKeys: false });
    const r = await checkWopiEnabled(checksConfig(ds.url));
    expect(r).toMatchObject({ status: 'ok', data: { proofKey: false } });
    expect(r.summary).toMatch(/no proof keys published/);
  });

  test('fail: 404 Not Found = wopi.enable false, with the local.json snippet', async () => {
    const ds = await double({ wopiEnabled: false, proofKeys: false });
    const r = await checkWopiEnabled(checksConfig(ds.url));
    expect(r).toMatchObject({ status: 'fail', data: { httpStatus: 404, wopiEnabled: false } });
    expect(r.summary).toMatch(/WOPI is switched off/);
    expect(snippet(r.fix)).toEqual({ wopi: { enable: true } });
    expect(r.fix).toMatch(/\/etc\/onlyoffice\/documentserver\/local\.json/);
    expect(r.fix).toMatch(/supervisorctl restart all/);
  });

  test('fail: 403 Forbidden = ipfilter, with the snippet under services.CoAuthoring', async () => {
    const ds = await double({ ipDenied: true, proofKeys: false });
    const r = await checkWopiEnabled(checksConfig(ds.url));
    expect(r).toMatchObject({ status: 'fail', data: { httpStatus: 403, ipfilter: true } });
    expect(r.summary).toMatch(/ipfilter/);
    expect(snippet(r.fix)).toMatchObject({ services: { CoAuthoring: { ipfilter: { rules: [{ address: '127.0.0.1', allowed: true }, { address: '*', allowed: true }] } } } });
  });

  test('wopi.enable is checked before the ipfilter, as on DS', async () => {
    const ds = await double({ wopiEnabled: false, ipDenied: true, proofKeys: false });
    expect((await checkWopiEnabled(checksConfig(ds.url))).data).toMatchObject({ wopiEnabled: false });
  });

  test('fail: 200 but not XML (a login page)', async () => {
    const s = await server(startHttp((req, res) => reply(res, 200, '<!DOCTYPE html><html><body>Sign in</body></html>', 'text/html')));
    const r = await checkWopiEnabled(checksConfig(s.url));
    expect(r).toMatchObject({ status: 'fail', data: { notDiscovery: true } });
    expect(r.summary).toMatch(/not with WOPI discovery XML: discovery URL returned an HTML page/);
  });

  test('fail: XML that is not a discovery', async () => {
    const s = await server(startHttp((req, res) => reply(res, 200, '<?xml version="1.0"?><error>nope</error>', 'text/xml')));
    const r = await checkWopiEnabled(checksConfig(s.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/expected <wopi-discovery>/);
  });

  test('fail: an HTML 404 is a wrong address, not a disabled WOPI', async () => {
    const s = await server(startHttp((req, res) => reply(res, 404, '<pre>Cannot GET /hosting/discovery</pre>', 'text/html')));
    const r = await checkWopiEnabled(checksConfig(s.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/does not exist \(404\)/);
    expect(r.detail).toMatch(/WOPI exists since 6\.4/);
    expect(r.fix).not.toMatch(/"enable"/);
    // in Chinese: the reasoning translated, the answer quoted as it came
    expect(r.messages?.detail?.key).toBe('wopi_not_found_not_ds_detail');
    const zh = render(r.messages?.detail, 'zh-CN') ?? '';
    expect(zh).toContain('纯文本“Not Found”');
    expect(zh).toContain('<pre>Cannot GET /hosting/discovery</pre>');
    expect(render(r.messages?.summary, 'zh-CN')).toMatch(/不存在（404）/);
  });

  test('warn: no edit action for docx', async () => {
    const xml = DISCOVERY.replace(/<action name="edit" ext="docx"[^>]*\/>/, '');
    const s = await server(startHttp((req, res) => reply(res, 200, xml, 'text/xml; charset=utf-8')));
    const r = await checkWopiEnabled(checksConfig(s.url));
    expect(r.status).toBe('warn');
    expect(r.summary).toMatch(/no edit action for docx: those files open read-only/);
  });

  test('fail: timeout', async () => {
    const s = await server(startSilent());
    const r = await checkWopiEnabled(checksConfig(s.url, { timeoutMs: 200 }));
    expect(r).toMatchObject({ status: 'fail', data: { transport: 'timeout' } });
    expect(r.ms).toBeLessThan(1000);
  });

  test('skipped without a usable address', async () => {
    expect((await checkWopiEnabled(checksConfig(null))).status).toBe('skipped');
  });
});
