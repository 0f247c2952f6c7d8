import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../connector/src/config/loadConfig.js';
import { publicConfig } from '../../../connector/src/config/publicConfig.js';

const TOKEN_SECRET = 'token-secret-0123456789abcdef-0123456789abcdef';
const STORAGE_PASSWORD = 'drive-password-!@#$';
const EMBEDDED_PASSWORD = 'embedded-password-xyz';

describe('publicConfig', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wopi-pubcfg-'));
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  test('with an external drive: no secret value appears, secrets show as { configured }', () => {
    const c = loadConfig(
      {
        STORAGE_URL: 'https://cloud.example.com/remote.php/dav/files/alice',
        STORAGE_USER: 'alice',
        STORAGE_PASSWORD,
        WOPI_TOKEN_SECRET: TOKEN_SECRET,
      },
      { tokenSecret: 'generated-secret-never-used-here-0123456789', embeddedPassword: EMBEDDED_PASSWORD },
      tmp,
    );
    const p = publicConfig(c);
    const text = JSON.stringify(p);
    for (const s of [TOKEN_SECRET, STORAGE_PASSWORD, EMBEDDED_PASSWORD, 'generated-secret-never-used-here']) expect(text).not.toContain(s);
    expect(p.storage).toMatchObject({ url: 'https://cloud.example.com/remote.php/dav/files/alice', username: 'alice', password: { configured: true } });
    expect(p.tokenSecret).toEqual({ configured: true });
    expect(p.embeddedFilesDir).toBeUndefined();
  });

  test('with the embedded drive: the generated secrets do not appear; the files folder does', () => {
    const generated = { tokenSecret: 'generated-token-secret-abcdef0123456789abcdef', embeddedPassword: EMBEDDED_PASSWORD };
    const c = loadConfig({}, generated, tmp);
    const p = publicConfig(c);
    const text = JSON.stringify(p);
    expect(text).not.toContain(generated.tokenSecret);
    expect(text).not.toContain(EMBEDDED_PASSWORD);
    expect(p.storage).toMatchObject({ url: 'embedded', password: { configured: false } });
    expect(p.embeddedFilesDir).toBe(path.join(tmp, 'data', 'files'));
  });

  test('a secret read from a _FILE does not appear either', () => {
    const file = path.join(tmp, 'secret');
    writeFileSync(file, `${TOKEN_SECRET}\n`);
    const c = loadConfig({ WOPI_TOKEN_SECRET_FILE: file }, { tokenSecret: 'g'.repeat(40), embeddedPassword: 'e' }, tmp);
    expect(JSON.stringify(publicConfig(c))).not.toContain(TOKEN_SECRET);
  });
});
