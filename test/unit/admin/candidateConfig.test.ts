import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isLockedByEnv, isSameConfig, loadCandidateConfig, normaliseUpdates, applyUpdates } from '../../../connector/src/admin/candidateConfig.js';
import { describeSettings } from '../../../connector/src/admin/describeSettings.js';
import { ConfigError, loadConfig } from '../../../connector/src/config/loadConfig.js';
import { SETTING_KEYS } from '../../../connector/src/config/settingsFile.js';

const GENERATED = { tokenSecret: 'generated-token-secret-0123456789abcdef-xyz', embeddedPassword: 'embedded-pw' };

describe('candidate settings', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'wopi-candidate-'));
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  test('a setting is locked when the environment sets it, a secret also through <KEY>_FILE; empty values do not lock', () => {
    const env = { DOCS_URL: 'http://ds', DOCS_JWT_SECRET_FILE: '/run/secrets/x', LOG_LEVEL: '  ', STORAGE_USER_FILE: '/x' };
    expect(isLockedByEnv(env, 'DOCS_URL')).toBe(true);
    expect(isLockedByEnv(env, 'DOCS_JWT_SECRET')).toBe(true);
    expect(isLockedByEnv(env, 'LOG_LEVEL')).toBe(false);
    expect(isLockedByEnv(env, 'STORAGE_USER')).toBe(false); // not a secret: no _FILE form
  });

  test('normaliseUpdates: keys upper-cased, "" keeps a secret and removes anything else, locked keys ignored, bad input reported by name', () => {
    const n = normaliseUpdates(
      { docs_jwt_secret: '', DOCS_PUBLIC_URL: '', STORAGE_PASSWORD: ' pw ', DOCS_URL: 'http://x', WHAT: 'v', STORAGE_USER: 3, LOG_LEVEL: null },
      { DOCS_URL: 'http://env' },
    );
    expect(n.updates).toEqual({ DOCS_PUBLIC_URL: null, STORAGE_PASSWORD: 'pw', LOG_LEVEL: null });
    expect(n.ignored).toEqual(['DOCS_URL']);
    expect(n.problems).toHaveLength(2);
    expect(n.problems.join(' ')).toMatch(/WHAT is not a setting/);
    expect(n.problems.join(' ')).toMatch(/STORAGE_USER must be a string/);
    expect(normaliseUpdates(undefined, {})).toEqual({ updates: {}, problems: [], ignored: [] });
    expect(normaliseUpdates([1], {}).problems).toHaveLength(1);
  });

  test('applyUpdates sets and removes', () => {
    expect(applyUpdates({ A: '1', B: '2' }, { A: null, C: '3' })).toEqual({ B: '2', C: '3' });
  });

  test('the environment wins over the file (a secret _FILE too); data folder and generated secrets are the running ones', () => {
    const secretFile = path.join(tmp, 'jwt');
    writeFileSync(secretFile, 'secret-from-a-mounted-file-0123456789\n');
    const env = { DATA_DIR: tmp, DOCS_URL: 'http://env-ds', DOCS_JWT_SECRET_FILE: secretFile };
    const running = loadConfig(env, GENERATED, tmp);
    const c = loadCandidateConfig(running, env, { DOCS_URL: 'http://file-ds', DOCS_JWT_SECRET: 'file-secret-that-would-clash', DOCS_PUBLIC_URL: 'https://office.example' });
    expect(c.docs.internalUrl).toBe('http://env-ds');
    expect(c.docs.jwtSecret).toBe('secret-from-a-mounted-file-0123456789');
    expect(c.docs.publicUrl).toBe('https://office.example');
    expect(c.dataDir).toBe(running.dataDir);
    expect(c.tokens.secret).toBe(GENERATED.tokenSecret);
    expect(isSameConfig(c, running)).toBe(false);
    expect(isSameConfig(loadCandidateConfig(running, env, {}), running)).toBe(true);
    expect(() => loadCandidateConfig(running, env, { STORAGE_FLAVOUR: 'banana' })).toThrow(ConfigError);
  });

  test('describeSettings: source, locked, and never a secret value', () => {
    const fields = describeSettings({ DOCS_JWT_SECRET: 'file-secret', DOCS_PUBLIC_URL: 'https://o.example', LOG_LEVEL: 'warn' }, { LOG_LEVEL: 'debug', STORAGE_PASSWORD: 'env-pw' });
    expect(fields.map((f) => f.key)).toEqual(SETTING_KEYS.map((k) => k.key));
    const by = Object.fromEntries(fields.map((f) => [f.key, f]));
    expect(by.DOCS_JWT_SECRET).toMatchObject({ value: null, set: true, source: 'file', locked: false, secret: true });
    expect(by.STORAGE_PASSWORD).toMatchObject({ value: null, set: true, source: 'env', locked: true });
    expect(by.LOG_LEVEL).toMatchObject({ value: 'debug', source: 'env', locked: true });
    expect(by.DOCS_PUBLIC_URL).toMatchObject({ value: 'https://o.example', source: 'file', locked: false });
    expect(by.DOCS_URL).toMatchObject({ value: null, set: false, source: 'default', locked: false });
    expect(JSON.stringify(fields)).not.toMatch(/file-secret|env-pw/);
  });

  test('ADMIN_PASSWORD must be at least 12 characters (also from _FILE); CHECK_INTERVAL_MINUTES 0–10080, default 15', () => {
    expect(() => loadConfig({ ADMIN_PASSWORD: 'short' }, GENERATED, tmp)).toThrow(/ADMIN_PASSWORD must be at least 12/);
    const file = path.join(tmp, 'admin');
    writeFileSync(file, 'a-long-enough-password\n');
    expect(loadConfig({ ADMIN_PASSWORD_FILE: file }, GENERATED, tmp).adminPassword).toBe('a-long-enough-password');
    expect(loadConfig({}, GENERATED, tmp).adminPassword).toBeNull();
    expect(loadConfig({}, GENERATED, tmp).checkIntervalMinutes).toBe(15);
    expect(loadConfig({ CHECK_INTERVAL_MINUTES: '0' }, GENERATED, tmp).checkIntervalMinutes).toBe(0);
    expect(() => loadConfig({ CHECK_INTERVAL_MINUTES: '-1' }, GENERATED, tmp)).toThrow(/CHECK_INTERVAL_MINUTES/);
    expect(() => loadConfig({ CHECK_INTERVAL_MINUTES: '10081' }, GENERATED, tmp)).toThrow(/CHECK_INTERVAL_MINUTES/);
  });
});
