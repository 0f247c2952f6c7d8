import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSettings, settingsPath, writeSettings } from '../../../connector/src/config/settingsFile.js';
import { loadEffectiveConfig } from '../../../connector/src/config/loadEffectiveConfig.js';
import { ConfigError } from '../../../connector/src/config/loadConfig.js';

describe('settings file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'settings-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('no file means no settings; writes are atomic, mode 0600, and removals work', async () => {
    expect(await readSettings(dir)).toEqual({});
    await writeSettings(dir, { DOCS_URL: 'http://docs.example:8080', docs_jwt_secret: 's3cret-value' });
    expect(statSync(settingsPath(dir)).mode & 0o777).toBe(0o600);
    expect(await readSettings(dir)).toEqual({ DOCS_URL: 'http://docs.example:8080', DOCS_JWT_SECRET: 's3cret-value' });
    await writeSettings(dir, { DOCS_JWT_SECRET: null });
    expect(await readSettings(dir)).toEqual({ DOCS_URL: 'http://docs.example:8080' });
  });

  test('an unknown key is refused and nothing is written', async () => {
    await expect(writeSettings(dir, { NOT_A_SETTING: 'x' })).rejects.toThrow(ConfigError);
    expect(await readSettings(dir)).toEqual({});
  });

  test.each([
    ['not JSON', '{oops', /not valid JSON/],
    ['an array', '[]', /JSON object/],
    ['a number value', '{"DOCS_URL": 5}', /must be a string/],
    ['an unknown key', '{"WHAT": "x"}', /unknown setting WHAT/],
  ])('a file holding %s is refused with a clear message', async (_l, content, message) => {
    writeFileSync(settingsPath(dir), content);
    await expect(readSettings(dir)).rejects.toThrow(message);
  });

  test('the environment wins over the file and the key is reported as locked', async () => {
    await writeSettings(dir, { DOCS_URL: 'http://from-file:1', LOG_LEVEL: 'debug' });
    const eff = await loadEffectiveConfig({ DATA_DIR: dir, DOCS_URL: 'http://from-env:2' });
    expect(eff.config.docs.internalUrl).toBe('http://from-env:2');
    expect(eff.config.logLevel).toBe('debug');
    expect(eff.lockedByEnv).toEqual(['DOCS_URL']);
  });

  test('an invalid value in the file is a ConfigError naming the setting, without its value', async () => {
    await writeSettings(dir, { STORAGE_URL: 'ftp://secret-host-name' });
    await expect(loadEffectiveConfig({ DATA_DIR: dir })).rejects.toThrow(/STORAGE_URL must be an http/);
    await expect(loadEffectiveConfig({ DATA_DIR: dir })).rejects.not.toThrow(/secret-host-name/);
  });

  test('a secret given to the environment as NAME_FILE wins over NAME in the file, without a clash', async () => {
    await writeSettings(dir, { DOCS_JWT_SECRET: 'from-the-settings-file' });
    const secretFile = path.join(dir, 'docs-secret');
    writeFileSync(secretFile, 'from-the-mounted-secret-file\n');
    const eff = await loadEffectiveConfig({ DATA_DIR: dir, DOCS_JWT_SECRET_FILE: secretFile });
    expect(eff.config.docs.jwtSecret).toBe('from-the-mounted-secret-file');
    expect(eff.lockedByEnv).toEqual(['DOCS_JWT_SECRET']);
  });

  test('keys written by hand in lower case are read as the settings they name', async () => {
    writeFileSync(settingsPath(dir), JSON.stringify({ docs_url: 'http://lower-case:1' }));
    expect(await readSettings(dir)).toEqual({ DOCS_URL: 'http://lower-case:1' });
    expect((await loadEffectiveConfig({ DATA_DIR: dir })).config.docs.internalUrl).toBe('http://lower-case:1');
  });
});
