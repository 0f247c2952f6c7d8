import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { envAdminCredential, loadOrCreateAdminCredential } from '../../../connector/src/admin/adminCredential.js';

describe('admin credential', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wopi-admin-cred-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('first call generates a password and stores only its hash (0600); the next call reuses it and shows nothing', async () => {
    const first = await loadOrCreateAdminCredential({ dataDir: dir, adminPassword: null });
    const pw = first.generatedPassword as string;
    expect(pw).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(first.credential.source).toBe('file');
    const file = path.join(dir, 'admin.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).not.toContain(pw);
    expect(await first.credential.verify(pw)).toBe(true);
    expect(await first.credential.verify(`${pw}x`)).toBe(false);
    const second = await loadOrCreateAdminCredential({ dataDir: dir, adminPassword: null });
    expect(second.generatedPassword).toBeNull();
    expect(await second.credential.verify(pw)).toBe(true);
  });

  test('rollback removes a file this call created, so the next start prints a new password', async () => {
    const first = await loadOrCreateAdminCredential({ dataDir: dir, adminPassword: null });
    await first.rollback();
    const again = await loadOrCreateAdminCredential({ dataDir: dir, adminPassword: null });
    expect(again.generatedPassword).not.toBeNull();
  });

  test('ADMIN_PASSWORD wins and leaves the data folder alone', async () => {
    const loaded = await loadOrCreateAdminCredential({ dataDir: dir, adminPassword: 'from-the-environment' });
    expect(loaded.generatedPassword).toBeNull();
    expect(loaded.credential.source).toBe('env');
    await expect(stat(path.join(dir, 'admin.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await envAdminCredential('from-the-environment').verify('from-the-environment')).toBe(true);
    expect(await envAdminCredential('from-the-environment').verify('from-the-environmen')).toBe(false);
  });

  test('a broken admin.json is an error with the fix', async () => {
    await writeFile(path.join(dir, 'admin.json'), '{"passwordHash": {}}');
    await expect(loadOrCreateAdminCredential({ dataDir: dir, adminPassword: null })).rejects.toThrow(/delete it and restart/);
  });
});
