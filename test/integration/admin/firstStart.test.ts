import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { cleanupProcesses, makeTempDir, spawnBridge } from '../../helpers/processes.js';
import { AdminClient } from './adminHarness.js';

const PRINTED = /^admin password \(shown once\): (\S+)$/m;

// What `npm start` does on the very first start without ADMIN_PASSWORD: a password is generated, only its hash
// kept (admin.json, 0600), and the password printed once on stderr — never logged, never printed again.
describe('first start: the generated admin password', () => {
  afterAll(async () => {
    await cleanupProcesses();
  });

  test('printed once on stderr, stored only as a scrypt hash in admin.json (0600), signs in; a second start prints nothing', async () => {
    const dataDir = await makeTempDir('wopi-admin-first-');
    const first = await spawnBridge({ DATA_DIR: dataDir, CHECK_INTERVAL_MINUTES: '0' });
    let password: string;
    try {
      const m = PRINTED.exec(first.stderr);
      expect(m).not.toBeNull();
      password = m?.[1] as string;
      expect(password.length).toBeGreaterThanOrEqual(20);
      expect(first.stderr.match(/admin password/g)).toHaveLength(1);
      const file = path.join(dataDir, 'admin.json');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const text = await readFile(file, 'utf8');
      expect(text).not.toContain(password);
      const stored = JSON.parse(text) as { passwordHash: Record<string, unknown> };
      expect(stored.passwordHash).toMatchObject({ algorithm: 'scrypt', salt: expect.any(String), hash: expect.any(String) });

      const c = new AdminClient(first.url);
      expect((await c.login('wrong-password-for-sure')).status).toBe(401);
      expect((await c.login(password)).status).toBe(200);
      const settings = await c.get('/admin/api/settings');
      expect(settings.status).toBe(200);
      // Loaded by main.ts from process.env: what runs is what the (absent) settings file and the environment give.
      expect(settings.json()).toMatchObject({ restartRequired: false });
      await first.waitForLine((l) => l.includes('"AdminSettings"'));
      expect(first.stdoutLines.join('\n')).not.toContain(password);
    } finally {
      await first.stop();
    }

    const second = await spawnBridge({ DATA_DIR: dataDir, CHECK_INTERVAL_MINUTES: '0' });
    try {
      expect(second.stderr).not.toContain('admin password');
      expect(second.stderr).not.toContain(password);
      const c = new AdminClient(second.url);
      expect((await c.login(password)).status).toBe(200);
    } finally {
      await second.stop();
    }
    expect(second.stdoutLines.join('\n')).not.toContain(password);
  }, 60_000);

  test('with ADMIN_PASSWORD set nothing is generated nor printed, and only that password signs in', async () => {
    const dataDir = await makeTempDir('wopi-admin-env-');
    const bridge = await spawnBridge({ DATA_DIR: dataDir, ADMIN_PASSWORD: 'env-admin-password-123456', CHECK_INTERVAL_MINUTES: '0' });
    try {
      expect(bridge.stderr).not.toContain('admin password');
      await expect(stat(path.join(dataDir, 'admin.json'))).rejects.toMatchObject({ code: 'ENOENT' });
      const c = new AdminClient(bridge.url);
      expect((await c.login('env-admin-password-123456')).status).toBe(200);
    } finally {
      await bridge.stop();
    }
    expect(bridge.stdoutLines.join('\n')).not.toContain('env-admin-password-123456');
  }, 60_000);
});
