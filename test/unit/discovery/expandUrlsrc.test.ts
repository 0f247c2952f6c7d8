import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expandUrlsrc } from '../../../connector/src/discovery/expandUrlsrc.js';
import { parseDiscovery } from '../../../connector/src/discovery/parseDiscovery.js';
import { fixturesDir } from '../../helpers/sharedDir.js';

const discovery = parseDiscovery(readFileSync(path.join(fixturesDir('onlyoffice'), 'discovery.xml'), 'utf8'));
const docx = discovery.byExtension.get('docx');
const EDIT = docx?.edit ?? '';
const EMBED = docx?.embedview ?? '';
const WOPISRC = 'https://bridge.example.org/wopi/files/f_812';
const WOPISRC_ENC = 'https%3A%2F%2Fbridge.example.org%2Fwopi%2Ffiles%2Ff_812';

describe('expandUrlsrc on the captured docx urlsrc', () => {
  test('the template is the real one', () => {
    expect(EDIT).toBe(
      'http://127.0.0.1:8000/hosting/wopi/word/edit?<rs=DC_LLCC&><dchat=DISABLE_CHAT&><embed=EMBEDDED&><fs=FULLSCREEN&>' +
        '<hid=HOST_SESSION_ID&><rec=RECORDING&><sc=SESSION_CONTEXT&><thm=THEME_ID&><ui=UI_LLCC&><wopisrc=WOPI_SOURCE&>&',
    );
  });

  test('only wopisrc: every other group dropped, no trailing & or ?&', () => {
    expect(expandUrlsrc(EDIT, { wopisrc: WOPISRC })).toBe(`http://127.0.0.1:8000/hosting/wopi/word/edit?wopisrc=${WOPISRC_ENC}`);
  });

  test('ui and rs filled in template order, values URL-encoded', () => {
    const url = expandUrlsrc(EDIT, { wopisrc: WOPISRC, ui: 'de-DE', rs: 'en-US' });
    expect(url).toBe(`http://127.0.0.1:8000/hosting/wopi/word/edit?rs=en-US&ui=de-DE&wopisrc=${WOPISRC_ENC}`);
    const q = new URL(url).searchParams;
    expect(q.get('wopisrc')).toBe(WOPISRC);
    expect([...q.keys()]).toEqual(['rs', 'ui', 'wopisrc']);
  });

  test('other named groups (thm, dchat) are filled; unknown params, undefined and empty values are ignored', () => {
    const url = expandUrlsrc(EDIT, { wopisrc: WOPISRC, thm: '2', dchat: '1', ui: '', rs: undefined, nosuch: 'x' });
    expect(url).toBe(`http://127.0.0.1:8000/hosting/wopi/word/edit?dchat=1&thm=2&wopisrc=${WOPISRC_ENC}`);
  });

  test('values with reserved characters cannot break the query', () => {
    const url = expandUrlsrc(EDIT, { wopisrc: 'https://h/wopi/files/a b&c=d?é', ui: 'en&x=<y>' });
    expect(url).not.toMatch(/[<>]/);
    const q = new URL(url).searchParams;
    expect(q.get('wopisrc')).toBe('https://h/wopi/files/a b&c=d?é');
    expect(q.get('ui')).toBe('en&x=<y>');
    expect([...q.keys()]).toEqual(['ui', 'wopisrc']);
  });

  test('static text outside the groups is kept (embedview: embed=1&)', () => {
    expect(expandUrlsrc(EMBED, { wopisrc: WOPISRC, ui: 'en-US' })).toBe(
      `http://127.0.0.1:8000/hosting/wopi/word/view?embed=1&ui=en-US&wopisrc=${WOPISRC_ENC}`,
    );
  });

  test('every captured Office-app urlsrc expands to a clean URL', () => {
    for (const app of discovery.apps.filter((a) => a.name !== 'Capabilities')) {
      for (const action of app.actions) {
        const url = expandUrlsrc(action.urlsrc, { wopisrc: WOPISRC, ui: 'en-US' });
        expect(url).not.toMatch(/[<>]|&&|\?&|&$|\?$/);
        expect(new URL(url).searchParams.get('wopisrc')).toBe(WOPISRC);
      }
    }
  });
});

describe('expandUrlsrc on other templates', () => {
  test('a Microsoft-style template without a wopisrc group gets WOPISrc appended; names match case-insensitively', () => {
    const ms = 'https://word-edit.officeapps.live.com/we/wordeditorframe.aspx?<ui=UI_LLCC&><rs=DC_LLCC&><IsLicensedUser=BUSINESS_USER&>';
    expect(expandUrlsrc(ms, { wopisrc: WOPISRC, UI: 'fr-FR', islicenseduser: '1' })).toBe(
      `https://word-edit.officeapps.live.com/we/wordeditorframe.aspx?ui=fr-FR&IsLicensedUser=1&WOPISrc=${WOPISRC_ENC}`,
    );
  });

  test('a template without a query string', () => {
    expect(expandUrlsrc('http://ds/hosting/wopi/word/view', { wopisrc: 'w' })).toBe('http://ds/hosting/wopi/word/view?WOPISrc=w');
  });

  test('a group without its & and a malformed <…> leftover are handled', () => {
    expect(expandUrlsrc('http://ds/x?a=1&<ui=UI_LLCC><junk>&&<wopisrc=WOPI_SOURCE&>', { wopisrc: 'w', ui: 'en' })).toBe(
      'http://ds/x?a=1&ui=en&wopisrc=w',
    );
  });

  test('wopisrc is required', () => {
    expect(() => expandUrlsrc(EDIT, { wopisrc: '' })).toThrow(TypeError);
  });
});
