import { mkdtempSync, rmSync, statSync, writeFileSync, readdirSync, readFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadOrCreateSecrets } from '../../../connector/src/config/generatedSecrets.js';

describe('loadOrCreateSecrets', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wopi-secrets-'));
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  test('first start creates the data folder (0700) and secrets.json (0600) with strong secrets', async () => {
    const dataDir = path.join(tmp, 'data');
    const s = await loadOrCreateSecrets(dataDir);
    const file = path.join(dataDir, 'secrets.json');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.byteLength(s.tokenSecret)).toBeGreaterThanOrEqual(32);
    expect(s.embeddedPassword.length).toBeGreaterThanOrEqual(16);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(s);
    // No temporary file is left behind.
    expect(readdirSync(dataDir)).toEqual(['secrets.json']);
  });

  test('the second start returns the same secrets', async () => {
    const a = await loadOrCreateSecrets(tmp);
    const b = await loadOrCreateSecrets(tmp);
    expect(b).toEqual(a);
  });

  test('two data folders get different secrets', async () => {
    const a = await loadOrCreateSecrets(path.join(tmp, 'a'));
    const b = await loadOrCreateSecrets(path.join(tmp, 'b'));
    expect(a.tokenSecret).not.toBe(b.tokenSecret);
    expect(a.embeddedPassword).not.toBe(b.embeddedPassword);
  });

  test('an existing file with loose permissions is tightened to 0600', async () => {
    await loadOrCreateSecrets(tmp);
    const file = path.join(tmp, 'secrets.json');
    chmodSync(file, 0o644);
    await loadOrCreateSecrets(tmp);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('a corrupt (not JSON) file is refused with a message naming the file and the fix; the file is kept', async () => {
    const file = path.join(tmp, 'secrets.json');
    writeFileSync(file, '{"tokenSecret": "abc', { mode: 0o600 });
    await expect(loadOrCreateSecrets(tmp)).rejects.toThrow(/secrets\.json is not valid JSON; delete it/);
    expect(readFileSync(file, 'utf8')).toBe('{"tokenSecret": "abc');
  });

  test('an empty file is refused with the same clear message', async () => {
    writeFileSync(path.join(tmp, 'secrets.json'), '');
    await expect(loadOrCreateSecrets(tmp)).rejects.toThrow(/secrets\.json is not valid JSON/);
  });

  test('a file missing a secret is refused as incomplete', async () => {
    writeFileSync(path.join(tmp, 'secrets.json'), JSON.stringify({ tokenSecret: 'x'.repeat(64) }));
    await expect(loadOrCreateSecrets(tmp)).rejects.toThrow(/secrets\.json is incomplete; delete it/);
  });

  test('a file holding JSON null is refused with a clear message, not a TypeError', async () => {
    writeFileSync(path.join(tmp, 'secrets.json'), 'null');
    await expect(loadOrCreateSecrets(tmp)).rejects.toThrow(/secrets\.json is (incomplete|not valid JSON)/);
  });
});
