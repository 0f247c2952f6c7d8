/**
 * One sweep over every command, in every mode (text, --json, a terminal, --no-color, --help) and in healthy and
 * broken setups, with every kind of secret configured (environment, settings file, files, Redis URL, the data
 * folder's generated secrets, DS's private proof keys); then all output is scanned. Nothing may show a secret, and
 * no command but `token` and `jwt sign` (whose result is a token) may show an access token.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { cleanupProcesses, freePort, makeTempDir, spawnBridge, type SpawnedBridge } from '../../helpers/processes.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { redisCommand, startRedis, type RedisServer } from '../../helpers/redisServer.js';
import { EXIT, HAVE_SCRIPT, leaks, runs, wb, type CliToken } from './cliHarness.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const WOPI_SECRET = `wopi-${hex(24)}`;
const DOCS_SECRET = `docs-${hex(16)}`;
const ARGV_SECRET = `argv-${hex(16)}`;
const ADMIN_PASSWORD = `admin-${hex(12)}`;
const REDIS_PASSWORD = `redis-${hex(12)}`;
const WRONG_SECRET = `wrong-${hex(16)}`;
const SHORT_SECRET = 'short-sekrit-1234';

let env: Record<string, string>;
let ds: DocServiceDouble;
let redis: RedisServer;
let bridge: SpawnedBridge;
let keyDir: string;
const tokens: string[] = [];
const extraSecrets: string[] = [];

beforeAll(async () => {
  redis = await startRedis({ appendonly: false });
  await redisCommand(redis.port, ['CONFIG', 'SET', 'requirepass', REDIS_PASSWORD]);
  ds = await startDocServiceDouble({ jwtSecret: DOCS_SECRET });
  keyDir = await makeTempDir('wopi-cli-secrets-keys-');
  const keys = ds.proofKeys();
  if (!keys) throw new Error('no proof keys');
  for (const [name, k] of [['current', keys.current], ['old', keys.old]] as const) {
    const pem = k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    await writeFile(path.join(keyDir, `${name}.pem`), pem, { mode: 0o600 });
    // The key material between the PEM armour lines.
    extraSecrets.push(pem.split('\n').slice(1, -2).join(''));
  }
  await writeFile(path.join(keyDir, 'admin-password'), ADMIN_PASSWORD, { mode: 0o600 });
  await writeFile(path.join(keyDir, 'wrong'), WRONG_SECRET, { mode: 0o600 });

  env = { DATA_DIR: await makeTempDir('wopi-cli-secrets-'), PORT: String(await freePort()), WOPI_TOKEN_SECRET: WOPI_SECRET };
  // Configured the way an admin would, through the CLI.
  expect((await wb(['config', 'set', 'DOCS_URL', ds.url], env)).code).toBe(EXIT.OK);
  expect((await wb(['config', 'set', 'DOCS_JWT_SECRET'], env, { input: `${DOCS_SECRET}\n` })).code).toBe(EXIT.OK);
  expect((await wb(['config', 'set', 'REDIS_URL', '--stdin'], env, { input: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redis.port}/0` })).code).toBe(EXIT.OK);
  expect((await wb(['config', 'set', 'STORAGE_ADMIN_PASSWORD', '--from-file', path.join(keyDir, 'admin-password'), '--with', 'STORAGE_ADMIN_USER=admin'], env)).code).toBe(EXIT.OK);
  const generated = JSON.parse(await readFile(path.join(env.DATA_DIR as string, 'secrets.json'), 'utf8')) as { tokenSecret: string; embeddedPassword: string };
  extraSecrets.push(generated.tokenSecret, generated.embeddedPassword);
  bridge = await spawnBridge(env);
}, 60_000);

afterAll(async () => {
  await bridge?.stop('SIGKILL');
  await ds?.close();
  await redis?.stop();
  await cleanupProcesses();
});

function keepTokenFrom(stdout: string): void {
  for (const m of stdout.matchAll(/eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g)) tokens.push(m[0]);
}

test('every command, every mode, healthy and broken', async () => {
  const proof = ['--proof-key', path.join(keyDir, 'current.pem'), '--proof-key-old', path.join(keyDir, 'old.pem')];
  const modes: Array<{ opts?: { tty?: boolean }; extra: string[] }> = [{ extra: [] }, { extra: ['--no-color'] }];
  if (HAVE_SCRIPT) modes.push({ opts: { tty: true }, extra: [] });

  // token: prints a token by design.
  const t = await wb(['token', '/Welcome.docx', '--json'], env);
  expect(t.code).toBe(EXIT.OK);
  const welcome = JSON.parse(t.stdout) as CliToken;
  tokens.push(welcome.accessToken);
  keepTokenFrom((await wb(['token', '/Budget.xlsx'], env)).stdout);

  // An editor holds a lock on Budget.xlsx (signed like DS: the bridge enforces proofs since DS publishes keys).
  const budget = JSON.parse((await wb(['token', '/Budget.xlsx', '--json'], env)).stdout) as CliToken;
  tokens.push(budget.accessToken);
  const lockUrl = `${budget.wopiSrc}?access_token=${encodeURIComponent(budget.accessToken)}`;
  const lock = await fetch(lockUrl, { method: 'POST', headers: { ...ds.signWopiRequest(lockUrl, budget.accessToken), 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'editor-lock' } });
  expect(lock.status).toBe(200);

  const signed = jwt.sign({ c: 'version' }, DOCS_SECRET, { expiresIn: 60 });
  const expired = jwt.sign({ sub: 'a', fid: welcome.fileId, w: 1, aud: 'wopi', iss: 'wopi-bridge', iat: 1, exp: 2 }, WOPI_SECRET);
  const foreign = jwt.sign({ sub: 'a' }, WRONG_SECRET);
  tokens.push(signed, expired, foreign);

  for (const m of modes) {
    const run = (args: string[], e: Record<string, string> = env, input?: string): ReturnType<typeof wb> =>
      wb([...args, ...m.extra], e, { ...m.opts, ...(input !== undefined && !m.opts?.tty ? { input } : {}) });
    const codes: Array<[string, number | null]> = [];
    const note = async (args: string[], e?: Record<string, string>, input?: string): Promise<void> => {
      const r = await run(args, e, input);
      codes.push([args.join(' '), r.code]);
      if (args[0] === 'jwt' && args[1] === 'sign') keepTokenFrom(r.stdout);
    };
    for (const c of ['token', 'config', 'smoke', 'jwt', 'discovery', 'locks']) await note([c, '--help']);
    await note(['config', 'get']);
    await note(['config', 'get', '--json']);
    await note(['config', 'get', 'DOCS_JWT_SECRET']);
    await note(['config', 'get', 'REDIS_URL', '--json']);
    await note(['config', 'check']);
    await note(['config', 'check', '--json']);
    await note(['config', 'set', 'DOCS_JWT_SECRET', ARGV_SECRET]);
    await note(['config', 'set', 'STORAGE_ADMIN_USER', 'admin2', '--with', `STORAGE_ADMIN_PASSWORD=${ARGV_SECRET}`]);
    await note(['config', 'set', 'DOCS_URL', 'ftp://nope']);
    await note(['smoke', '/Welcome.docx', ...proof]);
    await note(['smoke', '/Welcome.docx', '--json', ...proof]);
    await note(['smoke', '/Welcome.docx']);
    await note(['smoke', '/Budget.xlsx', '--json', ...proof]);
    await note(['jwt', 'decode', welcome.accessToken]);
    await note(['jwt', 'decode', welcome.accessToken, '--json']);
    await note(['jwt', 'verify', welcome.accessToken]);
    await note(['jwt', 'verify', welcome.accessToken, '--json']);
    await note(['jwt', 'verify', welcome.accessToken, '--kind', 'docs']);
    await note(['jwt', 'verify', welcome.accessToken, '--secret-file', path.join(keyDir, 'wrong')]);
    await note(['jwt', 'verify', expired]);
    await note(['jwt', 'verify', foreign, '--json']);
    await note(['jwt', 'verify', signed, '--kind', 'docs', '--json']);
    await note(['jwt', 'sign']);
    await note(['jwt', 'sign', '--kind', 'wopi', '--json', '--payload', '{"sub":"x"}']);
    await note(['discovery']);
    await note(['discovery', '--json']);
    await note(['locks', 'list']);
    await note(['locks', 'list', '--json']);
    await note(['locks', 'show', budget.fileId]);
    await note(['locks', 'show', budget.fileId, '--json']);
    // Broken: a configuration error, an unreachable DS, a wrong lock store.
    const broken = { ...env, WOPI_TOKEN_SECRET: SHORT_SECRET };
    for (const args of [['token', '/Welcome.docx'], ['config', 'check'], ['config', 'get'], ['smoke', '/Welcome.docx'], ['jwt', 'verify', welcome.accessToken], ['locks', 'list'], ['discovery']]) {
      await note(args, broken);
    }
    await note(['discovery', '--url', `http://127.0.0.1:${await freePort()}`]);
    expect(codes.filter(([a]) => a.startsWith('config set')).map(([, c]) => c)).toEqual([EXIT.UNKNOWN, EXIT.UNKNOWN, EXIT.UNKNOWN]);
    expect(codes.find(([a]) => a === `smoke /Welcome.docx ${proof.join(' ')}`)?.[1]).toBe(EXIT.OK);
    expect(codes.find(([a]) => a === 'smoke /Welcome.docx')?.[1]).toBe(EXIT.CRITICAL);
  }
  // Stdin modes (not on a terminal).
  await wb(['jwt', 'verify', '-', '--kind', 'docs'], env, { input: signed });
  await wb(['jwt', 'decode', '-'], env, { input: welcome.accessToken });
  await wb(['config', 'set', 'DOCS_JWT_SECRET'], env, { input: DOCS_SECRET });
  // The editor's lock is released last.
  expect((await wb(['locks', 'release', budget.fileId, '--yes'], env)).code).toBe(EXIT.OK);
  expect(runs.length).toBeGreaterThan(100);
}, 450_000);

test('no output of any run holds a secret, a private key or (outside token / jwt sign) a token', () => {
  expect(tokens.length).toBeGreaterThan(6);
  const found = leaks(runs, [WOPI_SECRET, DOCS_SECRET, ARGV_SECRET, ADMIN_PASSWORD, REDIS_PASSWORD, WRONG_SECRET, SHORT_SECRET, ...extraSecrets], tokens);
  expect(found).toEqual([]);
});

test('the scan itself finds a piece of a secret, a whole token and a token signature', () => {
  const token = jwt.sign({ sub: 'probe' }, WRONG_SECRET);
  const fake = (stdout: string, args = ['config', 'get']): Parameters<typeof leaks>[0][number] => ({ args, stdout, stderr: '', code: 0, signal: null, ms: 0, printsToken: args[0] === 'token' });
  expect(leaks([fake(`x${DOCS_SECRET.slice(3, 17)}x`)], [DOCS_SECRET], []).length).toBeGreaterThan(0);
  expect(leaks([fake(`x${DOCS_SECRET.slice(3, 14)}x`)], [DOCS_SECRET], [])).toEqual([]);
  expect(leaks([fake(token)], [], [token]).length).toBeGreaterThan(0);
  expect(leaks([fake(`sig ${token.split('.')[2]}`)], [], [token])).toHaveLength(1);
  expect(leaks([fake(token, ['token', '/x'])], [], [token])).toEqual([]);
  expect(leaks([fake(`${token.split('.').slice(0, 2).join('.')}.<signature hidden>`)], [], [token])).toEqual([]);
});
