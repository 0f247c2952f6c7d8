import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { cleanupProcesses, makeTempDir } from '../../helpers/processes.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { EXIT, STACK_LINE, leaks, runs, wb } from './cliHarness.js';

const DOCS_SECRET = `docs-${randomBytes(16).toString('hex')}`;
const WRONG_SECRET = `wrong-${randomBytes(16).toString('hex')}`;
/** Every token given to decode/verify: none may be printed back whole, nor its signature. */
const tokens: string[] = [];
const now = (): number => Math.floor(Date.now() / 1000);

let env: Record<string, string>;
let wopiSecret: string;
let embeddedPassword: string;
let secretDir: string;

function keep(token: string): string {
  tokens.push(token);
  return token;
}

/** A token like the bridge's own access tokens, with overrides. */
function accessToken(claims: Record<string, unknown> = {}, secret = wopiSecret, alg: jwt.Algorithm = 'HS256'): string {
  const t = now();
  return keep(jwt.sign({ sub: 'alice', name: 'Alice', fid: 'fAbc123', w: 1, jti: 'j1', iat: t, exp: t + 3600, aud: 'wopi', iss: 'wopi-bridge', ...claims }, secret, { algorithm: alg }));
}

beforeAll(async () => {
  env = { DATA_DIR: await makeTempDir('wopi-cli-jwt-') };
  // The first run generates the data folder's secrets; the tests sign with the same one.
  const first = await wb(['config', 'check'], env);
  expect(first.code).toBe(EXIT.OK);
  const generated = JSON.parse(await readFile(path.join(env.DATA_DIR as string, 'secrets.json'), 'utf8')) as { tokenSecret: string; embeddedPassword: string };
  wopiSecret = generated.tokenSecret;
  embeddedPassword = generated.embeddedPassword;
  secretDir = await makeTempDir('wopi-cli-jwt-secrets-');
  await writeFile(path.join(secretDir, 'right'), `${wopiSecret}\n`);
  await writeFile(path.join(secretDir, 'wrong'), WRONG_SECRET);
  await writeFile(path.join(secretDir, 'docs'), DOCS_SECRET);
}, 30_000);
afterAll(cleanupProcesses);

describe('wopi-bridge jwt decode', () => {
  test('an access token from `token`: header, claims, expiry in local time, never the signature', async () => {
    const t = await wb(['token', '/Welcome.docx', '--json'], env);
    const accessTokenValue = keep((JSON.parse(t.stdout) as { accessToken: string }).accessToken);
    const [h, p] = accessTokenValue.split('.');
    const r = await wb(['jwt', 'decode', accessTokenValue], env);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`token:      ${h}.${p}.<signature hidden>`);
    expect(r.stdout).toContain('header:     {"alg":"HS256","typ":"JWT"}');
    expect(r.stdout).toMatch(/"sub": "admin"/);
    expect(r.stdout).toMatch(/^expires: {4}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d \(expires in 600 min \(10 h\)\)$/m);
    expect(r.stdout).toMatch(/^issued: {5}.* \(\d s ago\)$/m);

    const j = await wb(['jwt', 'decode', '-', '--json'], env, { input: `${accessTokenValue}\n` });
    expect(j.code).toBe(EXIT.OK);
    const doc = JSON.parse(j.stdout) as { header: Record<string, unknown>; claims: Record<string, unknown>; expiresAt: string; token: string };
    expect(doc.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(doc.claims).toMatchObject({ sub: 'admin', aud: 'wopi', iss: 'wopi-bridge', w: 1 });
    expect(Date.parse(doc.expiresAt)).toBe((doc.claims.exp as number) * 1000);
    expect(doc.token).toBe(`${h}.${p}.<signature hidden>`);
  }, 30_000);

  test('an expired token: "expired N minutes ago"; a "Bearer " prefix is tolerated', async () => {
    const token = accessToken({ iat: now() - 3600, exp: now() - 5 * 60 });
    const r = await wb(['jwt', 'decode', '-'], env, { input: `Bearer ${token}` });
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toMatch(/^expires: .*\(expired 5 minutes ago\)$/m);
  }, 30_000);

  test.each([
    ['one part', 'garbage', 'a JWT has 3 parts separated by dots; this has 1'],
    ['a header that is not base64url', 'ab$c.eyJ9.sig', 'its header is not base64url'],
    ['a header that is not JSON', `${Buffer.from('nope').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.sig`, 'its header is not JSON'],
    ['a payload that is an array', `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('[1]').toString('base64url')}.sig`, 'its payload is not a JSON object'],
  ])('malformed (%s): exit 2 with the reason', async (_what, token, reason) => {
    const r = await wb(['jwt', 'decode', token], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout.trim()).toBe(`malformed token: ${reason}`);
    expect(r.stderr).not.toMatch(STACK_LINE);
  }, 30_000);

  test('no token: exit 3', async () => {
    const r = await wb(['jwt', 'decode'], env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stderr).toContain('usage: wopi-bridge jwt decode TOKEN|-');
  }, 30_000);
});

describe('wopi-bridge jwt verify', () => {
  test('valid against the configured WOPI_TOKEN_SECRET: exit 0, who and which file', async () => {
    const r = await wb(['jwt', 'verify', accessToken()], env);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toMatch(/^VALID signed with the configured WOPI_TOKEN_SECRET \(HS256\), for user "alice", file id fAbc123, can edit$/m);
    const j = await wb(['jwt', 'verify', '-', '--json'], env, { input: accessToken({ w: 0 }) });
    expect(j.code).toBe(EXIT.OK);
    expect(JSON.parse(j.stdout)).toMatchObject({ valid: true, kind: 'wopi', algorithm: 'HS256' });
  }, 30_000);

  test.each<[string, () => string, string, RegExp]>([
    ['signed with another secret', () => accessToken({}, WRONG_SECRET), 'bad_signature', /^INVALID bad signature: the token was not signed with the configured WOPI_TOKEN_SECRET \(a different secret, or the token was altered\)$/m],
    ['expired', () => accessToken({ iat: now() - 7200, exp: now() - 600 }), 'expired', /^INVALID expired: at \d{4}-.* [+-]\d\d:\d\d, 10 minutes ago; this machine's clock says \d{4}-/m],
    ['not valid yet', () => accessToken({ nbf: now() + 1200 }), 'not_yet_valid', /^INVALID not yet valid: nbf is .*, in 20 min; this machine's clock says .* check the clocks/m],
    ['HS512', () => accessToken({}, wopiSecret, 'HS512'), 'wrong_algorithm', /^INVALID wrong algorithm: the header says alg "HS512"; the bridge only accepts HS256$/m],
    ['alg none', () => keep(`${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'a', exp: now() + 60 })).toString('base64url')}.`), 'wrong_algorithm', /the header says alg "none"/],
    ['for another audience', () => accessToken({ aud: 'docs' }), 'wrong_audience', /^INVALID wrong audience: aud is "docs", the bridge's access tokens carry "wopi"$/m],
    ['from another issuer', () => accessToken({ iss: 'nextcloud' }), 'wrong_issuer', /^INVALID wrong issuer: iss is "nextcloud", the bridge's access tokens carry "wopi-bridge"$/m],
    ['without a file id', () => accessToken({ fid: undefined }), 'bad_claims', /needs the claims sub \(user\), fid \(file id\) and w/],
    ['older than 7 days', () => accessToken({ iat: now() - 8 * 86400, exp: now() + 3600 }), 'too_old', /^INVALID too old: issued \d+ min \(19\d h\) ago; the bridge refuses tokens older than 7 days whatever their exp$/m],
    ['garbage', () => keep('not.a.token'), 'malformed', /^INVALID malformed token: its header is not JSON$/m],
  ])('%s: exit 2 and says why', async (_what, make, reason, message) => {
    const token = make();
    const r = await wb(['jwt', 'verify', token], env);
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout).toMatch(message);
    const j = await wb(['jwt', 'verify', '-', '--json'], env, { input: token });
    expect(j.code).toBe(EXIT.CRITICAL);
    expect(JSON.parse(j.stdout)).toMatchObject({ valid: false, reason });
  }, 30_000);

  test('--secret-file and --secret-stdin instead of the configured secret', async () => {
    const token = accessToken();
    const right = await wb(['jwt', 'verify', token, '--secret-file', path.join(secretDir, 'right')], env);
    expect(right.code).toBe(EXIT.OK);
    expect(right.stdout).toContain(`signed with the secret in ${path.join(secretDir, 'right')}`);
    const wrong = await wb(['jwt', 'verify', token, '--secret-file', path.join(secretDir, 'wrong')], env);
    expect(wrong.code).toBe(EXIT.CRITICAL);
    expect(wrong.stdout).toContain('bad signature: the token was not signed with the secret in');
    const stdin = await wb(['jwt', 'verify', token, '--secret-stdin'], env, { input: `${wopiSecret}\n` });
    expect(stdin.code).toBe(EXIT.OK);
    expect(stdin.stdout).toContain('signed with the secret from stdin');
    const both = await wb(['jwt', 'verify', '-', '--secret-stdin'], env, { input: token });
    expect(both.code).toBe(EXIT.UNKNOWN);
    expect(both.stderr).toContain('cannot both come from stdin');
  }, 30_000);

  test('--kind docs against DOCS_JWT_SECRET, with DocumentServer\'s 60 s clock tolerance', async () => {
    const docsEnv = { ...env, DOCS_JWT_SECRET: DOCS_SECRET };
    const ok = keep(jwt.sign({ c: 'version' }, DOCS_SECRET, { expiresIn: 300 }));
    const r = await wb(['jwt', 'verify', ok, '--kind', 'docs'], docsEnv);
    expect(r.code).toBe(EXIT.OK);
    expect(r.stdout).toMatch(/^VALID signed with the configured DOCS_JWT_SECRET \(HS256\)$/m);
    const justExpired = keep(jwt.sign({ c: 'version', iat: now() - 300, exp: now() - 30 }, DOCS_SECRET));
    expect((await wb(['jwt', 'verify', justExpired, '--kind', 'docs'], docsEnv)).code).toBe(EXIT.OK);
    const expired = keep(jwt.sign({ c: 'version', iat: now() - 300, exp: now() - 120 }, DOCS_SECRET));
    const e = await wb(['jwt', 'verify', expired, '--kind', 'docs'], docsEnv);
    expect(e.code).toBe(EXIT.CRITICAL);
    expect(e.stdout).toMatch(/INVALID expired: at .*, 2 minutes ago \(beyond DocumentServer's 60 s tolerance\)/);
    const hs384 = keep(jwt.sign({ c: 'version' }, DOCS_SECRET, { algorithm: 'HS384', expiresIn: 60 }));
    expect((await wb(['jwt', 'verify', hs384, '--kind', 'docs'], docsEnv)).code).toBe(EXIT.OK);
    const wrong = await wb(['jwt', 'verify', keep(jwt.sign({ c: 'version' }, WRONG_SECRET)), '--kind', 'docs'], docsEnv);
    expect(wrong.stdout).toContain('bad signature: the token was not signed with the configured DOCS_JWT_SECRET');
  }, 30_000);

  test('--kind docs without DOCS_JWT_SECRET: exit 3 with the fix', async () => {
    const r = await wb(['jwt', 'verify', keep(jwt.sign({ c: 'version' }, DOCS_SECRET)), '--kind', 'docs'], env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stderr.trim()).toBe('wopi-bridge: DOCS_JWT_SECRET is not configured: set it (wopi-bridge config set DOCS_JWT_SECRET) or pass --secret-file / --secret-stdin');
  }, 30_000);

  test.each([
    [['jwt', 'verify'], 'missing argument'],
    [['jwt', 'verify', 'a.b.c', '--kind', 'saml'], '--kind must be wopi'],
    [['jwt', 'verify', 'a.b.c', '--secret-file', '/nonexistent'], '--secret-file /nonexistent: cannot be read (ENOENT)'],
    [['jwt'], 'jwt needs decode, verify or sign'],
    [['jwt', 'forge'], 'jwt needs decode, verify or sign'],
  ])('usage error %j: exit 3', async (args, message) => {
    const r = await wb(args, env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(message)]);
  }, 30_000);
});

describe('wopi-bridge jwt sign', () => {
  let ds: DocServiceDouble;
  beforeAll(async () => {
    ds = await startDocServiceDouble({ jwtSecret: DOCS_SECRET });
  });
  afterAll(async () => {
    await ds?.close();
  });

  /** Asks the DS double's command service with a token in the body, as the bridge's JWT check does. */
  async function command(token: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${ds.url}/coauthoring/CommandService.ashx`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }) });
    return (await res.json()) as Record<string, unknown>;
  }

  test('a {"c":"version"} token with DOCS_JWT_SECRET that DocumentServer accepts', async () => {
    const r = await wb(['jwt', 'sign'], { ...env, DOCS_JWT_SECRET: DOCS_SECRET });
    expect(r.code).toBe(EXIT.OK);
    const token = r.stdout.trim();
    expect(token.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/signed with the configured DOCS_JWT_SECRET, HS256, expires in 5 min/);
    const claims = jwt.verify(token, DOCS_SECRET) as Record<string, number | string>;
    expect(claims.c).toBe('version');
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
    expect(await command(token)).toMatchObject({ error: 0, version: '9.3.1.11' });
  }, 30_000);

  test('--payload, --expires-in, --json, --secret-file; a wrong secret is error 6 at DocumentServer', async () => {
    const r = await wb(['jwt', 'sign', '--payload', '{"c":"license"}', '--expires-in', '60', '--json', '--secret-file', path.join(secretDir, 'docs')], env);
    expect(r.code).toBe(EXIT.OK);
    const doc = JSON.parse(r.stdout) as { token: string; payload: Record<string, number | string>; header: Record<string, unknown> };
    expect(doc.header).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(doc.payload.c).toBe('license');
    expect((doc.payload.exp as number) - (doc.payload.iat as number)).toBe(60);
    expect(await command(doc.token)).toMatchObject({ error: 0 });
    const wrong = await wb(['jwt', 'sign', '--secret-file', path.join(secretDir, 'wrong')], env);
    expect(await command(wrong.stdout.trim())).toMatchObject({ error: 6 });
  }, 30_000);

  test('--kind wopi signs with WOPI_TOKEN_SECRET and the bridge\'s audience and issuer: verify accepts it', async () => {
    const r = await wb(['jwt', 'sign', '--kind', 'wopi', '--payload', '{"sub":"bob","fid":"fXyz","w":0}', '--expires-in', '120'], env);
    expect(r.code).toBe(EXIT.OK);
    const v = await wb(['jwt', 'verify', '-'], env, { input: r.stdout });
    expect(v.code).toBe(EXIT.OK);
    expect(v.stdout).toContain('for user "bob", file id fXyz, view only');
  }, 30_000);

  test.each([
    [['jwt', 'sign', '--payload', '[1]'], '--payload must be a JSON object'],
    [['jwt', 'sign', '--payload', '{oops'], '--payload must be a JSON object'],
    [['jwt', 'sign', '--expires-in', '0'], '--expires-in must be a whole number of seconds between 1 and 604800'],
    [['jwt', 'sign'], 'DOCS_JWT_SECRET is not configured'],
    [['jwt', 'sign', 'extra'], 'too many arguments'],
  ])('usage error %j: exit 3', async (args, message) => {
    const r = await wb(args, env);
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
  }, 30_000);
});

test('no jwt command printed a secret, or a token given to it', () => {
  const found = leaks(runs, [DOCS_SECRET, WRONG_SECRET, wopiSecret, embeddedPassword], tokens);
  expect(found).toEqual([]);
  expect(runs.length).toBeGreaterThan(40);
});
