/**
 * checkStorageEncryption against the Nextcloud double in each captured encryption state (a-, b0-, b-, c-, d-, d2-),
 * against the ownCloud and generic variants, with and without admin credentials, and against drives that do not
 * answer. Every outcome of both results (settings, probe) is reached; no result holds a password.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { checkStorageEncryption, type StorageEncryptionInput } from '../../../connector/src/checks/checkStorageEncryption.js';
import { checkDrive } from '../../../connector/src/checks/checkDrive.js';
import type { CheckResult } from '../../../connector/src/checks/CheckResult.js';
import { startNextcloudOcsDouble, type EncryptionState, type NextcloudOcsDouble } from '../../helpers/nextcloudOcsDouble.js';
import { expectTranslated, render } from './checkTexts.js';

const ALICE = 'alice-pass-123';
const ADMIN = 'admin-pass-123';
const SECRETS = [ALICE, ADMIN, 'wrong-admin-pw'];

function expectNoPassword(results: CheckResult[]): void {
  const text = JSON.stringify(results);
  for (const s of SECRETS) expect(text).not.toContain(s);
  for (const u of ['alice', 'admin']) for (const s of SECRETS) expect(text).not.toContain(Buffer.from(`${u}:${s}`).toString('base64'));
}

const withAdmin = (davUrl: string, over: Partial<StorageEncryptionInput> = {}): StorageEncryptionInput => ({
  davUrl,
  username: 'alice',
  password: ALICE,
  adminUsername: 'admin',
  adminPassword: ADMIN,
  timeoutMs: 3000,
  ...over,
});

const noAdmin = (davUrl: string, over: Partial<StorageEncryptionInput> = {}): StorageEncryptionInput =>
  withAdmin(davUrl, { adminUsername: null, adminPassword: null, ...over });

async function run(i: StorageEncryptionInput): Promise<{ settings: CheckResult; probe: CheckResult; all: CheckResult[] }> {
  const all = await checkStorageEncryption(i);
  expect(all.map((r) => r.id)).toEqual(['drive_encryption', 'drive_encryption_probe']);
  expectNoPassword(all);
  expectTranslated(all);
  const [settings, probe] = all as [CheckResult, CheckResult];
  return { settings, probe, all };
}

/**
 * A drive as it looks after living through the states: a file stored before encryption (plain), and one stored
 * while encryption was on (encrypted). The probe picks the first small file of the root: `enc.docx`.
 */
async function driveIn(state: EncryptionState, product: 'nextcloud' | 'owncloud' = 'nextcloud'): Promise<NextcloudOcsDouble> {
  const d = await startNextcloudOcsDouble({ state, product });
  d.putFile('alice', '/enc.docx', Buffer.from('hello wopi v1\n'), { encrypted: state !== 'a' && state !== 'b0' });
  d.putFile('alice', '/Docs/renamed.docx', Buffer.from('hello wopi v2 (overwritten)\n'), { encrypted: false });
  return d;
}

describe('checkStorageEncryption on Nextcloud, each captured state, with admin credentials', () => {
  test('a- off: settings ok "off", probe ok', async () => {
    const d = await driveIn('a');
    try {
      const { settings, probe } = await run(withAdmin(d.davUrl('alice')));
      expect(settings).toMatchObject({ status: 'ok', data: { state: 'off', encryptionAppEnabled: false } });
      expect(settings.summary).toBe('Server-side encryption is off.');
      expect(probe).toMatchObject({ status: 'ok', data: { path: '/enc.docx', verdict: 'ok' } });
    } finally {
      await d.close();
    }
  });

  test('b0- app enabled, encryption not switched on: settings ok, saying so', async () => {
    const d = await driveIn('b0');
    try {
      const { settings, probe } = await run(withAdmin(d.davUrl('alice')));
      expect(settings).toMatchObject({ status: 'ok', data: { state: 'off_app_enabled', encryptionAppEnabled: true } });
      expect(settings.summary).toContain('never switched on');
      expect(probe.status).toBe('ok');
    } finally {
      await d.close();
    }
  });

  test('b- per-user keys: settings warn (DS cannot open such documents; NC 32 Basic-auth 500 unless cookies), probe warn with the cut-off 500', async () => {
    const d = await driveIn('b');
    try {
      const { settings, probe } = await run(withAdmin(d.davUrl('alice')));
      expect(settings).toMatchObject({ status: 'warn', data: { state: 'per_user_keys', values: { 'encryption/useMasterKey': '0' } } });
      expect(settings.summary).toContain('per-user keys');
      expect(settings.summary).toContain('cannot be opened by DocumentServer');
      expect(settings.summary).toContain('session cookies');
      expect(settings.summary).toContain('Confirmed by the probe download');
      expect(settings.fix).toContain('encryption:enable-master-key');
      expect(probe).toMatchObject({ status: 'warn', data: { verdict: 'per_user_keys', httpStatus: 500, contentLength: 14, bodyBytes: 14 } });
      expect(probe.summary).toContain('HTTP 500');
    } finally {
      await d.close();
    }
  });

  test('b- per-user keys, probe on a file stored before encryption: the probe reads it (ok), the settings still warn', async () => {
    const d = await driveIn('b');
    try {
      const { settings, probe } = await run(withAdmin(d.davUrl('alice'), { probePath: '/Docs/renamed.docx' }));
      expect(settings.status).toBe('warn');
      expect(settings.summary).not.toContain('Confirmed');
      expect(probe).toMatchObject({ status: 'ok', data: { path: '/Docs/renamed.docx' } });
    } finally {
      await d.close();
    }
  });

  test('c- master key: settings ok, noting the master key; the encrypted file downloads', async () => {
    const d = await driveIn('c');
    try {
      const { settings, probe } = await run(withAdmin(d.davUrl('alice')));
      expect(settings).toMatchObject({ status: 'ok', data: { state: 'master_key', values: { 'encryption/useMasterKey': '' } } });
      expect(settings.summary).toContain('master key');
      expect(probe).toMatchObject({ status: 'ok', data: { verdict: 'ok' } });
    } finally {
      await d.close();
    }
  });

  test.each(['d', 'd2'] as const)('%s- module missing: settings fail, confirmed by the probe\'s 503; the fix enables the app', async (state) => {
    const d = await driveIn(state);
    try {
      const { settings, probe } = await run(withAdmin(d.davUrl('alice')));
      expect(settings).toMatchObject({
        status: 'fail',
        data: { state: 'module_missing', encryptionAppEnabled: false, values: { 'core/encryption_enabled': 'yes', 'encryption/enabled': 'no' }, probe: 'module_missing' },
      });
      expect(settings.summary).toContain('core/encryption_enabled = yes');
      expect(settings.summary).toContain('"Default encryption module" app is disabled');
      expect(settings.summary).toContain('Confirmed by the probe download');
      expect(settings.fix).toContain('occ app:enable encryption');
      expect(probe).toMatchObject({ status: 'fail', data: { verdict: 'module_missing', httpStatus: 503, message: 'Encryption not ready: Module with ID: OC_DEFAULT_MODULE does not exist.' } });
      expect(probe.summary).toContain('HTTP 503 "Encryption not ready: Module with ID: OC_DEFAULT_MODULE does not exist."');
      expect(probe.fix).toContain('occ app:enable encryption');
    } finally {
      await d.close();
    }
  });

  test('d- on an unencrypted probe file: still fails ("Default encryption module not loaded")', async () => {
    const d = await driveIn('d');
    try {
      const { probe } = await run(noAdmin(d.davUrl('alice'), { probePath: 'Docs/renamed.docx' }));
      expect(probe).toMatchObject({ status: 'fail', data: { message: 'Encryption not ready: Default encryption module not loaded' } });
    } finally {
      await d.close();
    }
  });

  test('d-: a PROPFIND-only health check looks fine, checkStorageEncryption fails', async () => {
    const d = await driveIn('d');
    try {
      const drive = await checkDrive({ davUrl: d.davUrl('alice'), username: 'alice', password: ALICE, timeoutMs: 3000 });
      expect(drive.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
      const { settings, probe } = await run(withAdmin(d.davUrl('alice')));
      expect(settings.status).toBe('fail');
      expect(probe.status).toBe('fail');
    } finally {
      await d.close();
    }
  });

  test('re-enabling the app (state c again) clears the failure', async () => {
    const d = await driveIn('d2');
    try {
      expect((await run(withAdmin(d.davUrl('alice')))).settings.status).toBe('fail');
      d.setState('c');
      const { settings, probe } = await run(withAdmin(d.davUrl('alice')));
      expect([settings.status, probe.status]).toEqual(['ok', 'ok']);
    } finally {
      await d.close();
    }
  });
});

describe('without usable admin credentials the probe still runs', () => {
  let d: NextcloudOcsDouble;
  beforeAll(async () => {
    d = await driveIn('d');
  });
  afterAll(async () => {
    await d.close();
  });

  test('no admin credentials: settings skipped saying what is needed, the probe alone catches the missing module', async () => {
    const { settings, probe } = await run(noAdmin(d.davUrl('alice')));
    expect(settings.status).toBe('skipped');
    expect(settings.summary).toContain('administrator');
    expect(settings.summary).toContain('STORAGE_ADMIN_USER');
    expect(settings.summary).toContain('encryption module is missing');
    expect(settings.fix).toContain('STORAGE_ADMIN_PASSWORD');
    expect(probe.status).toBe('fail');
    expect(probe.fix).toContain('occ app:enable encryption');
    // on the Chinese page: what the probe showed in words of its own, the admin settings named as they are
    const zh = render(settings.messages?.summary, 'zh-CN') ?? '';
    expect(zh).toContain('未设置 STORAGE_ADMIN_USER 和 STORAGE_ADMIN_PASSWORD');
    expect(zh).toContain('仅凭探测下载就能看出加密模块缺失');
    expect(render(settings.messages?.fix, 'zh-CN')).toMatch(/请将 STORAGE_ADMIN_USER 和 STORAGE_ADMIN_PASSWORD 设为 Nextcloud 管理员组/);
    // Nothing was asked over OCS without admin credentials.
    expect(d.requests.filter((r) => r.path.startsWith('/ocs/') && r.headers.authorization === `Basic ${Buffer.from(`alice:${ALICE}`).toString('base64')}` && r.path.includes('provisioning_api'))).toHaveLength(0);
  });

  test('non-admin "admin" credentials: OCS 403 → settings skipped with that reason; probe still fails', async () => {
    const { settings, probe } = await run(withAdmin(d.davUrl('alice'), { adminUsername: 'alice', adminPassword: ALICE }));
    expect(settings).toMatchObject({ status: 'skipped', data: { reason: 'not_admin', httpStatus: 403 } });
    expect(settings.summary).toContain('"alice" is not an administrator');
    expect(settings.summary).toContain('Logged in account must be an admin');
    expect(probe.status).toBe('fail');
  });

  test('a wrong admin password: settings warn (401) with the fix naming the admin settings', async () => {
    const { settings, probe } = await run(withAdmin(d.davUrl('alice'), { adminPassword: 'wrong-admin-pw' }));
    expect(settings).toMatchObject({ status: 'warn', data: { reason: 'admin_credentials_rejected', httpStatus: 401 } });
    expect(settings.fix).toContain('STORAGE_ADMIN_PASSWORD');
    expect(probe.status).toBe('fail');
  });

  test('no drive account either: the probe is skipped (the drive requires sign-in)', async () => {
    const { probe } = await run(noAdmin(d.davUrl('alice'), { username: null, password: null }));
    expect(probe.status).toBe('skipped');
    expect(probe.summary).toContain('requires sign-in');
  });
});

describe('OCS behaviour and probe edge cases', () => {
  test('a proxy stripping OCS-APIRequest: 412 "CSRF check failed" → settings warn naming the header', async () => {
    const d = await startNextcloudOcsDouble({ state: 'c', stripOcsApiRequest: true });
    try {
      d.putFile('alice', '/a.txt', Buffer.from('x'));
      const { settings, probe } = await run(withAdmin(d.davUrl('alice')));
      expect(settings).toMatchObject({ status: 'warn', data: { reason: 'csrf', httpStatus: 412 } });
      expect(settings.fix).toContain('OCS-APIRequest');
      expect(probe.status).toBe('ok');
    } finally {
      await d.close();
    }
  });

  test('the OCS requests carry OCS-APIRequest: true and format=json, with the admin account', async () => {
    const d = await driveIn('c');
    try {
      await run(withAdmin(d.davUrl('alice')));
      const ocs = d.requests.filter((r) => r.path.startsWith('/ocs/'));
      expect(ocs.map((r) => r.path.split('?')[0]).sort()).toEqual(
        [
          '/ocs/v1.php/cloud/apps',
          '/ocs/v2.php/apps/provisioning_api/api/v1/config/apps/core/default_encryption_module',
          '/ocs/v2.php/apps/provisioning_api/api/v1/config/apps/core/encryption_enabled',
          '/ocs/v2.php/apps/provisioning_api/api/v1/config/apps/encryption/enabled',
          '/ocs/v2.php/apps/provisioning_api/api/v1/config/apps/encryption/useMasterKey',
        ].sort(),
      );
      for (const r of ocs) {
        expect(r.headers['ocs-apirequest']).toBe('true');
        expect(r.path).toContain('format=json');
        expect(r.headers.authorization).toBe(`Basic ${Buffer.from(`admin:${ADMIN}`).toString('base64')}`);
      }
    } finally {
      await d.close();
    }
  });

  test('probe: a named file that does not exist warns; an empty drive skips; a file only in a sub-folder is found', async () => {
    const d = await startNextcloudOcsDouble({ state: 'a' });
    try {
      const missing = await run(noAdmin(d.davUrl('alice'), { probePath: '/nope.docx' }));
      expect(missing.probe).toMatchObject({ status: 'warn', data: { verdict: 'not_found' } });
      const empty = await run(noAdmin(d.davUrl('alice')));
      expect(empty.probe.status).toBe('skipped');
      expect(empty.probe.summary).toContain('no file of at most 1 MiB');
      d.inner.putFileDirect('alice', '/Big.bin', Buffer.alloc(2 * 1024 * 1024));
      d.putFile('alice', '/Docs/small.txt', Buffer.from('hi'));
      const sub = await run(noAdmin(d.davUrl('alice')));
      expect(sub.probe).toMatchObject({ status: 'ok', data: { path: '/Docs/small.txt' } });
    } finally {
      await d.close();
    }
  });

  test('probe: another download error (wrong path in the URL → listing fails) is reported, not mistaken for encryption', async () => {
    const d = await driveIn('a');
    try {
      const { probe } = await run(noAdmin(`${d.davUrl('alice')}/NoSuchFolder`));
      expect(probe.status).toBe('skipped');
      expect(probe.summary).toContain('404');
    } finally {
      await d.close();
    }
  });
});

describe('ownCloud and generic drives', () => {
  test('ownCloud, module missing: the 403 Forbidden "Encryption not ready" body fails the probe; the apps list fails the settings', async () => {
    const d = await driveIn('d', 'owncloud');
    try {
      const { settings, probe } = await run(withAdmin(d.davUrl('alice')));
      expect(probe).toMatchObject({ status: 'fail', data: { httpStatus: 403, exception: 'Sabre\\DAV\\Exception\\Forbidden', verdict: 'module_missing' } });
      expect(probe.summary).toContain('ownCloud answers 403 here');
      expect(settings).toMatchObject({ status: 'fail', data: { state: 'module_missing', encryptionAppEnabled: false } });
      expect(settings.fix).toContain('occ app:enable encryption');
    } finally {
      await d.close();
    }
  });

  test('ownCloud without admin credentials: settings skipped, probe fails on the 403', async () => {
    const d = await driveIn('d', 'owncloud');
    try {
      const { settings, probe } = await run(noAdmin(d.davUrl('alice')));
      expect(settings.status).toBe('skipped');
      expect(settings.summary).toContain('ownCloud administrator');
      expect(probe.status).toBe('fail');
    } finally {
      await d.close();
    }
  });

  test('ownCloud, encryption app not enabled: ok (off); enabled: warn, the key mode cannot be read remotely', async () => {
    const off = await driveIn('a', 'owncloud');
    try {
      const { settings } = await run(withAdmin(off.davUrl('alice')));
      expect(settings).toMatchObject({ status: 'ok', data: { state: 'off' } });
    } finally {
      await off.close();
    }
    const on = await driveIn('c', 'owncloud');
    try {
      const { settings, probe } = await run(withAdmin(on.davUrl('alice')));
      expect(settings).toMatchObject({ status: 'warn', data: { state: 'on_unknown_mode', encryptionAppEnabled: true } });
      expect(settings.fix).toContain('useMasterKey');
      expect(probe.status).toBe('ok');
    } finally {
      await on.close();
    }
  });

  test('generic WebDAV: settings not applicable (skipped), the probe still runs', async () => {
    const g = await startNextcloudOcsDouble({ product: 'generic' });
    try {
      g.inner.putFileDirect('alice', '/x.txt', Buffer.from('x'));
      const { settings, probe } = await run(withAdmin(g.davUrl('alice')));
      expect(settings.status).toBe('skipped');
      expect(settings.summary).toContain('generic WebDAV');
      expect(probe.status).toBe('ok');
    } finally {
      await g.close();
    }
  });
});

describe('unreachable drives end within the configured timeout', () => {
  test('refused: both skipped, naming the refusal', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const { settings, probe } = await run(withAdmin(`http://127.0.0.1:${port}/remote.php/dav/files/alice`));
    expect(settings.status).toBe('skipped');
    expect(probe.status).toBe('skipped');
    expect(probe.summary).toContain('connection refused');
  });

  test('a server that never answers: both results within timeoutMs', async () => {
    const sockets = new Set<net.Socket>();
    const s = net.createServer((c) => {
      sockets.add(c);
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const { settings, probe, all } = await run(withAdmin(`http://127.0.0.1:${port}/remote.php/dav/files/alice`, { timeoutMs: 400 }));
      expect(Date.now() - started).toBeLessThan(400 + 500);
      expect(settings.status).toBe('skipped');
      expect(probe.status).toBe('skipped');
      expect(probe.summary).toContain('timeout');
      for (const r of all) expect(r.ms).toBeLessThan(900);
    } finally {
      for (const c of sockets) c.destroy();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  test('a download that stalls: the probe warns that it stopped, within timeoutMs', async () => {
    const d = await driveIn('c');
    try {
      d.inner.holdDownloads(true);
      const started = Date.now();
      const { probe } = await run(noAdmin(d.davUrl('alice'), { timeoutMs: 600, probePath: '/Docs/renamed.docx' }));
      expect(Date.now() - started).toBeLessThan(600 + 500);
      // The held download sent its headers and half the body, then nothing: a 200 that never ends.
      expect(probe).toMatchObject({ status: 'warn', data: { verdict: 'incomplete', httpStatus: 200 } });
      expect(probe.summary).toContain('stopped after 14 of 28 bytes');
    } finally {
      d.inner.holdDownloads(false);
      await d.close();
    }
  });
});

describe('a drive answering the probe in other ways', () => {
  let getAnswer: (res: http.ServerResponse) => void = (res) => res.end('ok');
  let origin = '';
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.method === 'PROPFIND') {
      res.writeHead(207, { 'Content-Type': 'application/xml; charset=utf-8' });
      res.end(
        '<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>/dav/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>' +
          '<d:response><d:href>/dav/a.txt</d:href><d:propstat><d:prop><d:getcontentlength>5</d:getcontentlength><d:resourcetype/></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>',
      );
      return;
    }
    if (req.method === 'GET' && req.url === '/dav/a.txt') return getAnswer(res);
    res.writeHead(404, { 'Content-Type': 'text/html' });
    res.end('');
  });
  server.on('connection', (c) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const c of sockets) c.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const sabre = (exception: string, message: string): string =>
    `<?xml version="1.0" encoding="utf-8"?>\n<d:error xmlns:d="DAV:" xmlns:s="http://sabredav.org/ns">\n  <s:exception>${exception}</s:exception>\n  <s:message>${message}</s:message>\n</d:error>\n`;

  test('another download error (500, not encryption): probe warns with the server\'s message', async () => {
    getAnswer = (res) => {
      res.writeHead(500, { 'Content-Type': 'application/xml; charset=utf-8' });
      res.end(sabre('Sabre\\DAV\\Exception', 'Database is locked'));
    };
    const { settings, probe } = await run(noAdmin(`${origin}/dav/`));
    expect(settings.status).toBe('skipped');
    expect(probe).toMatchObject({ status: 'warn', data: { verdict: 'error', httpStatus: 500, message: 'Database is locked' } });
  });

  test('the connection dies before an answer to the GET: probe warns naming it', async () => {
    getAnswer = (res) => res.socket?.destroy();
    const { probe } = await run(noAdmin(`${origin}/dav/`));
    expect(probe).toMatchObject({ status: 'warn', data: { transport: 'reset', path: '/a.txt' } });
  });

  test('a server without status.php that answers "Encryption not ready": both results fail (the probe decides)', async () => {
    getAnswer = (res) => {
      res.writeHead(503, { 'Content-Type': 'application/xml; charset=utf-8' });
      res.end(sabre('Sabre\\DAV\\Exception\\ServiceUnavailable', 'Encryption not ready: Module with ID: OC_DEFAULT_MODULE does not exist.'));
    };
    const { settings, probe } = await run(withAdmin(`${origin}/dav/`));
    expect(settings).toMatchObject({ status: 'fail', data: { state: 'module_missing' } });
    expect(probe.status).toBe('fail');
  });
});

describe('OCS answers the settings cannot use', () => {
  test('no provisioning API (an ownCloud treated as Nextcloud): settings skipped, naming the missing endpoint', async () => {
    const d = await driveIn('a', 'owncloud');
    try {
      const { settings, probe } = await run(withAdmin(d.davUrl('alice'), { flavourOverride: 'nextcloud' }));
      expect(settings).toMatchObject({ status: 'skipped', data: { reason: 'no_endpoint', httpStatus: 404 } });
      expect(settings.summary).toContain('provisioning API');
      expect(probe.status).toBe('ok');
    } finally {
      await d.close();
    }
  });

  test('OCS in maintenance (503): settings warn with the status', async () => {
    const d = await driveIn('c');
    try {
      d.setStatus({ maintenance: true });
      const { settings, probe } = await run(withAdmin(d.davUrl('alice'), { flavourOverride: 'nextcloud' }));
      expect(settings).toMatchObject({ status: 'warn', data: { reason: 'error', httpStatus: 503 } });
      expect(probe.status).toBe('skipped');
    } finally {
      await d.close();
    }
  });
});
