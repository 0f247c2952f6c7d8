import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { cleanupProcesses, makeTempDir } from '../../helpers/processes.js';
import { SETTING_KEYS, writeSharedSettings } from '../../../connector/src/config/settingsFile.js';
import { loadEffectiveConfig, openSharedSettingsStore, sealedSharedSettings } from '../../../connector/src/config/loadEffectiveConfig.js';
import { redisCommand, startRedis, type RedisServer } from '../../helpers/redisServer.js';
import { EXIT, STACK_LINE, leaks, runs, wb } from './cliHarness.js';

interface Row {
  key: string;
  secret: boolean;
  set: boolean;
  value: string | null;
  source: 'environment' | 'settings file' | 'default';
  locked: boolean;
}

const secret = (label: string): string => `${label}-${randomBytes(16).toString('hex')}`;
const DOCS_SECRET = secret('docs-jwt');
const DOCS_SECRET_2 = secret('docs-jwt-two');
const ARGV_SECRET = secret('argv-secret');
const STORAGE_SECRET = secret('storage-pass');
const ENV_SECRET = secret('env-docs-secret');
const SHORT_TOKEN_SECRET = 'short-secret-NOT-TO-ECHO';
const SHARED_SECRET = secret('shared-docs-jwt');

async function freshDir(): Promise<{ env: Record<string, string>; file: string }> {
  const dir = await makeTempDir('wopi-cli-config-');
  return { env: { DATA_DIR: dir, PORT: '18123' }, file: path.join(dir, 'settings.json') };
}

async function settingsOf(file: string): Promise<Record<string, string>> {
  return JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
}

async function getJson(key: string, env: Record<string, string>): Promise<Row> {
  const r = await wb(['config', 'get', key, '--json'], env);
  expect(r.code).toBe(EXIT.OK);
  return JSON.parse(r.stdout) as Row;
}

afterAll(cleanupProcesses);

describe('wopi-bridge config get', () => {
  test('every setting as a table with its source; --json parses; the defaults are the effective ones', async () => {
    const { env } = await freshDir();
    const text = await wb(['config', 'get'], env);
    expect(text.code).toBe(EXIT.OK);
    expect(text.stderr).toBe('');
    for (const k of SETTING_KEYS) expect(text.stdout).toMatch(new RegExp(`^${k.key}\\s+\\S`, 'm'));
    expect(text.stdout).toMatch(/^PUBLIC_URL\s+http:\/\/127\.0\.0\.1:18123\s+default$/m);
    expect(text.stdout).toMatch(/^DOCS_JWT_SECRET\s+not set\s+default$/m);

    const json = await wb(['config', 'get', '--json'], env);
    expect(json.code).toBe(EXIT.OK);
    const doc = JSON.parse(json.stdout) as { valid: boolean; settings: Row[] };
    expect(doc.valid).toBe(true);
    expect(doc.settings.map((r) => r.key)).toEqual(SETTING_KEYS.map((k) => k.key));
    expect(doc.settings.find((r) => r.key === 'LOG_LEVEL')).toMatchObject({ value: 'info', source: 'default', set: true });
    expect(doc.settings.find((r) => r.key === 'DOCS_URL')).toMatchObject({ value: null, set: false, source: 'default' });
  }, 30_000);

  test('an unknown key or one only the environment may set: exit 3, one line', async () => {
    const { env } = await freshDir();
    for (const key of ['NOPE', 'PORT', 'WOPI_TOKEN_SECRET']) {
      const r = await wb(['config', 'get', key], env);
      expect(r.code).toBe(EXIT.UNKNOWN);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`${key} is not a setting`);
    }
  }, 30_000);

  test('a broken settings file: exit 3 with the fix, no stack trace', async () => {
    const { env, file } = await freshDir();
    await writeFile(file, '{ not json', { mode: 0o600 });
    const r = await wb(['config', 'get'], env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^wopi-bridge: invalid configuration: .*settings\.json is not valid JSON; fix it or delete it/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  }, 30_000);
});

describe('wopi-bridge config set / unset round trips', () => {
  test('a plain value: saved with mode 0600, read back from the settings file, removed again', async () => {
    const { env, file } = await freshDir();
    const set = await wb(['config', 'set', 'DOCS_URL', 'https://office.example.com/'], env);
    expect(set.code).toBe(EXIT.OK);
    expect(set.stderr).toBe('');
    expect(set.stdout).toContain(`DOCS_URL saved in ${file}`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await settingsOf(file)).toEqual({ DOCS_URL: 'https://office.example.com/' });
    expect(await getJson('DOCS_URL', env)).toMatchObject({ value: 'https://office.example.com/', source: 'settings file', locked: false });
    // The URL is in force: a derived default follows it.
    expect(await getJson('DOCS_PUBLIC_URL', env)).toMatchObject({ value: 'https://office.example.com', source: 'default' });

    const unset = await wb(['config', 'unset', 'DOCS_URL'], env);
    expect(unset.code).toBe(EXIT.OK);
    expect(await settingsOf(file)).toEqual({});
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await getJson('DOCS_URL', env)).toMatchObject({ value: null, set: false, source: 'default' });
    const again = await wb(['config', 'unset', 'DOCS_URL'], env);
    expect(again.code).toBe(EXIT.OK);
    expect(again.stdout).toContain('not in the settings file; nothing changed');
  }, 30_000);

  test('--stdin for a plain value', async () => {
    const { env, file } = await freshDir();
    const r = await wb(['config', 'set', 'LOG_LEVEL', '--stdin'], env, { input: 'debug\n' });
    expect(r.code).toBe(EXIT.OK);
    expect(await settingsOf(file)).toEqual({ LOG_LEVEL: 'debug' });
  }, 30_000);

  test('a secret from stdin: saved, shown only as set, never in any output', async () => {
    const { env, file } = await freshDir();
    const r = await wb(['config', 'set', 'DOCS_JWT_SECRET'], env, { input: `${DOCS_SECRET}\n` });
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toContain('DOCS_JWT_SECRET saved');
    expect(r.stdout).toContain('not shown');
    expect(await settingsOf(file)).toEqual({ DOCS_JWT_SECRET: DOCS_SECRET });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await getJson('DOCS_JWT_SECRET', env)).toMatchObject({ secret: true, set: true, value: null, source: 'settings file' });
    const table = await wb(['config', 'get'], env);
    expect(table.stdout).toMatch(/^DOCS_JWT_SECRET\s+set\s+settings file$/m);
    // --stdin says the same explicitly; the new value replaces the old one.
    const again = await wb(['config', 'set', 'DOCS_JWT_SECRET', '--stdin'], env, { input: DOCS_SECRET_2 });
    expect(again.code).toBe(EXIT.OK);
    expect(await settingsOf(file)).toEqual({ DOCS_JWT_SECRET: DOCS_SECRET_2 });
  }, 30_000);

  test('a secret with --from-file, with the settings that go with it in the same write (--with)', async () => {
    const { env, file } = await freshDir();
    const secretFile = path.join(await makeTempDir('wopi-cli-secret-'), 'pass');
    await writeFile(secretFile, `${STORAGE_SECRET}\n`, { mode: 0o600 });
    // One of a pair alone is refused, with the hint how to set both at once.
    const user = await wb(['config', 'set', 'STORAGE_USER', 'alice'], env);
    expect(user.code).toBe(EXIT.UNKNOWN);
    expect(user.stderr).toContain('STORAGE_USER/STORAGE_PASSWORD are set but STORAGE_URL is not');
    expect(user.stderr).toContain('--with OTHER=VALUE');
    await expect(stat(file)).rejects.toThrow();

    const r = await wb(
      ['config', 'set', 'STORAGE_PASSWORD', '--from-file', secretFile, '--with', 'STORAGE_URL=https://cloud.example.com/remote.php/dav/files/alice', '--with', 'STORAGE_USER=alice'],
      env,
    );
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toContain('STORAGE_PASSWORD, STORAGE_URL, STORAGE_USER saved');
    expect(await settingsOf(file)).toEqual({ STORAGE_PASSWORD: STORAGE_SECRET, STORAGE_URL: 'https://cloud.example.com/remote.php/dav/files/alice', STORAGE_USER: 'alice' });
    expect(await getJson('STORAGE_PASSWORD', env)).toMatchObject({ set: true, value: null, source: 'settings file' });

    // A secret never rides along as --with.
    const sneaky = await wb(['config', 'set', 'STORAGE_USER', 'bob', '--with', `STORAGE_PASSWORD=${ARGV_SECRET}`], env);
    expect(sneaky.code).toBe(EXIT.UNKNOWN);
    expect(sneaky.stderr).toContain('STORAGE_PASSWORD is a secret');
    expect(sneaky.stderr).not.toContain(ARGV_SECRET);

    // The pair is removed together too.
    const half = await wb(['config', 'unset', 'STORAGE_USER'], env);
    expect(half.code).toBe(EXIT.UNKNOWN);
    const both = await wb(['config', 'unset', 'STORAGE_USER', 'STORAGE_PASSWORD'], env);
    expect(both.code).toBe(EXIT.OK);
    expect(await settingsOf(file)).toEqual({ STORAGE_URL: 'https://cloud.example.com/remote.php/dav/files/alice' });
  }, 30_000);

  test('a secret on the command line is refused with the reason, not echoed, the file untouched', async () => {
    const { env, file } = await freshDir();
    await wb(['config', 'set', 'DOCS_URL', 'http://docs'], env);
    const before = await readFile(file);
    for (const key of ['DOCS_JWT_SECRET', 'STORAGE_PASSWORD', 'REDIS_URL', 'docs_jwt_secret']) {
      const r = await wb(['config', 'set', key, ARGV_SECRET], env);
      expect(r.code).toBe(EXIT.UNKNOWN);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/is a secret: it is never taken from the command line, where it would stay in the shell history/);
      expect(r.stderr).toContain('--from-file');
      expect(r.stderr + r.stdout).not.toContain(ARGV_SECRET);
    }
    expect(await readFile(file)).toEqual(before);
  }, 30_000);

  test('an empty secret on stdin (or no stdin at all): exit 3, nothing written', async () => {
    const { env, file } = await freshDir();
    const none = await wb(['config', 'set', 'DOCS_JWT_SECRET'], env);
    expect(none.code).toBe(EXIT.UNKNOWN);
    expect(none.stderr).toContain('empty value');
    const blank = await wb(['config', 'set', 'DOCS_JWT_SECRET'], env, { input: '\n' });
    expect(blank.code).toBe(EXIT.UNKNOWN);
    await expect(stat(file)).rejects.toThrow();
  }, 30_000);

  test.each([
    ['a URL that is not http(s)', 'DOCS_URL', 'ftp://docs.example.com', 'DOCS_URL must be an http:// or https:// URL'],
    ['a log level that does not exist', 'LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of'],
    ['a proof mode that does not exist', 'WOPI_PROOF_MODE', 'strict', 'WOPI_PROOF_MODE must be one of'],
    ['enforce without DOCS_URL', 'WOPI_PROOF_MODE', 'enforce', 'WOPI_PROOF_MODE=enforce needs DOCS_URL'],
    ['credentials in a URL', 'STORAGE_URL', 'https://alice:pw@cloud.example.com/dav', 'must not contain credentials'],
  ])('an invalid value (%s) is refused: exit 3, the problem with its fix, the file unchanged', async (_what, key, value, problem) => {
    const { env, file } = await freshDir();
    await wb(['config', 'set', 'DOCS_JWT_HEADER', 'AuthorizationJwt'], env);
    const before = await readFile(file);
    const mtime = (await stat(file)).mtimeMs;
    const r = await wb(['config', 'set', key, value], env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^wopi-bridge: refused, the settings file is unchanged: /);
    expect(r.stderr).toContain(problem);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(await readFile(file)).toEqual(before);
    expect((await stat(file)).mtimeMs).toBe(mtime);
  }, 30_000);

  test('unset that would break the configuration is refused, the file unchanged', async () => {
    const { env, file } = await freshDir();
    await writeFile(
      file,
      JSON.stringify({ STORAGE_URL: 'https://cloud.example.com/dav', STORAGE_USER: 'alice', STORAGE_PASSWORD: STORAGE_SECRET }),
      { mode: 0o600 },
    );
    const before = await readFile(file);
    const r = await wb(['config', 'unset', 'STORAGE_PASSWORD'], env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stderr).toContain('STORAGE_USER and STORAGE_PASSWORD go together');
    expect(await readFile(file)).toEqual(before);
  }, 30_000);

  test('a key the environment sets: saved, with a warning that the environment wins (exit 1)', async () => {
    const { env, file } = await freshDir();
    const locked = { ...env, DOCS_URL: 'http://docs-from-env:8000' };
    const row = await getJson('DOCS_URL', locked);
    expect(row).toMatchObject({ source: 'environment', locked: true, value: 'http://docs-from-env:8000' });
    const text = await wb(['config', 'get'], locked);
    expect(text.stdout).toMatch(/^DOCS_URL\s+http:\/\/docs-from-env:8000\s+environment \(locked\)$/m);

    const r = await wb(['config', 'set', 'DOCS_URL', 'http://docs-from-file'], locked);
    expect(r.code).toBe(EXIT.WARNING);
    expect(r.stdout).toContain('DOCS_URL saved');
    expect(r.stderr).toMatch(/DOCS_URL is set in the environment, which wins over the settings file/);
    expect(await settingsOf(file)).toEqual({ DOCS_URL: 'http://docs-from-file' });
    expect(await getJson('DOCS_URL', locked)).toMatchObject({ source: 'environment', value: 'http://docs-from-env:8000' });
    expect(await getJson('DOCS_URL', env)).toMatchObject({ source: 'settings file', value: 'http://docs-from-file' });

    // A secret locked by the environment: shown as set, never its value; setting it warns the same way.
    const secretEnv = { ...env, DOCS_JWT_SECRET: ENV_SECRET };
    expect(await getJson('DOCS_JWT_SECRET', secretEnv)).toMatchObject({ source: 'environment', locked: true, set: true, value: null });
    const s = await wb(['config', 'set', 'DOCS_JWT_SECRET'], secretEnv, { input: DOCS_SECRET });
    expect(s.code).toBe(EXIT.WARNING);
    expect(s.stderr).toContain('DOCS_JWT_SECRET is set in the environment');
  }, 30_000);

  test('a secret given as NAME_FILE in the environment shows as environment, set', async () => {
    const { env } = await freshDir();
    const f = path.join(await makeTempDir('wopi-cli-secret-'), 'jwt');
    await writeFile(f, ENV_SECRET, { mode: 0o600 });
    const row = await getJson('DOCS_JWT_SECRET', { ...env, DOCS_JWT_SECRET_FILE: f });
    expect(row).toMatchObject({ source: 'environment', locked: true, set: true, value: null });
  }, 30_000);

  test('a setting made while older problems remain is saved, with those problems as a warning (exit 1)', async () => {
    const { env, file } = await freshDir();
    await writeFile(file, JSON.stringify({ LOG_LEVEL: 'loud' }), { mode: 0o600 });
    const r = await wb(['config', 'set', 'DOCS_URL', 'http://docs'], env);
    expect(r.code).toBe(EXIT.WARNING);
    expect(r.stderr).toContain('the configuration still has problems: LOG_LEVEL must be one of');
    expect(await settingsOf(file)).toEqual({ LOG_LEVEL: 'loud', DOCS_URL: 'http://docs' });
    // …and fixing the old problem is allowed too.
    const fix = await wb(['config', 'set', 'LOG_LEVEL', 'warn'], env);
    expect(fix.code).toBe(EXIT.OK);
  }, 30_000);

  test.each([
    [['config'], 'config needs get, set, unset or check'],
    [['config', 'frob'], 'config needs get, set, unset or check'],
    [['config', 'set'], 'missing argument'],
    [['config', 'set', 'DOCS_URL'], 'no value for DOCS_URL'],
    [['config', 'set', 'DOCS_URL', 'a', 'b'], 'too many arguments'],
    [['config', 'set', 'DOCS_URL', 'http://x', '--stdin'], 'give the value one way'],
    [['config', 'unset'], 'missing argument'],
    [['config', 'check', 'extra'], 'too many arguments'],
  ])('usage error %j: exit 3, one line', async (args, message) => {
    const { env } = await freshDir();
    const r = await wb(args, env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(message)]);
  }, 30_000);
});

describe('wopi-bridge config check', () => {
  test('healthy: exit 0, OK; --json status ok', async () => {
    const { env } = await freshDir();
    await wb(['config', 'set', 'DOCS_URL', 'http://docs'], env);
    const r = await wb(['config', 'check'], env);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toMatch(/^Configuration: OK$/m);
    expect(r.stdout).toMatch(/DocumentServer: http:\/\/docs/);
    const j = await wb(['config', 'check', '--json'], { ...env, DOCS_PUBLIC_URL: 'https://office.example.com' });
    expect(j.code).toBe(EXIT.OK);
    expect(JSON.parse(j.stdout)).toMatchObject({ status: 'ok', problems: [], settings: ['DOCS_URL'], lockedByEnvironment: ['DOCS_PUBLIC_URL'] });
  }, 30_000);

  test('every problem with its fix: exit 2, secrets never echoed', async () => {
    const { env, file } = await freshDir();
    await writeFile(file, JSON.stringify({ LOG_LEVEL: 'loud', DOCS_JWT_SECRET: DOCS_SECRET }), { mode: 0o600 });
    const broken = { ...env, WOPI_TOKEN_SECRET: SHORT_TOKEN_SECRET, PUBLIC_URL: 'not a url' };
    const r = await wb(['config', 'check'], broken);
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout).toMatch(/^Configuration: 3 problems$/m);
    expect(r.stdout).toContain('WOPI_TOKEN_SECRET must be at least 32 bytes; generate one with `openssl rand -hex 32`');
    expect(r.stdout).toContain('PUBLIC_URL must be an http:// or https:// URL');
    expect(r.stdout).toContain('LOG_LEVEL must be one of');
    expect(r.stdout + r.stderr).not.toContain(SHORT_TOKEN_SECRET);
    expect(r.stdout + r.stderr).not.toContain(DOCS_SECRET);
    const j = await wb(['config', 'check', '--json'], broken);
    expect(j.code).toBe(EXIT.CRITICAL);
    expect((JSON.parse(j.stdout) as { problems: string[] }).problems).toHaveLength(3);
  }, 30_000);

  test('a settings file others may read is a problem with the chmod fix', async () => {
    const { env, file } = await freshDir();
    await wb(['config', 'set', 'DOCS_URL', 'http://docs'], env);
    await chmod(file, 0o644);
    const r = await wb(['config', 'check'], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout).toContain(`run chmod 600 ${file}`);
  }, 30_000);

  test('a settings file that is not JSON: exit 2 with the fix', async () => {
    const { env, file } = await freshDir();
    await writeFile(file, '[]', { mode: 0o600 });
    const r = await wb(['config', 'check'], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout).toContain('must hold a JSON object of settings');
  }, 30_000);
});

describe('wopi-bridge config set / unset with REDIS_URL (settings shared through Redis)', () => {
  let redis: RedisServer;
  const TOKEN_SECRET = secret('wopi-token-secret-of-every-instance');
  beforeAll(async () => {
    redis = await startRedis({ appendonly: false });
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });
  /** One instance: its own data folder, Redis and the token secret every instance shares. */
  const instance = async (): Promise<{ env: Record<string, string>; file: string }> => {
    const { env, file } = await freshDir();
    return { env: { ...env, REDIS_URL: redis.url, WOPI_TOKEN_SECRET: TOKEN_SECRET }, file };
  };
  /** Saves as the admin page does (file of its own machine aside): into the shared settings. */
  const saveLikeThePage = async (updates: Record<string, string | null>): Promise<void> => {
    const store = await openSharedSettingsStore(redis.url);
    try {
      await writeSharedSettings(sealedSharedSettings(store, TOKEN_SECRET), updates, {});
    } finally {
      await store.close();
    }
  };
  const sharedEntry = async (): Promise<string> => String(await redisCommand(redis.port, ['GET', 'wopi-bridge:settings:current']));

  test('set writes where the page writes: a value the page shared is replaced on every instance, secrets sealed', async () => {
    await saveLikeThePage({ DOCS_URL: 'http://from-the-page', LOG_LEVEL: 'warn' });
    const one = await instance();
    const other = await instance();
    expect(await getJson('DOCS_URL', one.env)).toMatchObject({ value: 'http://from-the-page', source: 'shared (Redis)' });

    const set = await wb(['config', 'set', 'DOCS_URL', 'http://from-the-cli'], one.env);
    expect(set.code).toBe(EXIT.OK);
    expect(set.stdout).toContain(`DOCS_URL saved in ${one.file} and in the settings shared through Redis`);
    expect(await settingsOf(one.file)).toEqual({ DOCS_URL: 'http://from-the-cli' });
    // Another instance (another data folder, nothing in its file) now loads the CLI's value; the page's other one stays.
    const seen = await loadEffectiveConfig(other.env);
    expect(seen.config.docs.internalUrl).toBe('http://from-the-cli');
    expect(seen.config.logLevel).toBe('warn');

    const secretSet = await wb(['config', 'set', 'DOCS_JWT_SECRET'], one.env, { input: `${SHARED_SECRET}\n` });
    expect(secretSet.code).toBe(EXIT.OK);
    expect(await sharedEntry()).toMatch(/"DOCS_JWT_SECRET":"sealed:v1\./);
    expect(await sharedEntry()).not.toContain(SHARED_SECRET);
    expect((await loadEffectiveConfig(other.env)).config.docs.jwtSecret).toBe(SHARED_SECRET);
    expect(await getJson('DOCS_JWT_SECRET', other.env)).toMatchObject({ set: true, value: null, source: 'shared (Redis)' });

    // unset removes it from the shared settings too, even on an instance whose file never had it.
    const unset = await wb(['config', 'unset', 'DOCS_JWT_SECRET', 'LOG_LEVEL'], other.env);
    expect(unset.code).toBe(EXIT.OK);
    expect(unset.stdout).toContain('removed from');
    expect(unset.stdout).toContain('and from the settings shared through Redis');
    const after = await loadEffectiveConfig(one.env);
    expect(after.config.docs.jwtSecret).toBeNull();
    expect(after.config.logLevel).toBe('info');
    expect(after.config.docs.internalUrl).toBe('http://from-the-cli');
  }, 60_000);

  test('Redis not answering: nothing changed, exit 2 with what to do; REDIS_URL itself can still be changed', async () => {
    const { env, file } = await freshDir();
    const down = { ...env, REDIS_URL: 'redis://127.0.0.1:1', WOPI_TOKEN_SECRET: TOKEN_SECRET };
    const r = await wb(['config', 'set', 'DOCS_URL', 'http://docs'], down);
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stderr).toContain('Redis (REDIS_URL) is not reachable, so nothing was changed');
    expect(r.stderr).not.toMatch(STACK_LINE);
    await expect(readFile(file, 'utf8')).rejects.toThrow();
    const local = await wb(['config', 'unset', 'REDIS_URL'], { ...env, WOPI_TOKEN_SECRET: TOKEN_SECRET });
    expect(local.code).toBe(EXIT.OK);
  }, 60_000);
});

test('no config command printed a secret, in any mode', () => {
  expect(leaks(runs, [DOCS_SECRET, DOCS_SECRET_2, ARGV_SECRET, STORAGE_SECRET, ENV_SECRET, SHORT_TOKEN_SECRET, SHARED_SECRET], [])).toEqual([]);
  expect(runs.length).toBeGreaterThan(40);
});
