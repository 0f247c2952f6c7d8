/**
 * The encryption-state Nextcloud double answers like the captures: each test replays a captured request (method,
 * target, headers, body; only the host differs) against the double put into the captured state with the captured
 * files, and compares status, reason, the header names that matter and the body.
 */
import http from 'node:http';
import { startNextcloudOcsDouble, type EncryptionState, type NextcloudOcsDouble } from '../../helpers/nextcloudOcsDouble.js';
import { headerValue, readHttpFixture, type HttpFixture } from '../../helpers/readHttpFixture.js';

interface Reply {
  status: number;
  reason: string;
  headers: http.IncomingHttpHeaders;
  rawHeaderNames: string[];
  body: Buffer;
  complete: boolean;
}

function send(origin: string, method: string, target: string, headers: Record<string, string>, body?: Buffer): Promise<Reply> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined && body.length > 0) h['Content-Length'] = String(body.length);
    const req = http.request({ host: u.hostname, port: u.port, method, path: target, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const done = (complete: boolean): void =>
        resolve({
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? '',
          headers: res.headers,
          rawHeaderNames: res.rawHeaders.filter((_, i) => i % 2 === 0),
          body: Buffer.concat(chunks),
          complete,
        });
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(res.complete));
      res.on('aborted', () => done(false));
      res.on('error', () => done(false));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Replays a capture's request (captured Authorization included: the double has the captured accounts). */
function replay(d: NextcloudOcsDouble, fx: HttpFixture, extra: Record<string, string> = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  for (const [k, v] of fx.request.headers) {
    if (/^(host|content-length|cookie)$/i.test(k)) continue;
    headers[k] = v;
  }
  return send(d.origin, fx.request.method, fx.request.target, { ...headers, ...extra }, fx.request.body);
}

const STATES: EncryptionState[] = ['a', 'b0', 'b', 'c', 'd', 'd2'];

function stateOf(file: string): EncryptionState {
  const p = /^(b0|d2|a|b|c|d)-/.exec(file)?.[1];
  if (!p || !STATES.includes(p as EncryptionState)) throw new Error(`no state for ${file}`);
  return p as EncryptionState;
}

describe('Nextcloud encryption-state double answers like the captures', () => {
  let d: NextcloudOcsDouble;
  beforeAll(async () => {
    d = await startNextcloudOcsDouble();
  });
  afterAll(async () => {
    await d.close();
  });

  const OCS_CAPTURES = [
    'a-ocs-appconfig-core-default_encryption_module-as-admin',
    'a-ocs-appconfig-core-default_encryption_module-as-alice',
    'a-ocs-appconfig-core-encryption_enabled-as-admin',
    'a-ocs-appconfig-core-encryption_enabled-as-alice',
    'a-ocs-appconfig-core-encryption_enabled-xml-default-as-admin',
    'a-ocs-appconfig-encryption-list-keys-as-admin',
    'a-ocs-appconfig-encryption-useMasterKey-as-admin',
    'a-ocs-appconfig-encryption-useMasterKey-as-alice',
    'a-ocs-user-as-admin',
    'a-ocs-user-as-alice',
    'a-ocs-user-without-ocs-apirequest-header',
    'a-ocs-user-wrong-password-401',
    'a-ocs-v1-appconfig-core-encryption_enabled-as-admin',
    'a-ocs-v1-appconfig-core-encryption_enabled-as-alice',
    'a-ocs-v1-apps-enabled-as-admin',
    'a-ocs-v1-apps-enabled-as-alice',
    'b0-appenabled-encryption-off-ocs-appconfig-core-default_encryption_module-as-admin',
    'b0-appenabled-encryption-off-ocs-appconfig-core-encryption_enabled-as-admin',
    'b0-appenabled-encryption-off-ocs-appconfig-encryption-useMasterKey-as-admin',
    'b-ocs-app-info-encryption-as-admin',
    'b-ocs-appconfig-core-default_encryption_module-as-admin',
    'b-ocs-appconfig-core-encryption_enabled-as-admin',
    'b-ocs-appconfig-core-encryption_enabled-as-alice',
    'b-ocs-appconfig-encryption-useMasterKey-as-admin',
    'b-ocs-apps-disabled-as-admin',
    'b-ocs-v1-apps-enabled-as-admin',
    'c-ocs-appconfig-core-default_encryption_module-as-admin',
    'c-ocs-appconfig-core-encryption_enabled-as-admin',
    'c-ocs-appconfig-core-encryption_enabled-as-alice',
    'c-ocs-appconfig-encryption-enabled-as-admin',
    'c-ocs-appconfig-encryption-masterKeyId-as-admin',
    'c-ocs-appconfig-encryption-useMasterKey-as-admin',
    'c-ocs-v1-apps-enabled-as-admin',
    'd-ocs-appconfig-core-default_encryption_module-as-admin',
    'd-ocs-appconfig-core-encryption_enabled-as-admin',
    'd-ocs-appconfig-core-encryption_enabled-as-alice',
    'd-ocs-appconfig-encryption-enabled-as-admin',
    'd-ocs-appconfig-encryption-useMasterKey-as-admin',
    'd-ocs-user-as-alice',
    'd-ocs-v1-apps-disabled-as-admin',
    'd-ocs-v1-apps-enabled-as-admin',
    'd2-masterkey-ocs-appconfig-core-encryption_enabled-as-admin',
    'd2-masterkey-ocs-appconfig-encryption-enabled-as-admin',
  ];

  test.each(OCS_CAPTURES)('OCS %s', async (name) => {
    const fx = readHttpFixture(name);
    d.setState(stateOf(name));
    const r = await replay(d, fx);
    expect(`${r.status} ${r.reason}`).toBe(`${fx.response.status} ${fx.response.reason}`);
    expect(r.body.toString('utf8')).toBe(fx.response.body.toString('utf8'));
    expect(r.headers['content-type']).toBe(headerValue(fx.response.headers, 'Content-Type'));
    const userId = headerValue(fx.response.headers, 'X-User-Id');
    if (userId !== undefined) expect(r.headers['x-user-id']).toBe(userId);
  });

  test('status.php in the a- and d- states (d: looks healthy although downloads fail)', async () => {
    for (const name of ['a-status-php', 'd-status-php']) {
      const fx = readHttpFixture(name);
      d.setState(stateOf(name));
      const r = await replay(d, fx);
      expect(r.status).toBe(200);
      expect(r.body.toString('utf8')).toBe(fx.response.body.toString('utf8'));
      expect(r.headers['content-type']).toBe('application/json');
    }
  });

  describe('downloads per state', () => {
    beforeAll(() => {
      d.setState('a');
      d.putFile('alice', '/Docs/renamed.docx', Buffer.from('hello wopi v2 (overwritten)\n'), { encrypted: false });
      d.putFile('admin', '/Readme.md', Buffer.from('# Welcome\n'), { encrypted: false });
      d.putFile('alice', '/Docs/enc.docx', Buffer.from('hello wopi v1\n'), { encrypted: true });
      d.putFile('alice', '/test.docx', Buffer.from('hello wopi v1\n'), { encrypted: true });
    });

    test.each([
      'd-get-encrypted-file-app-disabled',
      'd-get-unencrypted-file-app-disabled',
      'd-get-admin-skeleton-file-app-disabled',
      'd2-masterkey-get-encrypted-file-app-disabled',
      'd2-masterkey-get-encrypted-file-app-disabled-legacy-webdav',
    ])('%s: 503 with the captured Sabre body', async (name) => {
      const fx = readHttpFixture(name);
      d.setState(stateOf(name));
      const r = await replay(d, fx);
      expect(`${r.status} ${r.reason}`).toBe(`${fx.response.status} ${fx.response.reason}`);
      expect(r.body.toString('utf8')).toBe(fx.response.body.toString('utf8'));
      expect(r.headers['content-type']).toBe('application/xml; charset=utf-8');
    });

    test('d-: HEAD of the encrypted file still 200, PROPFIND still 207', async () => {
      d.setState('d');
      const head = await replay(d, readHttpFixture('d-head-encrypted-file-app-disabled'));
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe('14');
      const pf = await replay(d, readHttpFixture('d-propfind-docs-depth1-app-disabled'));
      expect(pf.status).toBe(207);
      expect(pf.body.toString('utf8')).toContain('/remote.php/dav/files/alice/Docs/enc.docx');
    });

    test('d-: PUT of a new file 503, PUT over an existing file 500, as captured', async () => {
      d.setState('d');
      for (const name of ['d-put-new-file-app-disabled', 'd-put-overwrite-encrypted-app-disabled']) {
        const fx = readHttpFixture(name);
        const r = await replay(d, fx);
        expect(`${r.status} ${r.reason}`).toBe(`${fx.response.status} ${fx.response.reason}`);
        expect(r.body.toString('utf8')).toBe(fx.response.body.toString('utf8'));
      }
      expect(d.inner.readFileDirect('alice', '/Docs/enc.docx')?.toString()).toBe('hello wopi v1\n');
    });

    test('b-: a stateless GET of an encrypted file is 500 with the file headers and the body cut to its length', async () => {
      d.setState('b');
      const fx = readHttpFixture('b-get-docx-as-alice-encrypted');
      const r = await replay(d, fx);
      expect(`${r.status} ${r.reason}`).toBe('500 Internal Server Error');
      expect(r.body.toString('utf8')).toBe(fx.response.body.toString('utf8'));
      expect(r.headers['content-length']).toBe('14');
      expect(r.headers['content-type']).toBe('application/xml; charset=utf-8');
      expect(r.headers['content-disposition']).toBe(`attachment; filename*=UTF-8''enc.docx; filename="enc.docx"`);
      expect(r.headers['etag']).toBe(d.inner.etagOf('alice', '/Docs/enc.docx'));
      const names = r.rawHeaderNames.filter((n) => n !== 'Set-Cookie' && n !== 'Date' && n !== 'Connection');
      expect(names).toEqual(fx.response.headers.map(([k]) => k));
    });

    test('b-: a 28-byte encrypted file gets the 28-byte prefix (b-get-after-overwrite-no-cookies-500)', async () => {
      d.setState('b');
      d.putFile('alice', '/Docs/enc.docx', Buffer.from('hello wopi v2 (overwritten)\n'), { encrypted: true });
      const fx = readHttpFixture('b-get-after-overwrite-no-cookies-500');
      const r = await replay(d, fx);
      expect(r.status).toBe(500);
      expect(r.body.toString('utf8')).toBe(fx.response.body.toString('utf8'));
      d.putFile('alice', '/Docs/enc.docx', Buffer.from('hello wopi v1\n'), { encrypted: true });
    });

    test('b-: a file stored before encryption was switched on still downloads (b-get-preexisting-unencrypted-file)', async () => {
      d.setState('b');
      const fx = readHttpFixture('b-get-preexisting-unencrypted-file');
      const r = await replay(d, fx);
      expect(r.status).toBe(200);
      expect(r.body.toString('utf8')).toBe(fx.response.body.toString('utf8'));
    });

    test('b-: keeping the session cookie, the 2nd GET is still 500 and the 3rd request gets the file (b-cookiesession-1..3)', async () => {
      d.setState('b');
      const pf = await replay(d, readHttpFixture('b-cookiesession-1-propfind'));
      expect(pf.status).toBe(207);
      const setCookie = pf.headers['set-cookie']?.[0] ?? '';
      const cookie = setCookie.split(';')[0] ?? '';
      expect(cookie).toMatch(/^ocr9vf0pkpqt=/);
      const second = await replay(d, readHttpFixture('b-cookiesession-2-get-still-500'), { Cookie: cookie });
      expect(second.status).toBe(500);
      const third = await replay(d, readHttpFixture('b-cookiesession-3-get-now-200'), { Cookie: cookie });
      expect(third.status).toBe(200);
      expect(third.body.toString('utf8')).toBe(readHttpFixture('b-cookiesession-3-get-now-200').response.body.toString('utf8'));
    });

    test('c-: the master-key state downloads the encrypted file (c-get-docx-as-alice-masterkey)', async () => {
      d.setState('c');
      const fx = readHttpFixture('c-get-docx-as-alice-masterkey');
      const r = await replay(d, fx);
      expect(r.status).toBe(200);
      expect(r.body.toString('utf8')).toBe(fx.response.body.toString('utf8'));
    });

    test('d2-: re-enabling the app recovers (d2-masterkey-get-after-reenable: state c again)', async () => {
      d.setState('d2');
      expect((await replay(d, readHttpFixture('d2-masterkey-get-encrypted-file-app-disabled'))).status).toBe(503);
      d.setState('c');
      expect((await replay(d, readHttpFixture('d2-masterkey-get-encrypted-file-app-disabled'))).status).toBe(200);
    });
  });

  test('ownCloud flavour (from the seed, not captured): GET in the broken state is 403 Forbidden "Encryption not ready"', async () => {
    const oc = await startNextcloudOcsDouble({ product: 'owncloud', state: 'd' });
    try {
      oc.putFile('alice', '/a.docx', Buffer.from('x'));
      const auth = `Basic ${Buffer.from('alice:alice-pass-123').toString('base64')}`;
      const r = await send(oc.origin, 'GET', '/remote.php/dav/files/alice/a.docx', { Authorization: auth });
      expect(`${r.status} ${r.reason}`).toBe('403 Forbidden');
      expect(r.body.toString('utf8')).toContain('<s:exception>Sabre\\DAV\\Exception\\Forbidden</s:exception>');
      expect(r.body.toString('utf8')).toContain('Encryption not ready: Module with id: OC_DEFAULT_MODULE does not exist.');
      const st = await send(oc.origin, 'GET', '/status.php', {});
      expect(JSON.parse(st.body.toString('utf8'))).toMatchObject({ installed: 'true', maintenance: 'false', productname: 'ownCloud' });
      const cfg = await send(oc.origin, 'GET', '/ocs/v2.php/apps/provisioning_api/api/v1/config/apps/core/encryption_enabled?format=json', {
        Authorization: `Basic ${Buffer.from('admin:admin-pass-123').toString('base64')}`,
        'OCS-APIRequest': 'true',
      });
      expect(cfg.status).toBe(404);
    } finally {
      await oc.close();
    }
  });
});
