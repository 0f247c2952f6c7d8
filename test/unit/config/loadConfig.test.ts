import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, resolveDataDir, type GeneratedSecrets } from '../../../connector/src/config/loadConfig.js';
import type { Config } from '../../../connector/src/config/config.js';

const GENERATED: GeneratedSecrets = { tokenSecret: 'generated-token-secret-0123456789abcdef0123456789', embeddedPassword: 'generated-embedded-pw' };
const CWD = path.join(os.tmpdir(), 'wopi-config-cwd');
const GOOD_SECRET = 'f'.repeat(64);

type Env = Record<string, string | undefined>;

function load(env: Env): Config {
  return loadConfig(env, GENERATED, CWD);
}

/** The ConfigError loading `env` throws. */
function configError(env: Env): ConfigError {
  try {
    load(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** Asserts `env` gives exactly one problem that names `variable`. */
function expectOneProblem(env: Env, variable: string): ConfigError {
  const err = configError(env);
  expect(err.problems).toHaveLength(1);
  expect(err.problems[0]).toContain(variable);
  expect(err.message).toContain(variable);
  return err;
}

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'wopi-config-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('loadConfig defaults', () => {
  test('an empty environment gives the documented defaults', () => {
    const c = load({});
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(8080);
    expect(c.publicUrl).toBe('http://127.0.0.1:8080');
    expect(c.lockTtlSeconds).toBe(1800);
    expect(c.dataDir).toBe(path.resolve(CWD, 'data'));
    expect(c.storage).toEqual({ url: null, username: null, password: null, flavour: 'auto', timeoutMs: 30_000, adminUsername: null, adminPassword: null });
    expect(c.embedded).toEqual({ filesDir: path.join(CWD, 'data', 'files'), port: 0, password: GENERATED.embeddedPassword });
    expect(c.tokens).toEqual({ secret: GENERATED.tokenSecret, ttlSeconds: 36_000 });
    expect(c.maxUploadBytes).toBe(4 * 1024 ** 3);
    expect(c.postMessageOrigin).toBe('http://127.0.0.1:8080');
    expect(c.logLevel).toBe('info');
  });

  test('blank values count as unset', () => {
    const c = load({ HOST: '  ', PORT: '', LOCK_TTL_SECONDS: ' ', STORAGE_URL: '' });
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(8080);
    expect(c.lockTtlSeconds).toBe(1800);
    expect(c.storage.url).toBeNull();
  });

  test('DATA_DIR is resolved against the given cwd, absolute paths are kept', () => {
    expect(load({ DATA_DIR: 'state' }).dataDir).toBe(path.join(CWD, 'state'));
    expect(load({ DATA_DIR: '/var/lib/wopi' }).dataDir).toBe('/var/lib/wopi');
    expect(resolveDataDir({}, '/srv/app')).toBe('/srv/app/data');
  });

  test('publicUrl follows HOST and PORT; 0.0.0.0 becomes 127.0.0.1, IPv6 is bracketed', () => {
    expect(load({ HOST: '0.0.0.0', PORT: '9000' }).publicUrl).toBe('http://127.0.0.1:9000');
    expect(load({ HOST: '::1', PORT: '9000' }).publicUrl).toBe('http://[::1]:9000');
  });

  test('PUBLIC_URL and STORAGE_URL lose their trailing slash; postMessageOrigin follows PUBLIC_URL', () => {
    const c = load({ PUBLIC_URL: 'https://wopi.example.com/', STORAGE_URL: 'https://cloud.example.com/remote.php/dav/files/alice/' });
    expect(c.publicUrl).toBe('https://wopi.example.com');
    expect(c.storage.url).toBe('https://cloud.example.com/remote.php/dav/files/alice');
    expect(c.postMessageOrigin).toBe('https://wopi.example.com');
  });

  test('a full valid configuration is read', () => {
    const c = load({
      PORT: '0',
      STORAGE_URL: 'https://cloud.example.com/remote.php/dav/files/alice',
      STORAGE_USER: 'alice',
      STORAGE_PASSWORD: 'app-password',
      STORAGE_FLAVOUR: 'NextCloud',
      WOPI_TOKEN_SECRET: GOOD_SECRET,
      LOG_LEVEL: 'DEBUG',
      LOCK_TTL_SECONDS: '3',
      MAX_UPLOAD_BYTES: '1',
    });
    expect(c.port).toBe(0);
    expect(c.storage).toMatchObject({ username: 'alice', password: 'app-password', flavour: 'nextcloud' });
    expect(c.tokens.secret).toBe(GOOD_SECRET);
    expect(c.logLevel).toBe('debug');
    expect(c.lockTtlSeconds).toBe(3);
    expect(c.maxUploadBytes).toBe(1);
  });

  test('the returned config is deeply frozen', () => {
    const c = load({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.storage)).toBe(true);
    expect(Object.isFrozen(c.embedded)).toBe(true);
    expect(Object.isFrozen(c.tokens)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (c.tokens as { secret: string }).secret = 'x';
    }).toThrow(TypeError);
    expect(c.tokens.secret).toBe(GENERATED.tokenSecret);
  });
});

describe('loadConfig: one problem per invalid variable', () => {
  test.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
  ])('%s=%s', (name, value) => {
    expectOneProblem({ [name]: value }, name);
  });

  test.each([
    ['not a URL', 'cloud.example.com'],
    ['ftp: scheme', 'ftp://cloud.example.com/dav'],
    ['credentials in the URL', 'https://alice:hunter2@cloud.example.com/remote.php/dav/files/alice'],
    ['a query string', 'https://cloud.example.com/remote.php/dav/files/alice?x=1'],
    ['a fragment', 'https://cloud.example.com/remote.php/dav/files/alice#top'],
  ])('STORAGE_URL with %s', (_what, value) => {
    const err = expectOneProblem({ STORAGE_URL: value }, 'STORAGE_URL');
    expect(err.message).not.toContain('hunter2');
  });

  test('STORAGE_FLAVOUR bogus', () => {
    expectOneProblem({ STORAGE_FLAVOUR: 'sharepoint' }, 'STORAGE_FLAVOUR');
  });

  test('STORAGE_USER without STORAGE_PASSWORD', () => {
    expectOneProblem({ STORAGE_URL: 'https://cloud.example.com/dav', STORAGE_USER: 'alice' }, 'STORAGE_PASSWORD');
  });

  test('STORAGE_PASSWORD without STORAGE_USER', () => {
    const err = expectOneProblem({ STORAGE_URL: 'https://cloud.example.com/dav', STORAGE_PASSWORD: 'pw-value-xyz' }, 'STORAGE_USER');
    expect(err.message).not.toContain('pw-value-xyz');
  });

  test('STORAGE_USER with no STORAGE_URL', () => {
    expectOneProblem({ STORAGE_USER: 'alice', STORAGE_PASSWORD: 'pw' }, 'STORAGE_URL');
  });

  test('WOPI_TOKEN_SECRET shorter than 32 bytes (and the message never shows it)', () => {
    const short = 'short-secret-31-bytes-long-abcd';
    expect(Buffer.byteLength(short)).toBe(31);
    const err = expectOneProblem({ WOPI_TOKEN_SECRET: short }, 'WOPI_TOKEN_SECRET');
    expect(err.message).not.toContain(short);
    expect(err.problems.join('\n')).not.toContain(short);
  });

  test('WOPI_TOKEN_SECRET of exactly 32 bytes is accepted', () => {
    expect(load({ WOPI_TOKEN_SECRET: 's'.repeat(32) }).tokens.secret).toBe('s'.repeat(32));
  });

  test('WOPI_TOKEN_SECRET and WOPI_TOKEN_SECRET_FILE both set', () => {
    const file = path.join(tmp, 'secret');
    writeFileSync(file, GOOD_SECRET);
    const err = expectOneProblem({ WOPI_TOKEN_SECRET: 'e'.repeat(64), WOPI_TOKEN_SECRET_FILE: file }, 'WOPI_TOKEN_SECRET_FILE');
    expect(err.message).not.toContain('e'.repeat(64));
    expect(err.message).not.toContain(GOOD_SECRET);
  });

  test('WOPI_TOKEN_SECRET_FILE that does not exist', () => {
    expectOneProblem({ WOPI_TOKEN_SECRET_FILE: path.join(tmp, 'missing') }, 'WOPI_TOKEN_SECRET_FILE');
  });

  test('WOPI_TOKEN_SECRET_FILE that is a folder', () => {
    expectOneProblem({ WOPI_TOKEN_SECRET_FILE: tmp }, 'WOPI_TOKEN_SECRET_FILE');
  });

  (process.getuid?.() === 0 ? test.skip : test)('WOPI_TOKEN_SECRET_FILE without read permission', () => {
    const file = path.join(tmp, 'secret');
    writeFileSync(file, GOOD_SECRET);
    chmodSync(file, 0o000);
    expectOneProblem({ WOPI_TOKEN_SECRET_FILE: file }, 'WOPI_TOKEN_SECRET_FILE');
  });

  test('LOG_LEVEL bogus', () => {
    expectOneProblem({ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL');
  });

  test('LOCK_TTL_SECONDS 0', () => {
    expectOneProblem({ LOCK_TTL_SECONDS: '0' }, 'LOCK_TTL_SECONDS');
  });

  test('MAX_UPLOAD_BYTES -1', () => {
    expectOneProblem({ MAX_UPLOAD_BYTES: '-1' }, 'MAX_UPLOAD_BYTES');
  });

  test.each([
    ['TOKEN_TTL_SECONDS', '59'],
    ['TOKEN_TTL_SECONDS', String(7 * 24 * 3600 + 1)],
    ['STORAGE_TIMEOUT_MS', '99'],
    ['EMBEDDED_WEBDAV_PORT', '65536'],
    ['PUBLIC_URL', 'wopi.example.com'],
  ])('%s=%s', (name, value) => {
    expectOneProblem({ [name]: value }, name);
  });
});

describe('loadConfig: HOST', () => {
  test('an invalid HOST is reported as a ConfigError problem naming HOST', () => {
    expectOneProblem({ HOST: 'bad host' }, 'HOST');
  });
});

describe('loadConfig: secrets', () => {
  test('WOPI_TOKEN_SECRET_FILE is read and trimmed', () => {
    const file = path.join(tmp, 'secret');
    writeFileSync(file, `  ${GOOD_SECRET}\n\n`);
    expect(load({ WOPI_TOKEN_SECRET_FILE: file }).tokens.secret).toBe(GOOD_SECRET);
  });

  test('a too short secret from WOPI_TOKEN_SECRET_FILE is refused without showing it', () => {
    const file = path.join(tmp, 'secret');
    writeFileSync(file, 'tiny-secret-value\n');
    const err = expectOneProblem({ WOPI_TOKEN_SECRET_FILE: file }, 'WOPI_TOKEN_SECRET');
    expect(err.message).not.toContain('tiny-secret-value');
  });

  test('STORAGE_PASSWORD_FILE is read and trimmed', () => {
    const file = path.join(tmp, 'pw');
    writeFileSync(file, 'drive-pass\n');
    const c = load({ STORAGE_URL: 'https://cloud.example.com/dav', STORAGE_USER: 'alice', STORAGE_PASSWORD_FILE: file });
    expect(c.storage.password).toBe('drive-pass');
  });

  test('the environment secret wins over the generated one; the generated one is used otherwise', () => {
    expect(load({ WOPI_TOKEN_SECRET: GOOD_SECRET }).tokens.secret).toBe(GOOD_SECRET);
    expect(load({}).tokens.secret).toBe(GENERATED.tokenSecret);
  });
});

describe('loadConfig: several problems at once', () => {
  test('every invalid variable is listed, and no secret value appears in the error', () => {
    const secret = 'my-short-secret';
    const storagePw = 'super-secret-drive-password';
    const err = configError({
      PORT: 'abc',
      STORAGE_URL: 'https://bob:hunter2@cloud.example.com/dav?x=1',
      STORAGE_FLAVOUR: 'bogus',
      STORAGE_PASSWORD: storagePw,
      WOPI_TOKEN_SECRET: secret,
      LOG_LEVEL: 'shouty',
      LOCK_TTL_SECONDS: '0',
      MAX_UPLOAD_BYTES: '-1',
    });
    const all = err.problems.join('\n');
    for (const name of ['PORT', 'STORAGE_URL', 'STORAGE_FLAVOUR', 'STORAGE_USER', 'WOPI_TOKEN_SECRET', 'LOG_LEVEL', 'LOCK_TTL_SECONDS', 'MAX_UPLOAD_BYTES']) {
      expect(all).toContain(name);
    }
    expect(err.problems.length).toBeGreaterThanOrEqual(8);
    for (const p of err.problems) expect(err.message).toContain(p);
    for (const value of [secret, storagePw, 'hunter2', 'bogus', 'shouty']) {
      expect(err.message).not.toContain(value);
      expect(all).not.toContain(value);
    }
  });
});
