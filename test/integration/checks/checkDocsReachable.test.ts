/**
 * checkDocsReachable against the DocumentServer double (healthy, dependencies down, ipfilter), against servers
 * that are not DocumentServer, unreachable addresses, and HTTPS fronts with broken certificates made by openssl.
 */
import path from 'node:path';
import { checkDocsReachable } from '../../../connector/src/checks/checkDocsReachable.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import {
  checksConfig,
  closedPortUrl,
  expectNoSecret,
  healthyHandler,
  makeTestCerts,
  reply,
  startHttp,
  startHttps,
  startSilent,
  type Running,
  type TestCerts,
} from './checkServers.js';

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

describe('checkDocsReachable against the DocumentServer double', () => {
  test('ok: /healthcheck answers true', async () => {
    const ds = await double();
    const r = await checkDocsReachable(checksConfig(ds.url));
    expect(r).toMatchObject({ id: 'docs_reachable', status: 'ok', data: { healthcheck: true, httpStatus: 200 } });
    expect(r.summary).toContain('up and healthy');
    expect(r.ms).toBeGreaterThanOrEqual(0);
  });

  test('ok with a trailing slash', async () => {
    const ds = await double();
    const r = await checkDocsReachable(checksConfig(`${ds.url}/`));
    expect(r.status).toBe('ok');
  });

  test('fail: healthcheck false names the dependencies, and recovers by itself', async () => {
    const ds = await double({ healthy: false });
    const r = await checkDocsReachable(checksConfig(ds.url));
    expect(r).toMatchObject({ status: 'fail', data: { healthcheck: false } });
    expect(r.summary).toMatch(/dependencies is down/);
    expect(r.summary).toMatch(/database, RabbitMQ/);
    expect(r.fix).toMatch(/healthCheck error/);
    expect(r.fix).toMatch(/5432/);
    ds.setHealthy(true);
    expect((await checkDocsReachable(checksConfig(ds.url))).status).toBe('ok');
  });

  test('fail: the ipfilter blocks the bridge — told from "down" by /index.html, with the snippet and our address', async () => {
    const ds = await double({ ipDenied: true, version: '9.3.1.11' });
    const r = await checkDocsReachable(checksConfig(ds.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/DocumentServer 9\.3\.1\.11 is up, but its ipfilter blocks the bridge/);
    expect(r.data).toMatchObject({ ipfilter: true, bridgeAddress: '127.0.0.1', version: '9.3.1.11', httpStatus: 403 });
    expect(r.fix).toContain('services.CoAuthoring.ipfilter.rules');
    const snippet = JSON.parse(/\{[\s\S]*\n\}/.exec(r.fix ?? '')?.[0] ?? 'null') as { services: { CoAuthoring: { ipfilter: { rules: { address: string; allowed: boolean }[] } } } };
    expect(snippet.services.CoAuthoring.ipfilter.rules[0]).toEqual({ address: '127.0.0.1', allowed: true });
    expect(ds.requests.map((q) => q.target)).toEqual(['/healthcheck', '/index.html']);
  });

  test('fail: not configured, and not an http(s) URL', async () => {
    const none = await checkDocsReachable(checksConfig(null));
    expect(none.status).toBe('fail');
    expect(none.summary).toMatch(/No DocumentServer address/);
    expect(none.fix).toMatch(/DOCS_URL/);
    const ftp = await checkDocsReachable(checksConfig('ftp://docs.example.com'));
    expect(ftp.status).toBe('fail');
    expect(ftp.summary).toMatch(/not an http/);
  });
});

describe('checkDocsReachable: unreachable addresses finish within the timeout, each named', () => {
  test('timeout: a server that accepts and never answers', async () => {
    const silent = await server(startSilent());
    const t0 = Date.now();
    const r = await checkDocsReachable(checksConfig(silent.url, { timeoutMs: 300 }));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(r).toMatchObject({ status: 'fail', data: { transport: 'timeout' } });
    expect(r.summary).toMatch(/No answer from 127\.0\.0\.1:\d+ within 300 ms \(timeout\)/);
    expect(r.fix).toMatch(/firewall/);
  });

  test('refused: a closed port', async () => {
    const url = await closedPortUrl();
    const r = await checkDocsReachable(checksConfig(url));
    expect(r).toMatchObject({ status: 'fail', data: { transport: 'refused', code: 'ECONNREFUSED' } });
    expect(r.summary).toMatch(/Connection refused/);
  });

  test('DNS: a name that does not resolve', async () => {
    const r = await checkDocsReachable(checksConfig('http://documentserver.invalid', { timeoutMs: 5000 }));
    expect(r).toMatchObject({ status: 'fail', data: { transport: 'dns' } });
    expect(r.summary).toMatch(/documentserver\.invalid/);
    expect(r.fix).toMatch(/getent hosts documentserver\.invalid/);
  });

  test('credentials in the URL never show', async () => {
    const url = await closedPortUrl();
    const r = await checkDocsReachable(checksConfig(url.replace('http://', 'http://admin:hunter2hunter2@')));
    expect(r.status).toBe('fail');
    expectNoSecret(r, ['hunter2hunter2', 'admin:']);
  });
});

describe('checkDocsReachable: answers that are not DocumentServer', () => {
  test('fail: a redirect names the new address', async () => {
    const s = await server(startHttp((req, res) => reply(res, 301, '', 'text/plain', { Location: 'https://docs.example.com/ds/healthcheck' })));
    const r = await checkDocsReachable(checksConfig(s.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/redirects to https:\/\/docs\.example\.com\/ds/);
    expect(r.fix).toBe('Set DOCS_INTERNAL_URL to https://docs.example.com/ds.');
  });

  test('fail: a proxy answers 502', async () => {
    const s = await server(startHttp((req, res) => reply(res, 502, '<html>Bad Gateway</html>', 'text/html')));
    const r = await checkDocsReachable(checksConfig(s.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/proxy in front of DocumentServer answered 502/);
  });

  test('fail: 200 with a web page is not DocumentServer', async () => {
    const s = await server(startHttp((req, res) => reply(res, 200, '<!DOCTYPE html><html><title>Welcome to nginx!</title></html>', 'text/html')));
    const r = await checkDocsReachable(checksConfig(s.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/is not DocumentServer.*Welcome to nginx/);
  });

  test('fail: 403 on every path, /index.html included, is a proxy, not DS\'s ipfilter', async () => {
    const s = await server(startHttp((req, res) => reply(res, 403, 'Forbidden')));
    const r = await checkDocsReachable(checksConfig(s.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/refuses the bridge on every path/);
    expect(r.fix).toMatch(/reverse proxy or web application firewall/);
  });

  test('fail: 404 means a wrong address or missing sub-path', async () => {
    const s = await server(startHttp((req, res) => reply(res, 404, 'Cannot GET /healthcheck', 'text/html')));
    const r = await checkDocsReachable(checksConfig(s.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/does not exist \(404\)/);
    expect(r.fix).toMatch(/sub-path/);
  });

  test('fail: DS banner on /index.html but /healthcheck broken', async () => {
    const s = await server(
      startHttp((req, res) =>
        req.url === '/index.html'
          ? reply(res, 200, 'Server is functioning normally. Version: 8.2.0. Build: 143. Release date: x')
          : reply(res, 500, 'Internal Server Error'),
      ),
    );
    const r = await checkDocsReachable(checksConfig(s.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/DocumentServer 8\.2\.0\.143 answers \/index\.html, but \/healthcheck answered 500/);
  });
});

describe('checkDocsReachable: TLS errors named as such (certificates made with openssl)', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeTestCerts();
  });
  afterAll(() => certs.remove());

  test('self-signed → fail with the CA-file fix; trusted through DOCS_CA_FILE → ok; verification off → warn', async () => {
    const s = await server(startHttps(certs.selfSigned.key, certs.selfSigned.cert, healthyHandler));
    const bad = await checkDocsReachable(checksConfig(s.url));
    expect(bad).toMatchObject({ status: 'fail', data: { transport: 'tls_self_signed', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } });
    expect(bad.summary).toMatch(/self-signed/);
    expect(bad.fix).toMatch(/DOCS_CA_FILE/);

    const trusted = await checkDocsReachable(checksConfig(s.url, { caFile: path.join(certs.dir, 'ss.pem') }));
    expect(trusted.status).toBe('ok');
    const inline = await checkDocsReachable(checksConfig(s.url, { ca: certs.selfSigned.cert }));
    expect(inline.status).toBe('ok');

    const off = await checkDocsReachable(checksConfig(s.url, { tlsVerify: false }));
    expect(off).toMatchObject({ status: 'warn', data: { tlsVerify: false } });
    expect(off.summary).toMatch(/does not verify its TLS certificate/);
  });

  test('expired → fail', async () => {
    const s = await server(startHttps(certs.expired.key, certs.expired.cert, healthyHandler));
    const r = await checkDocsReachable(checksConfig(s.url, { ca: certs.expired.cert }));
    expect(r).toMatchObject({ status: 'fail', data: { transport: 'tls_expired', code: 'CERT_HAS_EXPIRED' } });
    expect(r.summary).toMatch(/has expired/);
  });

  test('hostname mismatch → fail', async () => {
    const s = await server(startHttps(certs.otherName.key, certs.otherName.cert, healthyHandler));
    const r = await checkDocsReachable(checksConfig(s.url, { ca: certs.otherName.cert }));
    expect(r).toMatchObject({ status: 'fail', data: { transport: 'tls_hostname', code: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
    expect(r.summary).toMatch(/does not cover the name 127\.0\.0\.1/);
  });

  test('unknown CA → fail; the CA in DOCS_CA_FILE → ok', async () => {
    const s = await server(startHttps(certs.leaf.key, certs.leaf.cert, healthyHandler));
    const r = await checkDocsReachable(checksConfig(s.url));
    expect(r).toMatchObject({ status: 'fail', data: { transport: 'tls_untrusted', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } });
    expect(r.fix).toMatch(/fullchain/);
    expect((await checkDocsReachable(checksConfig(s.url, { ca: certs.ca }))).status).toBe('ok');
  });

  test('https:// to a plain-HTTP port, and http:// to a TLS port', async () => {
    const ds = await double();
    const r = await checkDocsReachable(checksConfig(ds.url.replace('http://', 'https://')));
    expect(r).toMatchObject({ status: 'fail', data: { transport: 'tls_not_tls' } });
    expect(r.fix).toMatch(/Use http:\/\//);

    const s = await server(startHttps(certs.selfSigned.key, certs.selfSigned.cert, healthyHandler));
    const plain = await checkDocsReachable(checksConfig(s.url.replace('https://', 'http://')));
    expect(plain).toMatchObject({ status: 'fail', data: { transport: 'reset' } });
    expect(plain.fix).toMatch(/use https:\/\//);
  });

  test('an unreadable or non-PEM CA file → fail naming it', async () => {
    const missing = await checkDocsReachable(checksConfig('https://127.0.0.1:1', { caFile: path.join(certs.dir, 'nope.pem') }));
    expect(missing).toMatchObject({ status: 'fail', data: { transport: 'ca_file', code: 'ENOENT' } });
    expect(missing.summary).toMatch(/nope\.pem cannot be read/);
    const notPem = await checkDocsReachable(checksConfig('https://127.0.0.1:1', { caFile: path.join(certs.dir, 'index.txt') }));
    expect(notPem).toMatchObject({ status: 'fail', data: { transport: 'ca_file', code: 'not_pem' } });
  });
});
