import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMultistatus, type DavEntry } from '../../../../connector/src/storage/webdav/parseMultistatus.js';
import { fixturesDir } from '../../../helpers/sharedDir.js';

const FIXTURES = fixturesDir('nextcloud');

/**
 * The response body of a capture: after the blank line (CRLF CRLF) that follows the response status line.
 * Header lines end in CRLF; the body keeps its own line ends.
 */
function responseBody(name: string): string {
  const raw = readFileSync(path.join(FIXTURES, name), 'utf8');
  const status = /\r\nHTTP\/1\.[01] \d{3}[^\r\n]*\r\n/.exec(raw);
  if (!status) throw new Error(`${name}: no response status line`);
  const headersEnd = raw.indexOf('\r\n\r\n', status.index + 2);
  if (headersEnd < 0) throw new Error(`${name}: no end of response headers`);
  return raw.slice(headersEnd + 4);
}

function entry(entries: DavEntry[], href: string): DavEntry {
  const e = entries.find((x) => x.href === href);
  if (!e) throw new Error(`no entry for ${href}; have ${entries.map((x) => x.href).join(', ')}`);
  return e;
}

describe('parseMultistatus on real Nextcloud 32 captures', () => {
  test('PROPFIND Depth 0 on a file (a-propfind-file-depth0)', async () => {
    const entries = await parseMultistatus(responseBody('a-propfind-file-depth0.http'));
    expect(entries).toHaveLength(1);
    const e = entries[0] as DavEntry;
    expect(e.href).toBe('/remote.php/dav/files/alice/test.docx');
    expect(e.props.getetag).toBe('"309cfcb263cc66e5fd690ee22453da2e"');
    expect(e.props.fileid).toBe('85');
    expect(e.props.permissions).toBe('RGDNVW');
    expect(e.props.collection).toBe(false);
    expect(e.props.getcontentlength).toBe('14');
    expect(e.props.size).toBe('14');
    expect(e.props.getlastmodified).toBe('Sun, 22 Nov 2026 06:51:47 GMT');
    // Prefixes are dropped: no 'd:getetag' / 'oc:fileid' keys.
    expect(Object.keys(e.props).some((k) => k.includes(':'))).toBe(false);
  });

  test('PROPFIND Depth 1 on the home folder (a-propfind-root-alice-depth1): props of the 404 propstat are absent', async () => {
    const entries = await parseMultistatus(responseBody('a-propfind-root-alice-depth1.http'));
    const root = entry(entries, '/remote.php/dav/files/alice/');
    expect(root.props.collection).toBe(true);
    expect(root.props.getetag).toBe('"6b02910310174"');
    expect(root.props.fileid).toBe('84');
    expect(root.props.permissions).toBe('RGDNVCK');
    expect(root.props.size).toBe('0');
    // getcontentlength / getcontenttype came back in a "404 Not Found" propstat: not reported, not even as ''.
    expect(root.props).not.toHaveProperty('getcontentlength');
    expect(root.props).not.toHaveProperty('getcontenttype');
  });

  test('PROPFIND Depth infinity (e-propfind-depth-infinity): every response, folders and files told apart', async () => {
    const entries = await parseMultistatus(responseBody('e-propfind-depth-infinity.http'));
    expect(entries.length).toBeGreaterThanOrEqual(3);
    const root = entry(entries, '/remote.php/dav/files/alice/');
    expect(root.props).toMatchObject({ collection: true, getetag: '"6b0292c2ec15d"', fileid: '83', permissions: 'RGDNVCK' });
    expect(root.props).not.toHaveProperty('getcontentlength');
    const chunked = entry(entries, '/remote.php/dav/files/alice/chunked.docx');
    expect(chunked.props).toMatchObject({
      collection: false,
      getetag: '"b3cdb701814fbacd0f2fb367be98feb1"',
      fileid: '99',
      permissions: 'RGDNVW',
      getcontentlength: '20',
    });
    const test = entry(entries, '/remote.php/dav/files/alice/test.docx');
    expect(test.props).toMatchObject({ collection: false, getetag: '"e4009ad0b64fdf63413bd1b167160b36"', fileid: '89' });
    // Every href is unique, and every entry says whether it is a folder.
    expect(new Set(entries.map((x) => x.href)).size).toBe(entries.length);
    for (const x of entries) expect(typeof x.props.collection).toBe('boolean');
    // Folders end in '/', files do not.
    for (const x of entries) expect(x.props.collection).toBe(x.href.endsWith('/'));
  });

  test('hrefs come back exactly as sent (still percent-encoded) (a-propfind-root-admin)', async () => {
    const entries = await parseMultistatus(responseBody('a-propfind-root-admin.http'));
    const mp4 = entry(entries, '/remote.php/dav/files/admin/Nextcloud%20intro.mp4');
    expect(mp4.props).toMatchObject({ collection: false, getetag: '"c259d931820638e61532c8bd911ec437"', fileid: '62', getcontentlength: '3963036' });
    expect(entry(entries, '/remote.php/dav/files/admin/Documents/').props.collection).toBe(true);
  });

  test('SEARCH answer (e-search-by-fileid) parses the same way', async () => {
    const entries = await parseMultistatus(responseBody('e-search-by-fileid.http'));
    expect(entries).toEqual([
      expect.objectContaining({
        href: '/remote.php/dav/files/alice/test.docx',
        props: expect.objectContaining({ fileid: '89', getetag: '"e4009ad0b64fdf63413bd1b167160b36"', displayname: 'test.docx' }),
      }),
    ]);
  });

  test('the response body extractor finds the XML (sanity check of the capture format)', () => {
    const body = responseBody('a-propfind-file-depth0.http');
    expect(body.startsWith('<?xml')).toBe(true);
    expect(body).toContain('<d:multistatus');
    expect(body).not.toContain('<d:propfind');
  });
});

describe('parseMultistatus on other servers\' shapes', () => {
  test('upper-case D: prefix, default namespace, lp1: props (Apache mod_dav style)', async () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:lp1="DAV:">
  <D:response xmlns:lp2="http://apache.org/dav/props/">
    <D:href>/dav/a%20%25%20b.docx</D:href>
    <D:propstat>
      <D:prop>
        <lp1:resourcetype/>
        <lp1:getcontentlength>3</lp1:getcontentlength>
        <lp1:getetag>W/"abc-123"</lp1:getetag>
      </D:prop>
      <D:status>HTTP/1.1 200 OK</D:status>
    </D:propstat>
  </D:response>
  <response xmlns="DAV:">
    <href>/dav/folder/</href>
    <propstat><prop><resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat>
  </response>
</D:multistatus>`;
    const entries = await parseMultistatus(xml);
    expect(entries).toEqual([
      { href: '/dav/a%20%25%20b.docx', props: { collection: false, getcontentlength: '3', getetag: 'W/"abc-123"' } },
      { href: '/dav/folder/', props: { collection: true } },
    ]);
  });

  test('an empty multistatus gives no entries', async () => {
    expect(await parseMultistatus('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"></d:multistatus>')).toEqual([]);
  });

  test('a propstat with 403 is left out like a 404 one', async () => {
    const xml = `<d:multistatus xmlns:d="DAV:"><d:response><d:href>/x</d:href>
      <d:propstat><d:prop><d:getetag>"e"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
      <d:propstat><d:prop><d:getcontentlength>9</d:getcontentlength></d:prop><d:status>HTTP/1.1 403 Forbidden</d:status></d:propstat>
    </d:response></d:multistatus>`;
    expect(await parseMultistatus(xml)).toEqual([{ href: '/x', props: { getetag: '"e"' } }]);
  });
});

describe('parseMultistatus: the XML reader (own parser, no xml2js)', () => {
  const one = (inner: string, href = '/x'): string =>
    `<d:multistatus xmlns:d="DAV:"><d:response><d:href>${href}</d:href><d:propstat><d:prop>${inner}</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`;

  test('prefixes of any name, Nextcloud oc:/nc: props, a prop with children gives their names', async () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ns0:multistatus xmlns:ns0="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">
 <ns0:response>
  <ns0:href>/remote.php/dav/files/alice/R%26D/a%20%25%20b.docx</ns0:href>
  <ns0:propstat>
   <ns0:prop>
    <oc:fileid>85</oc:fileid><oc:permissions>RGDNVW</oc:permissions><nc:has-preview>true</nc:has-preview>
    <oc:share-types><oc:share-type>0</oc:share-type><oc:share-type>3</oc:share-type></oc:share-types>
    <ns0:resourcetype/>
   </ns0:prop>
   <ns0:status>HTTP/1.1 200 OK</ns0:status>
  </ns0:propstat>
 </ns0:response>
</ns0:multistatus>`;
    expect(await parseMultistatus(xml)).toEqual([
      {
        href: '/remote.php/dav/files/alice/R%26D/a%20%25%20b.docx',
        props: { fileid: '85', permissions: 'RGDNVW', 'has-preview': 'true', 'share-types': 'share-type', collection: false },
      },
    ]);
  });

  test("hrefs with '#' and '?' left unencoded (webdav-server), entities and a pretty-printed href", async () => {
    expect((await parseMultistatus(one('', '/dav/#1 what?.docx')))[0]?.href).toBe('/dav/#1 what?.docx');
    expect((await parseMultistatus(one('', '/dav/R&amp;D/Q&#38;A &#x6587;.docx')))[0]?.href).toBe('/dav/R&D/Q&A 文.docx');
    expect((await parseMultistatus(one('', '\n   /dav/a.docx\n  ')))[0]?.href).toBe('/dav/a.docx');
  });

  test('text values keep entities decoded and CDATA as is; a byte order mark and comments are fine', async () => {
    const xml = '\ufeff<?xml version="1.0"?><!-- hi --><d:multistatus xmlns:d="DAV:">' + one('<d:getetag>&quot;e&lt;1&gt;&quot;</d:getetag><d:displayname><![CDATA[a <b> & c]]></d:displayname>').slice('<d:multistatus xmlns:d="DAV:">'.length) + '<!-- bye -->';
    expect(await parseMultistatus(xml)).toEqual([{ href: '/x', props: { getetag: '"e<1>"', displayname: 'a <b> & c' } }]);
  });

  test('attributes with ">" in quotes, single quotes and spaces around "=" are read', async () => {
    const xml = `<d:multistatus xmlns:d='DAV:' x = "a>b"><d:response><d:href a="1" >/x</d:href ></d:response></d:multistatus >`;
    expect(await parseMultistatus(xml)).toEqual([{ href: '/x', props: {} }]);
  });

  test('a folder of 20,000 entries parses', async () => {
    const responses = Array.from({ length: 20_000 }, (_, i) => `<d:response><d:href>/dav/f${i}.docx</d:href><d:propstat><d:prop><d:getetag>"${i}"</d:getetag><d:resourcetype/></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`);
    const entries = await parseMultistatus(`<d:multistatus xmlns:d="DAV:">${responses.join('')}</d:multistatus>`);
    expect(entries).toHaveLength(20_000);
    expect(entries[19_999]).toEqual({ href: '/dav/f19999.docx', props: { getetag: '"19999"', collection: false } });
  });
});

describe('parseMultistatus refuses what is not a multistatus', () => {
  test.each([
    ['garbage', 'this is not xml at all <<<'],
    ['broken XML', '<d:multistatus xmlns:d="DAV:"><d:response>'],
    ['an HTML login page', '<!DOCTYPE html><html><head><title>Login</title></head><body><p>Please log in</p></body></html>'],
    ['a Sabre error', responseBody('e-propfind-missing-404.http')],
    ['an empty body', ''],
    ['whitespace', '  \n '],
    ['mismatched end tag', '<d:multistatus xmlns:d="DAV:"><d:response></d:href></d:multistatus>'],
    ['text after the root', '<d:multistatus xmlns:d="DAV:"></d:multistatus>trailing'],
    ['two roots', '<d:multistatus xmlns:d="DAV:"></d:multistatus><d:multistatus/>'],
    ['a DOCTYPE with entities', '<!DOCTYPE d [<!ENTITY x "y">]><d:multistatus xmlns:d="DAV:">&x;</d:multistatus>'],
    ['an unknown entity', '<d:multistatus xmlns:d="DAV:"><d:response><d:href>&nbsp;</d:href></d:response></d:multistatus>'],
    ['an unclosed comment', '<d:multistatus xmlns:d="DAV:"><!-- </d:multistatus>'],
    ['an unclosed start tag', '<d:multistatus xmlns:d="DAV:"'],
    ['"<" inside a tag', '<d:multistatus <d:response>'],
    ['a bad attribute', '<d:multistatus xmlns:d=DAV:></d:multistatus>'],
    ['a bad element name', '<1multistatus></1multistatus>'],
    ['nesting 10,000 deep', '<a>'.repeat(10_000) + '</a>'.repeat(10_000)],
    ['binary', String.fromCharCode(0, 1, 2, 0xfffd, 60, 62)],
  ])('%s → throws', async (_what, body) => {
    await expect(parseMultistatus(body)).rejects.toThrow();
  });
});
