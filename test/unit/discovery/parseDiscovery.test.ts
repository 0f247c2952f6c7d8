import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDiscovery, type Discovery, type ExtensionActions } from '../../../connector/src/discovery/parseDiscovery.js';
import { DiscoveryError, isDiscoveryError, type DiscoveryErrorCode } from '../../../connector/src/discovery/DiscoveryError.js';
import { fixturesDir } from '../../helpers/sharedDir.js';

const ONLYOFFICE = fixturesDir('onlyoffice');
const DISCOVERY_XML = readFileSync(path.join(ONLYOFFICE, 'discovery.xml'), 'utf8');

/** Response body of an `NN-*.http` capture (these files use LF line ends): what follows the response head. */
function responseBody(name: string): string {
  const raw = readFileSync(path.join(ONLYOFFICE, name), 'utf8');
  const statusAt = raw.search(/\r?\nHTTP\/1\.[01] \d{3}/);
  if (statusAt < 0) throw new Error(`${name}: no response status line`);
  const headEnd = /\r?\n\r?\n/g;
  headEnd.lastIndex = statusAt + 1;
  const m = headEnd.exec(raw);
  if (!m) throw new Error(`${name}: no end of response headers`);
  return raw.slice(m.index + m[0].length);
}

/** The DiscoveryError `parseDiscovery(body)` throws. */
function refusal(body: string): DiscoveryError {
  try {
    parseDiscovery(body);
  } catch (e) {
    expect(e).toBeInstanceOf(DiscoveryError);
    expect(isDiscoveryError(e)).toBe(true);
    return e as DiscoveryError;
  }
  throw new Error('expected parseDiscovery to throw');
}

function ext(d: Discovery, name: string): ExtensionActions {
  const e = d.byExtension.get(name);
  if (!e) throw new Error(`no entry for .${name}`);
  return e;
}

const PLACEHOLDERS =
  '<rs=DC_LLCC&><dchat=DISABLE_CHAT&><embed=EMBEDDED&><fs=FULLSCREEN&><hid=HOST_SESSION_ID&><rec=RECORDING&>' +
  '<sc=SESSION_CONTEXT&><thm=THEME_ID&><ui=UI_LLCC&><wopisrc=WOPI_SOURCE&>&';
const DS = 'http://127.0.0.1:8000';

describe('parseDiscovery on the captured DocService 9.3.1 discovery', () => {
  const d = parseDiscovery(DISCOVERY_XML);

  test('the 03-discovery.http body is the same document', () => {
    expect(parseDiscovery(responseBody('03-discovery.http'))).toEqual(d);
  });

  test('net-zone and the 59 apps: Office-style, MIME-type, Capabilities', () => {
    expect(d.netZone).toBe('external-http');
    expect(d.apps).toHaveLength(59);
    expect(d.apps.slice(0, 4).map((a) => a.name)).toEqual(['Word', 'Excel', 'PowerPoint', 'Pdf']);
    expect(d.apps[0]?.favIconUrl).toBe(`${DS}/web-apps/apps/documenteditor/main/resources/img/favicon.ico`);
    expect(d.apps.at(-1)?.name).toBe('Capabilities');

    const mimeApps = d.apps.slice(4, -1);
    expect(mimeApps).toHaveLength(54);
    for (const app of mimeApps) {
      expect(app.name).toMatch(/^[a-z]+\/[\w.+-]+$/);
      expect(app.favIconUrl).toBeUndefined();
      for (const a of app.actions) expect(a.ext).toBe('');
    }
    const docxMime = d.apps.find((a) => a.name === 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(docxMime?.actions.find((a) => a.name === 'edit')).toEqual({
      name: 'edit',
      ext: '',
      default: true,
      requires: ['locks', 'update'],
      urlsrc: `${DS}/hosting/wopi/word/edit?${PLACEHOLDERS}`,
    });
  });

  test('byExtension holds only extensions of the Office-style apps', () => {
    const fromOfficeApps = new Set(d.apps.slice(0, 4).flatMap((a) => a.actions.map((x) => x.ext)));
    expect(fromOfficeApps.has('')).toBe(false);
    expect([...d.byExtension.keys()].sort()).toEqual([...fromOfficeApps].sort());
    expect(d.byExtension.size).toBe(69);
    expect(d.byExtension.has('')).toBe(false);
    for (const [k, v] of d.byExtension) {
      expect(k).toBe(k.toLowerCase());
      expect(['Word', 'Excel', 'PowerPoint', 'Pdf']).toContain(v.app);
    }
  });

  test('the Capabilities app and its URL', () => {
    expect(d.capabilitiesUrl).toBe(`${DS}/hosting/capabilities`);
    expect(d.apps.at(-1)?.actions).toEqual([
      { name: 'getinfo', ext: '', default: false, requires: ['locks', 'update'], urlsrc: `${DS}/hosting/capabilities` },
    ]);
  });

  test('the proof key (child of <wopi-discovery>, sibling of net-zone)', () => {
    expect(d.proofKey).not.toBeNull();
    const k = d.proofKey!;
    expect(k.exponent).toBe('AQAB');
    expect(k.oldexponent).toBe('AQAB');
    expect(Buffer.from(k.modulus, 'base64')).toHaveLength(256);
    expect(Buffer.from(k.oldmodulus, 'base64')).toHaveLength(256);
    expect(Buffer.from(k.value, 'base64')).toHaveLength(276);
    expect(Buffer.from(k.oldvalue, 'base64')).toHaveLength(276);
    // Two different keys were configured for this capture.
    expect(k.modulus).not.toBe(k.oldmodulus);
  });

  test('docx: view, embedview, mobileView, edit, mobileEdit, editnew; no convert', () => {
    const docx = ext(d, 'docx');
    expect(docx).toEqual({
      app: 'Word',
      view: `${DS}/hosting/wopi/word/view?${PLACEHOLDERS}`,
      embedview: `${DS}/hosting/wopi/word/view?embed=1&${PLACEHOLDERS}`,
      mobileView: `${DS}/hosting/wopi/word/view?mobile=1&${PLACEHOLDERS}`,
      edit: `${DS}/hosting/wopi/word/edit?${PLACEHOLDERS}`,
      mobileEdit: `${DS}/hosting/wopi/word/edit?mobile=1&${PLACEHOLDERS}`,
      editnew: `${DS}/hosting/wopi/word/edit?${PLACEHOLDERS}`,
    });
    const actions = d.apps[0]?.actions.filter((a) => a.ext === 'docx') ?? [];
    expect(actions.map((a) => a.name)).toEqual(['view', 'embedview', 'mobileView', 'edit', 'mobileEdit', 'editnew']);
    const edit = actions.find((a) => a.name === 'edit');
    expect(edit?.default).toBe(true);
    expect(edit?.requires).toEqual(['locks', 'update']);
    expect(actions.find((a) => a.name === 'view')?.default).toBe(false);
    expect(actions.find((a) => a.name === 'view')?.requires).toEqual([]);
  });

  test('xlsx and pptx go to the cell and slide editors', () => {
    const xlsx = ext(d, 'xlsx');
    expect(xlsx.app).toBe('Excel');
    expect(xlsx.edit).toBe(`${DS}/hosting/wopi/cell/edit?${PLACEHOLDERS}`);
    expect(xlsx.view).toBe(`${DS}/hosting/wopi/cell/view?${PLACEHOLDERS}`);
    expect(xlsx.editnew).toBeDefined();
    expect(xlsx.convert).toBeUndefined();

    const pptx = ext(d, 'pptx');
    expect(pptx.app).toBe('PowerPoint');
    expect(pptx.edit).toBe(`${DS}/hosting/wopi/slide/edit?${PLACEHOLDERS}`);
    expect(pptx.editnew).toBeDefined();
    expect(pptx.convert).toBeUndefined();
  });

  test('pdf: Pdf app, view and edit (this DS edits PDFs), formsubmit, and never a convert action', () => {
    const pdf = ext(d, 'pdf');
    expect(pdf.app).toBe('Pdf');
    expect(pdf.view).toBe(`${DS}/hosting/wopi/pdf/view?${PLACEHOLDERS}`);
    expect(pdf.edit).toBe(`${DS}/hosting/wopi/pdf/edit?${PLACEHOLDERS}`);
    expect(pdf.formsubmit).toBe(`${DS}/hosting/wopi/pdf/edit?formsubmit=1&${PLACEHOLDERS}`);
    expect(pdf.convert).toBeUndefined();
    // The Pdf app's view-only formats get no convert either (reference §1.1).
    for (const name of ['djvu', 'xps', 'oxps']) {
      const e = ext(d, name);
      expect(e.app).toBe('Pdf');
      expect(e.view).toBeDefined();
      expect(e.edit).toBeUndefined();
      expect(e.convert).toBeUndefined();
    }
    expect(d.apps[3]?.actions.some((a) => a.name === 'convert')).toBe(false);
  });

  test('odt is editable here (document-formats v3.2.0), with no convert; doc, fodt, xls, ppt convert to OOXML', () => {
    const odt = ext(d, 'odt');
    expect(odt.app).toBe('Word');
    expect(odt.edit).toBe(`${DS}/hosting/wopi/word/edit?${PLACEHOLDERS}`);
    expect(odt.convert).toBeUndefined();

    const doc = ext(d, 'doc');
    expect(doc.view).toBeDefined();
    expect(doc.edit).toBeUndefined();
    expect(doc.convert).toEqual({ urlsrc: `${DS}/hosting/wopi/convert-and-edit/doc/docx?${PLACEHOLDERS}`, targetext: 'docx' });
    const convert = d.apps[0]?.actions.find((a) => a.ext === 'doc' && a.name === 'convert');
    expect(convert).toMatchObject({ targetext: 'docx', requires: ['update'], default: false });

    expect(ext(d, 'fodt').convert?.targetext).toBe('docx');
    expect(ext(d, 'xls').convert).toEqual({ urlsrc: `${DS}/hosting/wopi/convert-and-edit/xls/xlsx?${PLACEHOLDERS}`, targetext: 'xlsx' });
    expect(ext(d, 'ppt').convert).toEqual({ urlsrc: `${DS}/hosting/wopi/convert-and-edit/ppt/pptx?${PLACEHOLDERS}`, targetext: 'pptx' });
    // An editable extension never also gets convert.
    for (const [name, e] of d.byExtension) if (e.edit !== undefined) expect([name, e.convert]).toEqual([name, undefined]);
  });

  test('urlsrc entities are decoded (&lt; &amp; &gt; in the raw XML)', () => {
    expect(DISCOVERY_XML).toContain('&lt;rs=DC_LLCC&amp;&gt;');
    expect(ext(d, 'docx').edit).toContain('<rs=DC_LLCC&>');
  });
});

describe('parseDiscovery on small documents', () => {
  test('no <proof-key> (DS default config) → proofKey null; no Capabilities → capabilitiesUrl null', () => {
    const d = parseDiscovery(
      '<?xml version="1.0" encoding="utf-8"?><wopi-discovery><net-zone name="external-http">' +
        '<app name="Word"><action name="view" ext="DOCX" default="true" urlsrc="http://ds/v?&lt;ui=UI_LLCC&amp;&gt;"/></app>' +
        '</net-zone></wopi-discovery>',
    );
    expect(d.proofKey).toBeNull();
    expect(d.capabilitiesUrl).toBeNull();
    expect(d.byExtension.get('docx')).toEqual({ app: 'Word', view: 'http://ds/v?<ui=UI_LLCC&>' });
  });

  test('a first net-zone without apps is skipped', () => {
    const d = parseDiscovery(
      '<wopi-discovery><net-zone name="internal-http"/><net-zone name="external-https">' +
        '<app name="Excel"><action name="edit" ext="xlsx" urlsrc="https://ds/e?"/></app></net-zone></wopi-discovery>',
    );
    expect(d.netZone).toBe('external-https');
    expect(d.byExtension.get('xlsx')?.edit).toBe('https://ds/e?');
  });
});

describe('parseDiscovery refuses what is not discovery', () => {
  const cases: Array<[label: string, code: DiscoveryErrorCode, body: string, message: RegExp]> = [
    ['DS with wopi.enable=false (70-wopi-disabled-discovery)', 'not_xml', responseBody('70-wopi-disabled-discovery.http'), /"Not Found".*wopi\.enable/],
    ['DS ipfilter (74-ipfilter-deny-discovery)', 'not_xml', responseBody('74-ipfilter-deny-discovery.http'), /"Forbidden".*ipfilter/],
    ['empty body', 'not_xml', '', /empty/],
    ['whitespace only', 'not_xml', ' \r\n ', /empty/],
    ['HTML error page', 'not_xml', '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>', /HTML page/],
    ['well-formed HTML', 'not_xml', '<html><body>Not Found</body></html>', /HTML page/],
    ['truncated discovery', 'not_xml', DISCOVERY_XML.slice(0, 5000), /not well-formed XML/],
    ['JSON', 'not_xml', '{"convert-to":{"available":true}}', /not XML/],
    ['other XML (a WebDAV multistatus)', 'not_discovery', '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"/>', /<d:multistatus>.*<wopi-discovery>/],
    ['<wopi-discovery/> alone', 'no_apps', '<wopi-discovery/>', /no <app>/],
    ['a net-zone without apps', 'no_apps', '<wopi-discovery><net-zone name="external-http"></net-zone><proof-key modulus="x"/></wopi-discovery>', /no <app>/],
  ];
  test.each(cases)('%s → %s', (_label, code, body, message) => {
    const err = refusal(body);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.name).toBe('DiscoveryError');
    expect(err.message.length).toBeLessThan(300);
  });

  test('the ipfilter and wopi-disabled bodies are the captured ones', () => {
    expect(responseBody('70-wopi-disabled-discovery.http')).toBe('Not Found');
    expect(responseBody('74-ipfilter-deny-discovery.http')).toBe('Forbidden');
  });
});
