/**
 * The drive checks (reachable, credentials, flavour, root) against the Nextcloud encryption-state double and small
 * servers that fail in each named way. Every outcome of every check is reached; no result ever holds a password.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  checkDrive,
  checkDriveCredentials,
  checkDriveFlavour,
  checkDriveReachable,
  checkDriveRoot,
  type DriveCheckInput,
} from '../../../connector/src/checks/checkDrive.js';
import type { CheckResult } from '../../../connector/src/checks/CheckResult.js';
import { analyseDavUrl } from '../../../connector/src/checks/drive/davUrl.js';
import { startNextcloudOcsDouble, type NextcloudOcsDouble } from '../../helpers/nextcloudOcsDouble.js';
import { expectTranslated, render } from './checkTexts.js';

const ALICE = 'alice-pass-123';
const ADMIN = 'admin-pass-123';
const SECRETS = [ALICE, ADMIN, 'wrong-secret-pw', 'url-embedded-pw'];

function expectNoPassword(results: CheckResult[]): void {
  const text = JSON.stringify(results);
  for (const s of SECRETS) expect(text).not.toContain(s);
  // Nor the Basic-auth form of any of them.
  for (const s of SECRETS) expect(text).not.toContain(Buffer.from(`alice:${s}`).toString('base64'));
}

function byId(results: CheckResult[], id: string): CheckResult {
  const r = results.find((x) => x.id === id);
  if (!r) throw new Error(`no result ${id} in ${JSON.stringify(results)}`);
  return r;
}

interface Small {
  url: string;
  close(): Promise<void>;
}

async function listen(server: net.Server, scheme = 'http'): Promise<Small> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    url: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const input = (davUrl: string, over: Partial<DriveCheckInput> = {}): DriveCheckInput => ({
  davUrl,
  username: 'alice',
  password: ALICE,
  timeoutMs: 3000,
  ...over,
});

describe('drive checks on Nextcloud (encryption off, state a-)', () => {
  let nc: NextcloudOcsDouble;
  beforeAll(async () => {
    nc = await startNextcloudOcsDouble({ state: 'a' });
    nc.putFile('alice', '/test.docx', Buffer.from('hello wopi v1\n'));
    nc.inner.mkdirDirect('alice', '/Docs');
  });
  afterAll(async () => {
    await nc.close();
  });

  test('all four are ok on the right URL and credentials, each with its evidence', async () => {
    const results = await checkDrive(input(nc.davUrl('alice')));
    expectTranslated(results);
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['drive_reachable', 'ok'],
      ['drive_credentials', 'ok'],
      ['drive_flavour', 'ok'],
      ['drive_root', 'ok'],
    ]);
    expect(byId(results, 'drive_flavour').summary).toContain('Nextcloud 32.0.1');
    expect(byId(results, 'drive_flavour').data).toMatchObject({ flavour: 'nextcloud', version: '32.0.1.2', versionString: '32.0.1', maintenance: false });
    expect(byId(results, 'drive_credentials').data).toMatchObject({ userId: 'alice' });
    expect(byId(results, 'drive_root').summary).toContain('is a WebDAV folder');
    for (const r of results) expect(r.ms).toBeGreaterThanOrEqual(0);
    expectNoPassword(results);
  });

  test('the single-check functions give the same verdicts', async () => {
    const i = input(nc.davUrl('alice'));
    const [a, b, c, d] = await Promise.all([checkDriveReachable(i), checkDriveCredentials(i), checkDriveFlavour(i), checkDriveRoot(i)]);
    expectTranslated([a, b, c, d]);
    expect([a.status, b.status, c.status, d.status]).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  test('a wrong password: credentials fail with the app-password fix, the root check is skipped', async () => {
    const results = await checkDrive(input(nc.davUrl('alice'), { password: 'wrong-secret-pw' }));
    expectTranslated(results);
    expect(byId(results, 'drive_reachable').status).toBe('ok');
    const cred = byId(results, 'drive_credentials');
    expect(cred.status).toBe('fail');
    expect(cred.summary).toContain('HTTP 401');
    expect(cred.fix).toContain('app password');
    expect(cred.fix).toContain('Create new app password');
    // on the Chinese page: translated, the setting name and the account as they are
    expect(render(cred.messages?.summary, 'zh-CN')).toBe('Nextcloud 拒绝了“alice”的用户名或密码（HTTP 401）。');
    expect(render(cred.messages?.fix, 'zh-CN')).toMatch(/以 alice 登录 Nextcloud .*并将其填入 STORAGE_PASSWORD/);
    expect(byId(results, 'drive_root').status).toBe('skipped');
    expectNoPassword(results);
  });

  test('no account configured on a drive that requires one: credentials fail', async () => {
    const r = await checkDriveCredentials(input(nc.davUrl('alice'), { username: null, password: null }));
    expectTranslated(r);
    expect(r.status).toBe('fail');
    expect(r.summary).toContain('requires sign-in');
    expect(r.fix).toContain('STORAGE_USER');
  });

  test('the server root instead of the WebDAV folder: root fails with the right URL suggested', async () => {
    const results = await checkDrive(input(`${nc.origin}/`));
    expectTranslated(results);
    const root = byId(results, 'drive_root');
    expect(root.status).toBe('fail');
    expect(root.summary).toContain('/remote.php/dav/files/<user>');
    expect(root.fix).toContain(`${nc.origin}/remote.php/dav/files/alice`);
    expect(root.data).toMatchObject({ suggestedUrl: `${nc.origin}/remote.php/dav/files/alice` });
    // Off a DAV path the credentials are still checked (through OCS /cloud/user).
    expect(byId(results, 'drive_credentials')).toMatchObject({ status: 'ok', data: { userId: 'alice' } });
  });

  test('the credentials are checked through OCS off a DAV path too: a wrong password fails there', async () => {
    const r = await checkDriveCredentials(input(`${nc.origin}/index.php/apps/files/`, { password: 'wrong-secret-pw' }));
    expectTranslated(r);
    expect(r.status).toBe('fail');
    expect(r.summary).toContain('OCS');
  });

  test('the web UI URL and the DAV root also fail with the suggestion', async () => {
    for (const url of [`${nc.origin}/index.php/apps/files/`, `${nc.origin}/remote.php/dav`, `${nc.origin}/remote.php/dav/files/`]) {
      const r = await checkDriveRoot(input(url));
      expectTranslated(r);
      expect(r.status).toBe('fail');
      expect(r.fix).toContain(`${nc.origin}/remote.php/dav/files/alice`);
    }
  });

  test('the legacy /remote.php/webdav endpoint works but warns, suggesting the current one', async () => {
    const r = await checkDriveRoot(input(nc.legacyDavUrl()));
    expectTranslated(r);
    expect(r.status).toBe('warn');
    expect(r.summary).toContain('legacy');
    expect(r.fix).toContain(`${nc.origin}/remote.php/dav/files/alice`);
  });

  test('another user\'s folder: root fails naming the account\'s user id', async () => {
    const r = await checkDriveRoot(input(nc.davUrl('admin')));
    expectTranslated(r);
    expect(r.status).toBe('fail');
    expect(r.summary).toContain('"admin"');
    expect(r.summary).toContain('"alice"');
    expect(r.fix).toContain(nc.davUrl('alice'));
  });

  test('a file URL fails (the root must be a collection); a sub-folder warns', async () => {
    const file = await checkDriveRoot(input(`${nc.davUrl('alice')}/test.docx`));
    expectTranslated(file);
    expect(file.status).toBe('fail');
    expect(file.summary).toContain('is a file');
    const sub = await checkDriveRoot(input(`${nc.davUrl('alice')}/Docs`));
    expectTranslated(sub);
    expect(sub.status).toBe('warn');
    expect(sub.summary).toContain('/Docs');
  });

  test('a missing folder under the user\'s root fails with 404', async () => {
    const r = await checkDriveRoot(input(`${nc.davUrl('alice')}/NoSuchFolder`));
    expectTranslated(r);
    expect(r.status).toBe('fail');
    expect(r.summary).toContain('404');
  });

  test('flavour forced to generic on a Nextcloud: warns; forced to nextcloud: ok', async () => {
    const g = await checkDriveFlavour(input(nc.davUrl('alice'), { flavourOverride: 'generic' }));
    expectTranslated(g);
    expect(g.status).toBe('warn');
    expect(g.fix).toContain('STORAGE_FLAVOUR');
    const n = await checkDriveFlavour(input(nc.davUrl('alice'), { flavourOverride: 'nextcloud' }));
    expectTranslated(n);
    expect(n.status).toBe('ok');
  });

  test('maintenance mode: flavour fails with the occ command, the root check fails on the 503', async () => {
    nc.setStatus({ maintenance: true });
    try {
      const results = await checkDrive(input(nc.davUrl('alice')));
      expectTranslated(results);
      const fl = byId(results, 'drive_flavour');
      expect(fl.status).toBe('fail');
      expect(fl.summary).toContain('maintenance mode');
      expect(fl.fix).toContain('occ maintenance:mode --off');
      expect(byId(results, 'drive_reachable').status).toBe('ok');
      expect(byId(results, 'drive_root')).toMatchObject({ status: 'fail' });
      expect(byId(results, 'drive_root').summary).toContain('503');
    } finally {
      nc.setStatus({ maintenance: false });
    }
  });

  test('a pending database upgrade fails with `occ upgrade`; an unfinished install fails', async () => {
    nc.setStatus({ needsDbUpgrade: true });
    try {
      const r = await checkDriveFlavour(input(nc.davUrl('alice')));
      expectTranslated(r);
      expect(r.status).toBe('fail');
      expect(r.summary).toContain('needsDbUpgrade');
      expect(r.fix).toContain('occ upgrade');
    } finally {
      nc.setStatus({ needsDbUpgrade: false });
    }
    nc.setStatus({ installed: false });
    try {
      const r = await checkDriveFlavour(input(nc.davUrl('alice')));
      expectTranslated(r);
      expect(r.status).toBe('fail');
      expect(r.summary).toContain('not installed');
    } finally {
      nc.setStatus({ installed: true });
    }
  });

  test('credentials in the URL never show up in a result', async () => {
    const u = new URL(nc.davUrl('alice'));
    u.username = 'alice';
    u.password = 'url-embedded-pw';
    const results = await checkDrive(input(u.toString()));
    expectTranslated(results);
    expect(byId(results, 'drive_root').status).toBe('ok');
    expectNoPassword(results);
  });
});

describe('drive checks on ownCloud and generic WebDAV', () => {
  test('ownCloud (status.php with string booleans): flavour ok, maintenance "true" fails', async () => {
    const oc = await startNextcloudOcsDouble({ product: 'owncloud' });
    try {
      const ok = await checkDriveFlavour(input(oc.davUrl('alice')));
      expectTranslated(ok);
      expect(ok.status).toBe('ok');
      expect(ok.summary).toContain('ownCloud 10.15.0');
      expect(ok.data).toMatchObject({ flavour: 'owncloud' });
      const cred = await checkDriveCredentials(input(oc.davUrl('alice'), { password: 'wrong-secret-pw' }));
      expectTranslated(cred);
      expect(cred.fix).toContain('App passwords');
      oc.setStatus({ maintenance: true });
      const m = await checkDriveFlavour(input(oc.davUrl('alice')));
      expectTranslated(m);
      expect(m.status).toBe('fail');
      expect(m.summary).toContain('maintenance');
    } finally {
      await oc.close();
    }
  });

  test('generic WebDAV (no status.php): flavour ok as generic; forcing nextcloud warns; wrong path fails', async () => {
    const g = await startNextcloudOcsDouble({ product: 'generic' });
    try {
      const results = await checkDrive(input(g.davUrl('alice')));
      expectTranslated(results);
      expect(results.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(byId(results, 'drive_flavour').summary).toContain('Generic WebDAV');
      const forced = await checkDriveFlavour(input(g.davUrl('alice'), { flavourOverride: 'nextcloud' }));
      expectTranslated(forced);
      expect(forced.status).toBe('warn');
      const wrong = await checkDrive(input(`${g.origin}/nowhere/`));
      expectTranslated(wrong);
      const root = byId(wrong, 'drive_root');
      expect(root.status).toBe('fail');
      expect(root.summary).toContain('404');
      // A 404 from a path that never asked for credentials proves nothing about them.
      expect(byId(wrong, 'drive_credentials').status).toBe('skipped');
      expect(byId(wrong, 'drive_credentials').summary).toContain('Cannot tell');
      const cred = await checkDriveCredentials(input(g.davUrl('alice'), { password: 'wrong-secret-pw' }));
      expectTranslated(cred);
      expect(cred.status).toBe('fail');
      expect(cred.fix).toContain('STORAGE_PASSWORD');
    } finally {
      await g.close();
    }
  });

  test('no account on a drive that does not ask for one: credentials skipped', async () => {
    const open = await listen(
      http.createServer((req, res) => {
        req.resume();
        res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8' });
        res.end(
          '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/dav/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>',
        );
      }),
    );
    try {
      const results = await checkDrive(input(`${open.url}/dav/`, { username: null, password: null }));
      expectTranslated(results);
      expect(byId(results, 'drive_credentials').status).toBe('skipped');
      expect(byId(results, 'drive_root').status).toBe('ok');
    } finally {
      await open.close();
    }
  });

  test('a redirect, a web page, a 405, a 403 and a proxy\'s 502 each fail with their own words', async () => {
    const srv = await listen(
      http.createServer((req, res) => {
        req.resume();
        if (req.url?.startsWith('/moved')) {
          res.writeHead(301, { Location: 'https://cloud.example/remote.php/dav/files/alice/' });
          res.end();
        } else if (req.url?.startsWith('/page')) {
          res.writeHead(200, { 'Content-Type': 'text/html' });
          res.end('<html>hello</html>');
        } else if (req.url?.startsWith('/forbidden')) {
          res.writeHead(403, { 'Content-Type': 'application/xml; charset=utf-8' });
          res.end('<?xml version="1.0" encoding="utf-8"?>\n<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n  <s:exception>Sabre\\DAV\\Exception\\Forbidden</s:exception>\n  <s:message>Access denied</s:message>\n</d:error>\n');
        } else if (req.url?.startsWith('/nodav')) {
          res.writeHead(405, { 'Content-Type': 'text/plain' });
          res.end('Method Not Allowed');
        } else {
          res.writeHead(502, { 'Content-Type': 'text/html', Server: 'nginx' });
          res.end('<html>502 Bad Gateway</html>');
        }
      }),
    );
    try {
      const moved = await checkDriveRoot(input(`${srv.url}/moved`));
      expectTranslated(moved);
      expect(moved.status).toBe('fail');
      expect(moved.summary).toContain('redirects (HTTP 301) to https://cloud.example/remote.php/dav/files/alice/');
      const page = await checkDriveRoot(input(`${srv.url}/page`));
      expectTranslated(page);
      expect(page.status).toBe('fail');
      expect(page.summary).toContain('like a web page');
      const nodav = await checkDriveRoot(input(`${srv.url}/nodav`));
      expectTranslated(nodav);
      expect(nodav.status).toBe('fail');
      expect(nodav.summary).toContain('does not accept PROPFIND');
      const forbidden = await checkDrive(input(`${srv.url}/forbidden/`));
      expectTranslated(forbidden);
      expect(byId(forbidden, 'drive_credentials').status).toBe('fail');
      expect(byId(forbidden, 'drive_credentials').summary).toContain('forbids access');
      expect(byId(forbidden, 'drive_credentials').detail).toContain('Access denied');
      expect(byId(forbidden, 'drive_root').status).toBe('skipped');
      const bad = await checkDriveReachable(input(`${srv.url}/x`));
      expectTranslated(bad);
      expect(bad.status).toBe('fail');
      expect(bad.summary).toContain('502');
    } finally {
      await srv.close();
    }
  });
});

describe('drive unreachable: each network failure named, all within the timeout', () => {
  test('connection refused', async () => {
    const s = await listen(net.createServer());
    await s.close();
    const results = await checkDrive(input(`${s.url}/remote.php/dav/files/alice`));
    expectTranslated(results);
    const r = byId(results, 'drive_reachable');
    expect(r.status).toBe('fail');
    expect(r.summary).toContain('connection refused');
    expect(r.data).toMatchObject({ transport: 'refused', code: 'ECONNREFUSED' });
    for (const id of ['drive_credentials', 'drive_flavour', 'drive_root']) expect(byId(results, id).status).toBe('skipped');
  });

  test('DNS: a name that does not resolve', async () => {
    // A generous limit: without a network the resolver may take a while to say EAI_AGAIN.
    const r = await checkDriveReachable(input('http://wopi-bridge-drive-check.invalid/remote.php/dav/files/alice', { timeoutMs: 15000 }));
    expectTranslated(r);
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/does not resolve|could not be resolved/);
    expect(r.data).toMatchObject({ transport: 'dns' });
  }, 20000);

  test('timeout: a server that accepts and never answers; the whole run ends within the configured timeout', async () => {
    const silent = await listen(net.createServer(() => undefined));
    try {
      const started = Date.now();
      const results = await checkDrive(input(`${silent.url}/remote.php/dav/files/alice`, { timeoutMs: 400 }));
      expectTranslated(results);
      const took = Date.now() - started;
      expect(took).toBeLessThan(400 + 500);
      const r = byId(results, 'drive_reachable');
      expect(r.status).toBe('fail');
      expect(r.summary).toContain('(timeout)');
      expect(r.fix).toContain('STORAGE_TIMEOUT_MS');
      expect(render(r.messages?.summary, 'zh-CN')).toMatch(/^无法访问网盘：127\.0\.0\.1:\d+ 在 \d+ 毫秒内没有应答（超时）。$/);
      expect(render(r.messages?.fix, 'zh-CN')).toContain('请调大 STORAGE_TIMEOUT_MS');
      expect(r.data).toMatchObject({ transport: 'timeout' });
      for (const x of results) expect(x.ms).toBeLessThan(400 + 500);
    } finally {
      await silent.close();
    }
  });

  test('TLS: https:// to a plain-HTTP port is named as such', async () => {
    const plain = await listen(http.createServer((_req, res) => res.end('x')));
    try {
      const r = await checkDriveReachable(input(`${plain.url.replace('http:', 'https:')}/remote.php/dav/files/alice`));
      expectTranslated(r);
      expect(r.status).toBe('fail');
      expect(r.summary).toContain('does not speak TLS');
      expect(r.data).toMatchObject({ transport: 'tls_not_tls' });
    } finally {
      await plain.close();
    }
  });

  test('TLS: a self-signed certificate is named, with the NODE_EXTRA_CA_CERTS fix; trusting it makes it reachable', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'drive-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {
        cwd: dir,
        stdio: 'ignore',
      });
      const key = readFileSync(path.join(dir, 'k.pem'));
      const cert = readFileSync(path.join(dir, 'c.pem'));
      const srv = await listen(
        https.createServer({ key, cert }, (req, res) => {
          req.resume();
          res.writeHead(207, { 'Content-Type': 'application/xml' });
          res.end('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/d/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>');
        }),
        'https',
      );
      try {
        const r = await checkDriveReachable(input(`${srv.url}/d/`));
        expectTranslated(r);
        expect(r.status).toBe('fail');
        expect(r.summary).toContain('self-signed');
        expect(r.fix).toContain('NODE_EXTRA_CA_CERTS');
        expect(render(r.messages?.summary, 'zh-CN')).toContain('是自签名的');
        expect(render(r.messages?.fix, 'zh-CN')).toContain('NODE_EXTRA_CA_CERTS=/path/to/ca.pem');
        expect(r.data).toMatchObject({ transport: 'tls_self_signed' });
        const trusted = await checkDriveReachable(input(`${srv.url}/d/`, { tls: { ca: cert } }));
        expectTranslated(trusted);
        expect(trusted.status).toBe('ok');
      } finally {
        await srv.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('not a URL at all', async () => {
    const results = await checkDrive(input('cloud.example.com/remote.php'));
    expectTranslated(results);
    expect(byId(results, 'drive_reachable')).toMatchObject({ status: 'fail', data: { transport: 'bad_url' } });
    for (const id of ['drive_credentials', 'drive_flavour', 'drive_root']) expect(byId(results, id).status).toBe('skipped');
  });

  test('a cancelled run still returns results', async () => {
    const silent = await listen(net.createServer(() => undefined));
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const started = Date.now();
      const r = await checkDriveReachable(input(`${silent.url}/x`, { timeoutMs: 5000 }), { signal: ac.signal });
      expectTranslated(r);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(r).toMatchObject({ status: 'fail', data: { transport: 'aborted' } });
    } finally {
      await silent.close();
    }
  });
});

describe('URL analysis', () => {
  test.each([
    ['https://c.example/remote.php/dav/files/alice', 'files', 'https://c.example', 'alice'],
    ['https://c.example/nc/remote.php/dav/files/a%20b/', 'files', 'https://c.example/nc', 'a b'],
    ['https://c.example/remote.php/dav/files/alice/Docs', 'files-sub', 'https://c.example', 'alice'],
    ['https://c.example/remote.php/webdav/', 'legacy', 'https://c.example', null],
    ['https://c.example/remote.php/dav/', 'dav-root', 'https://c.example', null],
    ['https://c.example/nc/index.php/apps/files/?dir=/', 'no-dav', 'https://c.example/nc', null],
    ['https://c.example/', 'no-dav', 'https://c.example', null],
  ])('%s → %s', (url, kind, base, user) => {
    expect(analyseDavUrl(url)).toMatchObject({ kind, base, user });
  });
});
