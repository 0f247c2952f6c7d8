import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanupProcesses, freePort, makeTempDir, spawnBridge, type SpawnedBridge } from '../../helpers/processes.js';
import { redisCommand, startRedis, type RedisServer } from '../../helpers/redisServer.js';
import { EXIT, HAVE_SCRIPT, STACK_LINE, cliToken, currentLock, leaks, lockOp, runs, wb, type CliToken } from './cliHarness.js';

interface LockRow {
  fileId: string;
  path: string | null;
  lockId: string;
  since: string;
  expiresAt: string | null;
}

const tokens: string[] = [];
const secrets: string[] = [];
const REDIS_PASSWORD = `redis-${randomBytes(12).toString('hex')}`;

async function token(filePath: string, env: Record<string, string>): Promise<CliToken> {
  const t = await cliToken(filePath, env);
  tokens.push(t.accessToken);
  return t;
}

async function generatedSecrets(dataDir: string): Promise<void> {
  const g = JSON.parse(await readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { tokenSecret: string; embeddedPassword: string };
  secrets.push(g.tokenSecret, g.embeddedPassword);
}

afterAll(cleanupProcesses);

describe.each(['sqlite', 'redis'] as const)('wopi-bridge locks on the server\'s state store (%s)', (store) => {
  let env: Record<string, string>;
  let bridge: SpawnedBridge;
  let redis: RedisServer | undefined;
  let welcome: CliToken;
  let budget: CliToken;

  beforeAll(async () => {
    env = { DATA_DIR: await makeTempDir('wopi-cli-locks-'), PORT: String(await freePort()) };
    if (store === 'redis') {
      redis = await startRedis({ appendonly: false });
      await redisCommand(redis.port, ['CONFIG', 'SET', 'requirepass', REDIS_PASSWORD]);
      env.REDIS_URL = `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}/0`;
    }
    bridge = await spawnBridge(env);
    welcome = await token('/Welcome.docx', env);
    budget = await token('/Budget.xlsx', env);
    await generatedSecrets(env.DATA_DIR as string);
  }, 30_000);
  afterAll(async () => {
    await bridge?.stop('SIGKILL');
    await redis?.stop();
  });

  test('list: no locks, then the lock an editor took, with path, lock id and expiry', async () => {
    const empty = await wb(['locks', 'list'], env);
    expect(empty.code).toBe(EXIT.OK);
    expect(empty.stdout).toBe('No locks.\n');
    expect(JSON.parse((await wb(['locks', 'list', '--json'], env)).stdout)).toEqual([]);

    const before = Date.now();
    expect((await lockOp(welcome, 'LOCK', 'ds-lock-1')).status).toBe(200);
    const r = await wb(['locks', 'list'], env);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^FILE ID\s+PATH\s+LOCK ID\s+LOCKED SINCE\s+EXPIRES$/m);
    expect(r.stdout).toMatch(new RegExp(`^${welcome.fileId}\\s+/Welcome\\.docx\\s+ds-lock-1\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d [+-]\\d\\d:\\d\\d \\(\\d+ s ago\\)\\s+in 30 min$`, 'm'));
    const rows = JSON.parse((await wb(['locks', 'list', '--json'], env)).stdout) as LockRow[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ fileId: welcome.fileId, path: '/Welcome.docx', lockId: 'ds-lock-1' });
    expect(Date.parse(rows[0]?.since ?? '')).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(rows[0]?.expiresAt ?? '') - Date.parse(rows[0]?.since ?? '')).toBeGreaterThanOrEqual(1799_000);
  }, 30_000);

  test('show: a locked file, an unlocked one, an unknown id', async () => {
    const r = await wb(['locks', 'show', welcome.fileId], env);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toContain(`file id:      ${welcome.fileId}`);
    expect(r.stdout).toContain('path:         /Welcome.docx');
    expect(r.stdout).toContain('lock id:      ds-lock-1');
    expect(r.stdout).toMatch(/^expires: {6}.*\(in 30 min\)$/m);
    expect(JSON.parse((await wb(['locks', 'show', budget.fileId, '--json'], env)).stdout)).toEqual({ fileId: budget.fileId, path: '/Budget.xlsx', locked: false });
    const unknown = await wb(['locks', 'show', 'fNoSuchId', '--json'], env);
    expect(unknown.code).toBe(EXIT.OK);
    expect(JSON.parse(unknown.stdout)).toEqual({ fileId: 'fNoSuchId', path: null, locked: false });
    const bad = await wb(['locks', 'show', '../etc/passwd'], env);
    expect(bad.code).toBe(EXIT.UNKNOWN);
    expect(bad.stderr).toContain('a file id is 1 to 64 characters');
  }, 30_000);

  test('release without --yes and without a terminal: refused (exit 3), the lock kept', async () => {
    const r = await wb(['locks', 'release', welcome.fileId], env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('wopi-bridge: refusing to release a lock without confirmation: stdin is not a terminal; add --yes');
    expect(await currentLock(welcome)).toBe('ds-lock-1');
    // A pipe is not a terminal either, whatever it says.
    const piped = await wb(['locks', 'release', welcome.fileId], env, { input: 'y\n' });
    expect(piped.code).toBe(EXIT.UNKNOWN);
    expect(await currentLock(welcome)).toBe('ds-lock-1');
  }, 30_000);

  test('release --yes: released, logged at warn with file id and lock id; the editor\'s lock is gone', async () => {
    const r = await wb(['locks', 'release', welcome.fileId, '--yes'], env);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toMatch(new RegExp(`^Released the lock on /Welcome\\.docx \\(file id ${welcome.fileId}, lock id ds-lock-1, locked since .*\\)\\.$`, 'm'));
    const logLine = JSON.parse(r.stderr.trim().split('\n').find((l) => l.startsWith('{')) ?? '{}') as Record<string, unknown>;
    expect(logLine).toMatchObject({ level: 40, fileId: welcome.fileId, lockId: 'ds-lock-1', path: '/Welcome.docx', command: 'wopi-bridge locks release', msg: 'lock released by an administrator' });
    expect(await currentLock(welcome)).toBe('');
    expect((await lockOp(welcome, 'REFRESH_LOCK', 'ds-lock-1')).status).toBe(409);
    const again = await wb(['locks', 'release', welcome.fileId, '-y'], env);
    expect(again.code).toBe(EXIT.OK);
    expect(again.stdout).toBe(`${welcome.fileId} is not locked; nothing to release.\n`);
  }, 30_000);

  (HAVE_SCRIPT ? test : test.skip)('release on a terminal asks first: "n" keeps the lock (exit 1), "y" releases it', async () => {
    expect((await lockOp(budget, 'LOCK', 'ds-lock-2')).status).toBe(200);
    const no = await wb(['locks', 'release', budget.fileId], env, { tty: true, input: 'n\n' });
    expect(no.code).toBe(EXIT.WARNING);
    expect(no.stdout).toContain(`Release the lock on /Budget.xlsx (file id ${budget.fileId}, lock id ds-lock-2`);
    expect(no.stdout).toContain('[y/N]');
    expect(no.stdout).toContain('Not released; the lock is kept.');
    expect(await currentLock(budget)).toBe('ds-lock-2');
    const yes = await wb(['locks', 'release', budget.fileId], env, { tty: true, input: 'y\n' });
    expect(yes.code).toBe(EXIT.OK);
    expect(yes.stdout).toContain('Released the lock on /Budget.xlsx');
    expect(await currentLock(budget)).toBe('');
  }, 30_000);

  test('usage errors: exit 3, one line', async () => {
    for (const args of [['locks'], ['locks', 'steal'], ['locks', 'show'], ['locks', 'release'], ['locks', 'list', 'x']]) {
      const r = await wb(args, env);
      expect(r.code).toBe(EXIT.UNKNOWN);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  }, 30_000);
});

describe('wopi-bridge locks with a broken state store', () => {
  test('a DATA_DIR no bridge has used: a warning (is it the server\'s?), exit 1', async () => {
    const r = await wb(['locks', 'list'], { DATA_DIR: await makeTempDir('wopi-cli-locks-empty-') });
    expect(r.code).toBe(EXIT.WARNING);
    expect(r.stdout).toBe('No locks.\n');
    expect(r.stderr).toMatch(/^wopi-bridge: warning: no state database at .*state\.sqlite: no bridge has run with this DATA_DIR \(is it the server's\?\)$/m);
  }, 30_000);

  test('Redis down: exit 2, one line, the password never shown', async () => {
    const port = await freePort();
    const env = { DATA_DIR: await makeTempDir('wopi-cli-locks-noredis-'), REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${port}/0` };
    for (const args of [['locks', 'list'], ['locks', 'release', 'fAbc', '--yes']]) {
      const r = await wb(args, env);
      expect(r.code).toBe(EXIT.CRITICAL);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^wopi-bridge: the state store failed/);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  }, 30_000);
});

test('no locks command printed a secret or a token', () => {
  expect(secrets.length).toBe(4);
  expect(leaks(runs, [REDIS_PASSWORD, ...secrets], tokens)).toEqual([]);
});
