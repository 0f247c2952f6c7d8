/**
 * checkJwtSecret against the DocumentServer double in each token configuration of the captures: secret match,
 * mismatch, inbox JWT off (`77`–`79`), custom inbox header (`80`–`82`), expired tokens from clock skew (`93`), no
 * secret on the bridge, the ipfilter. The bridge's clock is shifted through `now` to play skew.
 */
import jwt from 'jsonwebtoken';
import { checkJwtSecret } from '../../../connector/src/checks/checkJwtSecret.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { checksConfig, closedPortUrl, expectNoSecret, reply, startHttp, type Running } from './checkServers.js';

/** A 64-character secret, as `openssl rand -hex 32` makes. */
const LONG = 'f3c1d0b8a7e6954c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918070605040';
const SHORT = 'test-secret-123';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});
async function double(opts: Parameters<typeof startDocServiceDouble>[0] = {}): Promise<DocServiceDouble> {
  const ds = await startDocServiceDouble({ proofKeys: false, ...opts });
  closers.push(() => ds.close());
  return ds;
}
async function server(start: Promise<Running>): Promise<Running> {
  const s = await start;
  closers.push(() => s.close());
  return s;
}
const command = (ds: DocServiceDouble) => ds.requests.filter((r) => r.target.toLowerCase().startsWith('/coauthoring/commandservice.ashx'));

describe('checkJwtSecret', () => {
  test('ok: the secret matches, DS enforces tokens, and reads them from Authorization', async () => {
    const ds = await double({ jwtSecret: LONG });
    const r = await checkJwtSecret(checksConfig(ds.url, { jwtSecret: LONG }));
    expect(r).toMatchObject({ id: 'jwt_secret', status: 'ok', data: { jwt: 'match', header: 'Authorization', dsRequiresToken: true } });
    expect(Math.abs(r.data?.clockSkewSeconds as number)).toBeLessThan(3);
    expectNoSecret(r, [LONG]);
    // Three probes: body token, header-only token, wrong-secret body token.
    const sent = command(ds);
    expect(sent).toHaveLength(3);
    const headerOnly = sent.find((q) => typeof q.headers.authorization === 'string');
    expect(JSON.parse(headerOnly?.body.toString() ?? '{}')).toEqual({ c: 'version' });
    const token = (headerOnly?.headers.authorization as string).replace('Bearer ', '');
    expect(jwt.verify(token, LONG, { algorithms: ['HS256'] })).toMatchObject({ payload: { c: 'version' } });
  });

  test('ok with a custom header on both sides', async () => {
    const ds = await double({ jwtSecret: LONG, jwtHeader: 'AuthorizationJwt' });
    const r = await checkJwtSecret(checksConfig(ds.url, { jwtSecret: LONG, jwtHeader: 'AuthorizationJwt' }));
    expect(r).toMatchObject({ status: 'ok', data: { jwt: 'match', header: 'AuthorizationJwt' } });
  });

  test('warn: the secret matches but is shorter than 32 bytes', async () => {
    const ds = await double({ jwtSecret: SHORT });
    const r = await checkJwtSecret(checksConfig(ds.url, { jwtSecret: SHORT }));
    expect(r).toMatchObject({ status: 'warn', data: { jwt: 'match', secretBytes: 15 } });
    expect(r.summary).toMatch(/only 15 bytes long/);
    expect(r.fix).toMatch(/openssl rand -hex 32/);
    expectNoSecret(r, [SHORT]);
  });

  test('fail: DS rejects the token (error 6) = secret mismatch', async () => {
    const ds = await double({ jwtSecret: LONG });
    const wrong = 'a-different-secret-that-is-long-enough-0123456789';
    const r = await checkJwtSecret(checksConfig(ds.url, { jwtSecret: wrong }));
    expect(r).toMatchObject({ status: 'fail', data: { jwt: 'mismatch' } });
    expect(r.summary).toMatch(/error 6, invalid token\): the secrets differ/);
    expect(r.fix).toMatch(/services\.CoAuthoring\.secret\.inbox\.string/);
    expectNoSecret(r, [wrong, LONG]);
  });

  test('fail: token expired (error 7) = clock skew, with the measured skew', async () => {
    const ds = await double({ jwtSecret: LONG });
    const r = await checkJwtSecret(checksConfig(ds.url, { jwtSecret: LONG, now: () => Date.now() - 600_000 }));
    expect(r).toMatchObject({ status: 'fail', data: { jwt: 'clock_skew' } });
    const skew = r.data?.clockSkewSeconds as number;
    expect(skew).toBeGreaterThanOrEqual(597);
    expect(skew).toBeLessThanOrEqual(603);
    expect(r.summary).toMatch(/expired \(error 7\): DocumentServer's clock is (9 min 5\d s|10 min( [0-3] s)?) ahead of the bridge's/);
    expect(r.fix).toMatch(/NTP/);
  });

  test('warn: the secret matches but the clocks are 3 minutes apart', async () => {
    const ds = await double({ jwtSecret: LONG });
    const r = await checkJwtSecret(checksConfig(ds.url, { jwtSecret: LONG, now: () => Date.now() - 180_000 }));
    expect(r).toMatchObject({ status: 'warn', data: { jwt: 'match' } });
    expect(r.summary).toMatch(/clock is (2 min 5\d s|3 min( [0-3] s)?) ahead/);
  });

  test('warn: DS accepts a wrong secret = inbox JWT off, insecure, with the snippet to enable it', async () => {
    const ds = await double({ jwtSecret: null });
    const r = await checkJwtSecret(checksConfig(ds.url, { jwtSecret: LONG }));
    expect(r).toMatchObject({ status: 'warn', data: { jwt: 'not_enforced', dsRequiresToken: false } });
    expect(r.summary).toMatch(/^Insecure: DocumentServer does not check tokens/);
    const snippet = JSON.parse(/\{[\s\S]*?\n\}/.exec(r.fix ?? '')?.[0] ?? 'null') as { services: { CoAuthoring: { token: { enable: unknown }; secret: { inbox: { string: string } } } } };
    expect(snippet.services.CoAuthoring.token.enable).toEqual({ browser: true, request: { inbox: true, outbox: true } });
    expect(snippet.services.CoAuthoring.secret.inbox.string).toBe('<the value of DOCS_JWT_SECRET>');
    expectNoSecret(r, [LONG]);
  });

  test('warn: neither side uses a secret', async () => {
    const ds = await double({ jwtSecret: null });
    const r = await checkJwtSecret(checksConfig(ds.url));
    expect(r).toMatchObject({ status: 'warn', data: { jwt: 'not_configured', secretConfigured: false } });
    expect(r.summary).toMatch(/neither the bridge nor DocumentServer use a JWT secret/);
    expect(command(ds)).toHaveLength(1);
  });

  test('fail: DS requires a token, the bridge has no secret', async () => {
    const ds = await double({ jwtSecret: LONG });
    const r = await checkJwtSecret(checksConfig(ds.url, { jwtSecret: null }));
    expect(r).toMatchObject({ status: 'fail', data: { jwt: 'ds_requires_token' } });
    expect(r.summary).toMatch(/DOCS_JWT_SECRET is not set/);
    expect(r.fix).toMatch(/npm\/json -f \/etc\/onlyoffice\/documentserver\/local\.json 'services\.CoAuthoring\.secret\.inbox\.string'/);
  });

  test('fail: header name mismatch — the body token passes, the header-only token is refused', async () => {
    const ds = await double({ jwtSecret: LONG, jwtHeader: 'AuthorizationJwt' });
    const r = await checkJwtSecret(checksConfig(ds.url, { jwtSecret: LONG, jwtHeader: 'Authorization' }));
    expect(r).toMatchObject({ status: 'fail', data: { jwt: 'header_mismatch' } });
    expect(r.summary).toMatch(/^Header name mismatch/);
    const snippet = JSON.parse(/\{[\s\S]*?\n\}/.exec(r.fix ?? '')?.[0] ?? 'null') as unknown;
    expect(snippet).toEqual({ services: { CoAuthoring: { token: { inbox: { header: 'Authorization' }, outbox: { header: 'Authorization' } } } } });
    expect(r.fix).toMatch(/DOCS_JWT_HEADER/);
  });

  test('fail: the ipfilter refuses the command service', async () => {
    const ds = await double({ jwtSecret: LONG, ipDenied: true });
    const r = await checkJwtSecret(checksConfig(ds.url, { jwtSecret: LONG }));
    expect(r).toMatchObject({ status: 'fail', data: { jwt: 'unknown', ipfilter: true } });
    expect(r.summary).toMatch(/^The JWT secret cannot be checked, because DocumentServer refuses the bridge \(403 Forbidden\)/);
  });

  test('fail: unreachable', async () => {
    const r = await checkJwtSecret(checksConfig(await closedPortUrl(), { jwtSecret: LONG }));
    expect(r).toMatchObject({ status: 'fail', data: { transport: 'refused', jwt: 'unknown' } });
  });

  test('fail: an error code no token problem explains', async () => {
    const s = await server(startHttp((req, res) => reply(res, 200, '{"error":3}', 'application/json')));
    const r = await checkJwtSecret(checksConfig(s.url, { jwtSecret: LONG }));
    expect(r).toMatchObject({ status: 'fail', data: { commandError: 3 } });
    expect(r.summary).toMatch(/error 3 \(internal server error\)/);
  });

  test('skipped without a usable address', async () => {
    expect((await checkJwtSecret(checksConfig(null))).status).toBe('skipped');
  });
});
