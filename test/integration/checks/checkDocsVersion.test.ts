/** checkDocsVersion against the DocumentServer double (versions, token states, ipfilter) and non-DS servers. */
import { checkDocsVersion, MIN_SUPPORTED_DS_VERSION } from '../../../connector/src/checks/checkDocsVersion.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { checksConfig, closedPortUrl, expectNoSecret, reply, startHttp, type Running } from './checkServers.js';

const SECRET = 'test-secret-123';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});
async function double(opts: Parameters<typeof startDocServiceDouble>[0] = {}): Promise<DocServiceDouble> {
  const ds = await startDocServiceDouble({ proofKeys: false, ...opts });
  closers.push(() => ds.close());
  return ds;
}
async function server(start: Promise<Running>): Promise<Running> {
  const s = await start;
  closers.push(() => s.close());
  return s;
}

describe('checkDocsVersion', () => {
  test('ok: the command service, signed with the secret, gives 9.3.1.11', async () => {
    const ds = await double();
    const r = await checkDocsVersion(checksConfig(ds.url, { jwtSecret: SECRET }));
    expect(r).toMatchObject({ id: 'docs_version', status: 'ok', data: { version: '9.3.1.11', source: 'command service', minimumSupported: MIN_SUPPORTED_DS_VERSION } });
    expect(r.summary).toBe('DocumentServer 9.3.1.11 (supported: 8.0 or later).');
    const sent = JSON.parse(ds.requests[0]?.body.toString() ?? '{}') as { c?: string; token?: string };
    expect(sent.c).toBe('version');
    expect(typeof sent.token).toBe('string');
    expectNoSecret(r, [SECRET]);
  });

  test('ok: unsigned when neither side has a secret', async () => {
    const ds = await double({ jwtSecret: null });
    const r = await checkDocsVersion(checksConfig(ds.url));
    expect(r).toMatchObject({ status: 'ok', data: { source: 'command service' } });
    expect(JSON.parse(ds.requests[0]?.body.toString() ?? '{}')).toEqual({ c: 'version' });
  });

  test('warn: older than the supported minimum', async () => {
    const ds = await double({ version: '7.5.1.1' });
    const r = await checkDocsVersion(checksConfig(ds.url, { jwtSecret: SECRET }));
    expect(r.status).toBe('warn');
    expect(r.summary).toMatch(/7\.5\.1\.1 is older than 8\.0/);
    expect(r.detail).toMatch(/WOPISrc/);
    expect(r.fix).toMatch(/Upgrade DocumentServer to 8\.0/);
  });

  test('fail: older than 6.4 has no WOPI', async () => {
    const ds = await double({ version: '6.3.1.32' });
    const r = await checkDocsVersion(checksConfig(ds.url, { jwtSecret: SECRET }));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/6\.3\.1\.32 is too old: WOPI exists only since 6\.4/);
  });

  test('a refused token (error 6) still gives the version, read from /index.html', async () => {
    const ds = await double();
    const r = await checkDocsVersion(checksConfig(ds.url, { jwtSecret: 'not-the-secret-of-this-document-server' }));
    expect(r).toMatchObject({ status: 'ok', data: { version: '9.3.1.11', source: '/index.html' } });
    expect(r.detail).toMatch(/error 6 \(invalid token\) — see the JWT check/);
  });

  test('the ipfilter refusing the command service still gives the version from /index.html', async () => {
    const ds = await double({ ipDenied: true, version: '8.2.0.143' });
    const r = await checkDocsVersion(checksConfig(ds.url, { jwtSecret: SECRET }));
    expect(r).toMatchObject({ status: 'ok', data: { version: '8.2.0.143', source: '/index.html' } });
    expect(r.detail).toMatch(/403 Forbidden .*ipfilter/);
  });

  test('fail: unreachable (refused) — named, no fallback request', async () => {
    const r = await checkDocsVersion(checksConfig(await closedPortUrl()));
    expect(r).toMatchObject({ status: 'fail', data: { transport: 'refused' } });
  });

  test('fail: not DocumentServer (404 everywhere)', async () => {
    const s = await server(startHttp((req, res) => reply(res, 404, 'Cannot POST', 'text/html')));
    const r = await checkDocsVersion(checksConfig(s.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/version of DocumentServer cannot be read: .*does not exist \(404\)/);
  });

  test('fail: token refused and no banner', async () => {
    const s = await server(startHttp((req, res) => (req.method === 'POST' ? reply(res, 200, '{"error":6}', 'application/json') : reply(res, 404, 'Not Found'))));
    const r = await checkDocsVersion(checksConfig(s.url, { jwtSecret: SECRET }));
    expect(r).toMatchObject({ status: 'fail', data: { commandError: 6 } });
    expect(r.summary).toMatch(/error 6 \(invalid token\).*no version banner/);
    expect(r.fix).toMatch(/DOCS_JWT_SECRET/);
  });

  test('warn: a version string the bridge cannot read', async () => {
    const s = await server(startHttp((req, res) => reply(res, 200, '{"error":0,"version":"nightly"}', 'application/json')));
    const r = await checkDocsVersion(checksConfig(s.url));
    expect(r.status).toBe('warn');
    expect(r.summary).toMatch(/"nightly"/);
  });

  test('skipped without a usable address', async () => {
    expect((await checkDocsVersion(checksConfig(null))).status).toBe('skipped');
  });
});
