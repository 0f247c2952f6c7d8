/**
 * checkDocsReachesBridge against the DocumentServer double, which really fetches the probe URL it is given (with
 * its outbox token in the outbox header, without one, or not at all), and a bridge made of the real probe
 * endpoint on port 0. Each outcome: verified, no token, token in another header, wrong outbox secret, expired
 * token, nothing arrived (-4, a refused port, DS's filter, DS hanging), another server at PUBLIC_URL, DS refusing
 * the request (-8, ipfilter), garbage answers; and two instances sharing one state store.
 */
import http from 'node:http';
import Koa from 'koa';
import jwt from 'jsonwebtoken';
import type { AddressInfo } from 'node:net';
import { checkDocsReachesBridge, type ReachesBridgeInput } from '../../../connector/src/checks/checkDocsReachesBridge.js';
import { PROBE_NAMESPACE, ProbeRecords } from '../../../connector/src/checks/probe/ProbeRecords.js';
import { PROBE_BODY, probeRouter } from '../../../connector/src/checks/probe/probeRouter.js';
import { MemoryStateStore } from '../../../connector/src/state/MemoryStateStore.js';
import type { StateStore } from '../../../connector/src/state/StateStore.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { closedPortUrl, expectNoSecret, reply, startHttp, startSilent, type Running } from './checkServers.js';

const SECRET = 'f3c1d0b8a7e6954c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918070605040';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

async function double(opts: Parameters<typeof startDocServiceDouble>[0] = {}): Promise<DocServiceDouble> {
  const ds = await startDocServiceDouble({ proofKeys: false, jwtSecret: SECRET, downloadRetryDelayMs: 10, ...opts });
  closers.push(() => ds.close());
  return ds;
}
async function server(start: Promise<Running>): Promise<Running> {
  const s = await start;
  closers.push(() => s.close());
  return s;
}

/** A bridge instance: the real probe endpoint over a state store. */
async function bridge(state: StateStore, front?: Koa.Middleware): Promise<{ url: string; hits: http.IncomingHttpHeaders[] }> {
  const app = new Koa();
  const hits: http.IncomingHttpHeaders[] = [];
  app.use(async (ctx, next) => {
    hits.push({ ...ctx.headers });
    await next();
  });
  if (front) app.use(front);
  app.use(probeRouter(state));
  const s = http.createServer(app.callback());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); }));
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, hits };
}

function input(ds: string, bridgeUrl: string, state: StateStore | null, over: Partial<ReachesBridgeInput> = {}): ReachesBridgeInput {
  return { internalUrl: ds, bridgeUrl, jwtSecret: SECRET, timeoutMs: 2000, probes: state ? new ProbeRecords(state) : null, ...over };
}

describe('checkDocsReachesBridge', () => {
  test('ok: DS fetched the probe and its outbox token verified; the record is gone afterwards', async () => {
    const ds = await double();
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(ds.url, b.url, state));
    expect(r).toMatchObject({ id: 'docs_reaches_bridge', status: 'ok', data: { reach: 'verified', convertError: -3, arrivals: 1 } });
    expect(r.messages?.summary.key).toBe('reach_ok');
    // DS was asked like capture 30: Accept JSON, token in the body with the probe URL inside
    const convert = ds.requests.find((q) => q.target === '/ConvertService.ashx');
    expect(convert?.headers.accept).toBe('application/json');
    const body = JSON.parse(convert?.body.toString() ?? '{}') as { url: string; token: string };
    expect(body.url).toMatch(new RegExp(`^${b.url}/probe/[0-9a-f]{32}$`));
    expect(jwt.verify(body.token, SECRET, { algorithms: ['HS256'] })).toMatchObject({ url: body.url, filetype: 'txt' });
    expect(b.hits.some((h) => typeof h.authorization === 'string' && h.authorization.startsWith('Bearer '))).toBe(true);
    expect(await state.list(PROBE_NAMESPACE)).toEqual([]);
    expectNoSecret(r, [SECRET]);
  });

  test('ok with a custom outbox header on both sides (capture 83)', async () => {
    const ds = await double({ outboxHeader: 'AuthorizationJwt' });
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(ds.url, b.url, state, { jwtHeader: 'AuthorizationJwt' }));
    expect(r).toMatchObject({ status: 'ok', data: { reach: 'verified', header: 'AuthorizationJwt' } });
  });

  test('fail: DS sends its token in another header than the bridge reads', async () => {
    const ds = await double({ outboxHeader: 'AuthorizationJwt' });
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(ds.url, b.url, state));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'header_mismatch', dsHeader: 'authorizationjwt' } });
    expect(r.fix).toMatch(/DOCS_JWT_HEADER to authorizationjwt/);
    expect(r.messages?.fix).toEqual({ key: 'reach_header_mismatch_fix', params: expect.objectContaining({ other: 'authorizationjwt' }) });
  });

  test('fail: arrived without a token (outbox JWT off on DS)', async () => {
    const ds = await double({ outboxSecret: null });
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(ds.url, b.url, state));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'no_token', arrivals: 1 } });
    expect(r.fix).toMatch(/"outbox":true/);
  });

  test('fail: a proxy in front of the bridge strips Authorization', async () => {
    const ds = await double();
    const state = new MemoryStateStore();
    const strip: Koa.Middleware = async (ctx, next) => {
      delete ctx.req.headers.authorization;
      await next();
    };
    const b = await bridge(state, strip);
    const r = await checkDocsReachesBridge(input(ds.url, b.url, state));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'no_token' } });
    expect(r.fix).toMatch(/proxy/);
  });

  test('fail: the token does not verify (outbox secret differs)', async () => {
    const ds = await double({ outboxSecret: 'another-outbox-secret-of-32-bytes-or-more!' });
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(ds.url, b.url, state));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'bad_token' } });
    expect(r.fix).toMatch(/secret\.outbox\.string/);
    expectNoSecret(r, [SECRET, 'another-outbox-secret-of-32-bytes-or-more!']);
  });

  test('fail: the token has expired on arrival (the bridge clock is far ahead)', async () => {
    const ds = await double();
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(ds.url, b.url, state, { now: () => Date.now() + 3_600_000 }));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'expired_token' } });
    expect(r.fix).toMatch(/NTP/);
  });

  test('warn: DS signs, but the bridge has no secret; ok when neither side signs', async () => {
    const signing = await double({ jwtSecret: null, outboxSecret: SECRET });
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const warn = await checkDocsReachesBridge(input(signing.url, b.url, state, { jwtSecret: null }));
    expect(warn).toMatchObject({ status: 'warn', data: { reach: 'arrived_unverifiable' } });
    const plain = await double({ jwtSecret: null, outboxSecret: null });
    const ok = await checkDocsReachesBridge(input(plain.url, b.url, state, { jwtSecret: null }));
    expect(ok).toMatchObject({ status: 'ok', data: { reach: 'arrived_unsigned' } });
  });

  test('fail: nothing arrives when PUBLIC_URL refuses connections (-4 after DS\'s retries, capture 84)', async () => {
    const ds = await double();
    const state = new MemoryStateStore();
    const r = await checkDocsReachesBridge(input(ds.url, await closedPortUrl(), state));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'not_arrived', convertError: -4, arrivals: 0 } });
    expect(r.detail).toMatch(/private-IP filter/);
    expect(r.detail).toMatch(/allowPrivateIPAddress/);
    expect(r.detail).toMatch(/rejectUnauthorized/);
    expect(r.messages?.summary.key).toBe('reach_not_arrived');
  });

  test('fail: nothing arrives when DS\'s private-IP filter blocks the download (capture 87)', async () => {
    const ds = await double({ downloadBlocked: true });
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(ds.url, b.url, state));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'not_arrived', convertError: -4 } });
    expect(b.hits).toHaveLength(0);
  });

  test('fail: DS hangs on the conversion and nothing arrived, within the check\'s own time limit', async () => {
    const silent = await server(startSilent());
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const started = Date.now();
    const r = await checkDocsReachesBridge(input(silent.url, b.url, state, { timeoutMs: 300 }));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'not_arrived', transport: 'timeout' } });
    expect(Date.now() - started).toBeLessThan(300 + 6000 + 2000);
  }, 15_000);

  test('fail: DS fetched PUBLIC_URL but another server (an instance with its own state) answered', async () => {
    const ds = await double();
    const b = await bridge(new MemoryStateStore()); // not the store the check uses
    const r = await checkDocsReachesBridge(input(ds.url, b.url, new MemoryStateStore()));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'other_server', convertError: -3 } });
    expect(r.fix).toMatch(/REDIS_URL/);
  });

  test('ok: the request reaches another instance that shares the state store', async () => {
    const ds = await double();
    const shared = new MemoryStateStore();
    const other = await bridge(shared);
    const r = await checkDocsReachesBridge(input(ds.url, other.url, shared));
    expect(r).toMatchObject({ status: 'ok', data: { reach: 'verified' } });
  });

  test('fail: DS refuses the conversion request itself (-8: inbox secret differs)', async () => {
    const ds = await double({ jwtSecret: 'ds-has-another-secret-entirely-32b!!' });
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(ds.url, b.url, state));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'not_asked', convertError: -8 } });
    expect(b.hits).toHaveLength(0);
  });

  test('fail: DS\'s ipfilter refuses the bridge (403 Forbidden)', async () => {
    const ds = await double({ ipDenied: true });
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(ds.url, b.url, state));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'not_asked', ipfilter: true } });
    expect(r.fix).toMatch(/ipfilter/);
  });

  test.each([
    ['HTML', 200, '<html>hello</html>', 'text/html'],
    ['JSON without error', 200, '{"hello":1}', 'application/json'],
    ['truncated JSON', 200, '{"error":', 'application/json'],
    ['a 500', 500, 'boom', 'text/plain'],
    ['an error that is not a number', 200, '{"error":"x"}', 'application/json'],
  ])('fail: garbage from DS (%s) is reported, not a crash', async (_name, status, body, type) => {
    const garbage = await server(startHttp((_req, res) => reply(res, status, body, type)));
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(garbage.url, b.url, state));
    expect(r.status).toBe('fail');
    expect(r.data?.reach).toBe('not_asked');
    expect(r.summary).toMatch(/could not be asked/);
  });

  test('other DS error codes are named', async () => {
    const odd = await server(startHttp((_req, res) => reply(res, 200, '{"error":-10}', 'application/json')));
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(odd.url, b.url, state));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'not_asked', convertError: -10 } });
    expect(r.summary).toMatch(/size limit exceeded/);
  });

  test('XML answers (no Accept honoured) are read too', async () => {
    const xml = await server(startHttp((_req, res) => reply(res, 200, '<?xml version="1.0" encoding="utf-8"?><FileResult><Error>-4</Error></FileResult>', 'text/xml')));
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const r = await checkDocsReachesBridge(input(xml.url, b.url, state));
    expect(r).toMatchObject({ status: 'fail', data: { reach: 'not_arrived', convertError: -4 } });
  });

  test('skipped without DS, without PUBLIC_URL, or without a state store', async () => {
    expect(await checkDocsReachesBridge(input('', 'http://b', new MemoryStateStore(), { internalUrl: null }))).toMatchObject({ status: 'skipped' });
    expect(await checkDocsReachesBridge(input('http://ds', '', new MemoryStateStore(), { bridgeUrl: null }))).toMatchObject({ status: 'skipped' });
    expect(await checkDocsReachesBridge(input('http://ds', 'http://b', null))).toMatchObject({ status: 'skipped' });
  });

  test('the probe endpoint: serves its file, records nothing for unknown ids, 404 for ids of the wrong shape', async () => {
    const state = new MemoryStateStore();
    const b = await bridge(state);
    const unknown = await fetch(`${b.url}/probe/${'a'.repeat(32)}`);
    expect(unknown.status).toBe(200);
    expect(await unknown.text()).toBe(PROBE_BODY);
    expect(await state.list(PROBE_NAMESPACE)).toEqual([]);
    for (const bad of ['x', '..%2F..%2Fetc', 'A'.repeat(32), 'a'.repeat(33)]) {
      const res = await fetch(`${b.url}/probe/${bad}`);
      expect(res.status).toBe(404);
    }
    const records = new ProbeRecords(state);
    const { id, url } = await records.create(b.url);
    const res = await fetch(url, { headers: { Authorization: 'Bearer not-a-jwt', 'X-Other': 'Bearer b' } });
    expect(res.status).toBe(200);
    expect(await records.take(id)).toMatchObject({ arrivals: [{ method: 'GET', hasAuthorization: true, tokens: [{ header: 'authorization' }, { header: 'x-other' }] }] });
    expect(await records.take(id)).toBeNull();
  });
});
