/**
 * Proves the DocumentServer double answers like the real DocService 9.3.1 captures in
 * ../shared/fixtures/onlyoffice/: each test replays the captured request (host, URLs and JWT times adapted; JWTs
 * re-signed with the secret that signed the captured one) against a double in the captured configuration, and
 * compares status, content type and body (JSON parsed) with the capture. The WOPI proof part checks the double's
 * discovery keys and signatures with node:crypto, and the proof data layout against the real captured proofs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import xml2js from 'xml2js';
import {
  CAPTURED_DS_ORIGIN,
  ONLYOFFICE_FIXTURE_DIR,
  readDocServiceCapture,
  startDocServiceDouble,
  wopiProofData,
  wopiTicks,
} from '../helpers/docServiceDouble.js';
import type { DocServiceCapture, DocServiceDouble, DocServiceDoubleOptions } from '../helpers/docServiceDouble.js';
import type { HeaderList } from '../helpers/readHttpFixture.js';
import { fixturesDir } from '../helpers/sharedDir.js';

const RIGHT_SECRET = 'test-secret-123';
const WRONG_SECRET = 'wrong-secret-456';
const WOPI_CAPTURES = fixturesDir('onlyoffice', 'wopi-from-docservice');

// ---------------------------------------------------------------------------------------------------------------
// HTTP

interface Reply {
  status: number;
  headers: HeaderList;
  body: Buffer;
}

function pairs(raw: string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return out;
}

function hv(headers: HeaderList, name: string): string | undefined {
  return headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

function request(
  origin: string,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(origin);
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h['Content-Length'] = String(body.length);
    const req = http.request({ host: u.hostname, port: u.port, method, path: target, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: pairs(res.rawHeaders), body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Adapting captured requests

/** Capture time (s) of the JWTs whose `exp`/`nbf` matter; others are shifted by their own `iat`. */
function captureClock(file: string, claims: Record<string, unknown>): number | undefined {
  const n = Number(file.slice(0, 2));
  if (n >= 10 && n <= 22) return 1795330458; // 16: iat = capture-2h, exp = capture-1h
  if (n >= 92 && n <= 95) return 1795331926; // README: iat/exp/nbf = capture ± 600 / 900 / 300 / 30
  return typeof claims.iat === 'number' ? claims.iat : undefined;
}

/** The secret that signed a captured HS256 token, or undefined when it is not one of the README's. */
function secretOf(token: string): string | undefined {
  const [h, p, s] = token.split('.');
  if (h === undefined || p === undefined || s === undefined) return undefined;
  return [RIGHT_SECRET, WRONG_SECRET].find((secret) => createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url') === s);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function mapStrings(v: Json, f: (s: string) => string): Json {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)]));
  return v;
}

/**
 * Same claims (same order), times moved from the capture clock to now, strings passed through `urlMap`, re-signed
 * with the secret that signed the captured token. Opaque tokens are returned unchanged.
 */
function resign(file: string, token: string, urlMap: (s: string) => string): string {
  const secret = secretOf(token);
  if (secret === undefined) return token;
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, Json>;
  const clock = captureClock(file, claims);
  const shift = clock === undefined ? 0 : Math.floor(Date.now() / 1000) - clock;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(claims)) {
    out[k] = (k === 'iat' || k === 'exp' || k === 'nbf') && typeof v === 'number' ? v + shift : mapStrings(v, urlMap);
  }
  return jwt.sign(out, secret, { algorithm: 'HS256', noTimestamp: true });
}

/** Sends a captured request to the double: Host dropped, JWTs in body/header re-signed, URLs mapped. */
function replay(ds: DocServiceDouble, cap: DocServiceCapture, urlMap: (s: string) => string = (s) => s): Promise<Reply> {
  const headers: Record<string, string> = {};
  for (const [k, v] of cap.request.headers) {
    const lower = k.toLowerCase();
    if (lower === 'host' || lower === 'content-length') continue;
    headers[k] = v.startsWith('Bearer ') ? `Bearer ${resign(cap.file, v.slice(7), urlMap)}` : v;
  }
  let body: Buffer | undefined = cap.request.body.length > 0 ? cap.request.body : undefined;
  if (body !== undefined) {
    let parsed: Json | undefined;
    try {
      parsed = JSON.parse(body.toString('utf8')) as Json;
    } catch {
      parsed = undefined; // 21: sent as captured
    }
    if (parsed !== undefined && parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const out: Record<string, Json> = {};
      for (const [k, v] of Object.entries(parsed)) {
        out[k] = k === 'token' && typeof v === 'string' ? resign(cap.file, v, urlMap) : mapStrings(v, urlMap);
      }
      body = Buffer.from(JSON.stringify(out), 'utf8');
    }
  }
  return request(ds.url, cap.request.method, cap.request.target, headers, body);
}

/** Status, content type and body (JSON parsed when JSON) equal to the capture; Content-Length right. */
function expectLikeCapture(reply: Reply, cap: DocServiceCapture): void {
  const expectedType = hv(cap.response.headers, 'Content-Type') ?? '';
  expect({ file: cap.file, status: reply.status, type: hv(reply.headers, 'Content-Type') }).toEqual({
    file: cap.file,
    status: cap.response.status,
    type: expectedType,
  });
  expect(hv(reply.headers, 'Content-Length')).toBe(String(reply.body.length));
  if (expectedType.startsWith('application/json')) {
    expect(JSON.parse(reply.body.toString('utf8'))).toEqual(JSON.parse(cap.response.body.toString('utf8')));
  } else {
    expect(reply.body.toString('utf8')).toBe(cap.response.body.toString('utf8'));
    expect(hv(reply.headers, 'Content-Length')).toBe(hv(cap.response.headers, 'Content-Length'));
  }
}

async function replayAndCompare(ds: DocServiceDouble, file: string): Promise<void> {
  const cap = readDocServiceCapture(file);
  expectLikeCapture(await replay(ds, cap), cap);
}

// ---------------------------------------------------------------------------------------------------------------
// Discovery helpers

interface ProofKeyAttrs {
  value: string;
  modulus: string;
  exponent: string;
  oldvalue: string;
  oldmodulus: string;
  oldexponent: string;
}

interface Discovery {
  apps: Array<{ name: string; actions: Array<Record<string, string>> }>;
  proofKey: ProofKeyAttrs | undefined;
}

type XmlEl = { $?: Record<string, string> } & Record<string, unknown>;

async function parseDiscovery(xml: string): Promise<Discovery> {
  const doc = (await xml2js.parseStringPromise(xml)) as Record<string, XmlEl>;
  const root = doc['wopi-discovery'];
  if (!root) throw new Error('no wopi-discovery root');
  const zones = root['net-zone'] as XmlEl[];
  expect(zones).toHaveLength(1);
  expect(zones[0]?.$?.name).toBe('external-http');
  const apps = ((zones[0]?.app ?? []) as XmlEl[]).map((a) => ({
    name: a.$?.name ?? '',
    actions: ((a.action ?? []) as XmlEl[]).map((x) => x.$ ?? {}),
  }));
  const pk = root['proof-key'] as XmlEl[] | undefined;
  return { apps, proofKey: pk?.[0]?.$ as ProofKeyAttrs | undefined };
}

function jwkKey(modulusB64: string, exponentB64: string): KeyObject {
  return createPublicKey({
    key: {
      kty: 'RSA',
      n: Buffer.from(modulusB64, 'base64').toString('base64url'),
      e: Buffer.from(exponentB64, 'base64').toString('base64url'),
    },
    format: 'jwk',
  });
}

const CSP_HEADER = Buffer.from([0x06, 0x02, 0x00, 0x00, 0x00, 0xa4, 0x00, 0x00, 0x52, 0x53, 0x41, 0x31, 0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00]);

/** The CSP blob is 276 bytes, has the README's header and carries the modulus little-endian. */
function expectCspBlobMatches(value: string, modulusB64: string, exponentB64: string): void {
  const blob = Buffer.from(value, 'base64');
  expect(blob.length).toBe(276);
  expect(blob.subarray(0, 20).toString('hex')).toBe(CSP_HEADER.toString('hex'));
  const modulus = Buffer.from(modulusB64, 'base64');
  expect(modulus.length).toBe(256);
  expect(Buffer.from(blob.subarray(20)).reverse().equals(modulus)).toBe(true);
  expect(exponentB64).toBe('AQAB');
}

/** The test's own reading of reference §1.7 (independent of the double's implementation). */
function proofBytes(url: string, token: string, ticks: string): Buffer {
  const t = Buffer.from(token, 'utf8');
  const u = Buffer.from(url.toUpperCase(), 'utf8');
  const len = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const ts = Buffer.alloc(8);
  ts.writeBigInt64BE(BigInt(ticks));
  return Buffer.concat([len(t.length), t, len(u.length), u, len(8), ts]);
}

function verifies(data: Buffer, key: KeyObject, sigB64: string | undefined): boolean {
  return sigB64 !== undefined && verify('RSA-SHA256', data, key, Buffer.from(sigB64, 'base64'));
}

// ---------------------------------------------------------------------------------------------------------------

describe('DocServiceDouble: capture reader', () => {
  it('reads the LF captures, the ### answer line and the PutFile body placeholder', () => {
    const cfi = readDocServiceCapture('s1-edit-file1-01-CheckFileInfo', WOPI_CAPTURES);
    expect(cfi.request.method).toBe('GET');
    expect(cfi.request.target).toBe('/wopi/files/1?access_token=wopi-access-token-abc');
    expect(hv(cfi.request.headers, 'X-WOPI-ClientVersion')).toBe('9.3.1.11');
    expect(cfi.note).toBe('answer of the harness WOPI host (not DocumentServer):');
    expect(cfi.response.status).toBe(200);
    expect(JSON.parse(cfi.response.body.toString('utf8'))).toMatchObject({ BaseFileName: 'test.docx', Size: 7726 });

    const put = readDocServiceCapture('s2-edit-file2-empty-02-PutFile', WOPI_CAPTURES);
    expect(put.requestBodyIsPlaceholder).toBe(true);
    expect(put.request.body.toString('utf8')).toMatch(/^\[request body: 7726 bytes/);

    const conflict = readDocServiceCapture('s4-edit-file4-lock-conflict-02-LOCK', WOPI_CAPTURES);
    expect(conflict.response.status).toBe(409);
    expect(hv(conflict.response.headers, 'X-WOPI-Lock')).toBe('lock-held-by-other-app');

    const cmd = readDocServiceCapture('11-command-version-header-payload-ok');
    expect(cmd.request.body.toString('utf8')).toBe('{"c":"version"}');
    expect(cmd.response.body.toString('utf8')).toBe('{"error":0,"version":"9.3.1.11"}');
    expect(cmd.requestBodyIsPlaceholder).toBe(false);
  });
});

describe('DocServiceDouble: default configuration (the captured local.json)', () => {
  let ds: DocServiceDouble;
  beforeAll(async () => {
    ds = await startDocServiceDouble();
  });
  afterAll(async () => {
    await ds.close();
  });

  it.each(['01-healthcheck', '02-index-html-version', '04-capabilities', '40-api-js'])('%s', async (file) => {
    await replayAndCompare(ds, file);
  });

  it.each([
    '10-command-version-body-token-ok',
    '11-command-version-header-payload-ok',
    '12-command-version-header-flat-ok',
    '13-command-version-body-token-wrong-secret',
    '14-command-version-header-wrong-secret',
    '15-command-version-no-token',
    '16-command-version-expired-token',
    '17-command-version-garbage-token',
    '18-command-license-ok',
    '19-command-info-unknown-key-ok',
    '20-command-unknown-command-ok',
    '21-command-invalid-json-no-token',
    '22-command-get-method-no-token',
    '92-command-token-clock-ahead-10min',
    '93-command-token-clock-behind-10min',
    '94-command-token-nbf-future-10min',
    '95-command-token-expired-30s-within-tolerance',
  ])('%s', async (file) => {
    await replayAndCompare(ds, file);
  });

  it('CommandService: the uncaptured codes the README gives from the source', async () => {
    const post = async (claims: object): Promise<unknown> => {
      const body = Buffer.from(JSON.stringify({ token: jwt.sign(claims, RIGHT_SECRET) }));
      const r = await request(ds.url, 'POST', '/coauthoring/CommandService.ashx', { 'Content-Type': 'application/json' }, body);
      expect(r.status).toBe(200);
      return JSON.parse(r.body.toString('utf8'));
    };
    expect(await post({ c: 'nope', key: 'k1' })).toEqual({ key: 'k1', error: 5 });
    expect(await post({ c: 'drop', key: 'k1' })).toEqual({ key: 'k1', error: 1 });
    // parameters come only from the JWT (tokenRequiredParams): a body `c` next to a token without one is ignored
    const r = await request(
      ds.url,
      'POST',
      '/coauthoring/CommandService.ashx',
      { 'Content-Type': 'application/json' },
      Buffer.from(JSON.stringify({ c: 'version', token: jwt.sign({ x: 1 }, RIGHT_SECRET) })),
    );
    expect(JSON.parse(r.body.toString('utf8'))).toEqual({ error: 1 });
  });

  it('03-discovery: the captured XML with the double as host and its own proof keys', async () => {
    const cap = readDocServiceCapture('03-discovery');
    const reply = await replay(ds, cap);
    expect(reply.status).toBe(200);
    expect(hv(reply.headers, 'Content-Type')).toBe(hv(cap.response.headers, 'Content-Type'));
    expect(hv(reply.headers, 'Content-Length')).toBe(String(reply.body.length));
    const xml = reply.body.toString('utf8');
    const captured = readFileSync(path.join(ONLYOFFICE_FIXTURE_DIR, 'discovery.xml'), 'utf8');
    expect(cap.response.body.toString('utf8')).toBe(captured);
    expect(xml).not.toContain(CAPTURED_DS_ORIGIN);
    // Byte for byte the capture once the host and the proof-key element are put back.
    const capturedProof = /<proof-key [^>]*\/>/.exec(captured)?.[0] ?? '';
    const normalised = xml.split(ds.url).join(CAPTURED_DS_ORIGIN).replace(/<proof-key [^>]*\/>/, capturedProof);
    expect(normalised).toBe(captured);

    const d = await parseDiscovery(xml);
    expect(d.apps).toHaveLength(59);
    expect(d.apps.slice(0, 4).map((a) => a.name)).toEqual(['Word', 'Excel', 'PowerPoint', 'Pdf']);
    expect(d.apps[58]?.name).toBe('Capabilities');
    expect(d.apps[58]?.actions[0]).toMatchObject({ name: 'getinfo', urlsrc: `${ds.url}/hosting/capabilities` });
    const docxEdit = d.apps[0]?.actions.find((a) => a.ext === 'docx' && a.name === 'edit');
    expect(docxEdit).toMatchObject({ default: 'true', requires: 'locks,update' });
    expect(docxEdit?.urlsrc).toBe(
      `${ds.url}/hosting/wopi/word/edit?<rs=DC_LLCC&><dchat=DISABLE_CHAT&><embed=EMBEDDED&><fs=FULLSCREEN&>` +
        '<hid=HOST_SESSION_ID&><rec=RECORDING&><sc=SESSION_CONTEXT&><thm=THEME_ID&><ui=UI_LLCC&><wopisrc=WOPI_SOURCE&>&',
    );

    const pk = d.proofKey;
    if (!pk) throw new Error('no proof-key');
    expect(Object.keys(pk)).toEqual(['oldvalue', 'oldmodulus', 'oldexponent', 'value', 'modulus', 'exponent']);
    expectCspBlobMatches(pk.value, pk.modulus, pk.exponent);
    expectCspBlobMatches(pk.oldvalue, pk.oldmodulus, pk.oldexponent);
    expect(pk.modulus).not.toBe(pk.oldmodulus);
    const keys = ds.proofKeys();
    expect(pk.modulus).toBe(keys?.current.modulus.toString('base64'));
    expect(pk.oldmodulus).toBe(keys?.old.modulus.toString('base64'));
    // The published modulus/exponent is the double's public key.
    expect(jwkKey(pk.modulus, pk.exponent).export({ format: 'jwk' })).toEqual(keys?.current.publicKey.export({ format: 'jwk' }));
  });

  it('the captured discovery proof-key has the same shape (the double follows the real blob layout)', async () => {
    const d = await parseDiscovery(readFileSync(path.join(ONLYOFFICE_FIXTURE_DIR, 'discovery.xml'), 'utf8'));
    const pk = d.proofKey;
    if (!pk) throw new Error('no proof-key in the capture');
    expectCspBlobMatches(pk.value, pk.modulus, pk.exponent);
    expectCspBlobMatches(pk.oldvalue, pk.oldmodulus, pk.oldexponent);
  });

  it('discovery takes its host from the Host header, like DS', async () => {
    const r = await request(ds.url, 'GET', '/hosting/discovery', { Host: 'docs.example.test' });
    const xml = r.body.toString('utf8');
    expect(xml).toContain('urlsrc="http://docs.example.test/hosting/wopi/word/edit?');
    expect(xml).not.toContain(ds.url);
  });

  it('POST /hosting/wopi/* with WOPI on is not emulated: 501', async () => {
    const r = await request(ds.url, 'POST', '/hosting/wopi/word/edit?WOPISrc=x', {}, Buffer.from('access_token=a'));
    expect(r.status).toBe(501);
  });

  it('signWopiRequest: the headers DS sends, verifiable with the discovery keys', async () => {
    const d = await parseDiscovery((await request(ds.url, 'GET', '/hosting/discovery')).body.toString('utf8'));
    const pk = d.proofKey;
    if (!pk) throw new Error('no proof-key');
    const current = jwkKey(pk.modulus, pk.exponent);
    const old = jwkKey(pk.oldmodulus, pk.oldexponent);

    const token = 'wopi-access-token-abc';
    const url = `http://127.0.0.1:8090/wopi/files/1?access_token=${token}`;
    const now = Date.parse('2026-11-22T06:54:49.086Z');
    const h = ds.signWopiRequest(url, token, now);

    // Same header set and order as the captured CheckFileInfo (minus what the HTTP client adds).
    const cap = readDocServiceCapture('s1-edit-file1-01-CheckFileInfo', WOPI_CAPTURES);
    const capturedNames = cap.request.headers.map(([k]) => k).filter((k) => !['Connection', 'Host'].includes(k));
    expect(Object.keys(h)).toEqual(capturedNames);
    for (const name of ['Accept', 'User-Agent', 'X-WOPI-ClientVersion', 'Accept-Encoding', 'X-WOPI-TimeStamp']) {
      expect(`${name}: ${h[name]}`).toBe(`${name}: ${hv(cap.request.headers, name)}`);
    }
    expect(h['X-WOPI-TimeStamp']).toBe('639309272890860000');
    expect(h['X-WOPI-CorrelationId']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(h['X-WOPI-SessionId']).toBe(ds.sessionId);

    const data = proofBytes(url, token, h['X-WOPI-TimeStamp'] ?? '');
    expect(verifies(data, current, h['X-WOPI-Proof'])).toBe(true);
    expect(verifies(data, old, h['X-WOPI-ProofOld'])).toBe(true);
    expect(verifies(data, old, h['X-WOPI-Proof'])).toBe(false);
    expect(verifies(data, current, h['X-WOPI-ProofOld'])).toBe(false);
    // The URL is signed upper-cased: any other URL or token fails.
    expect(verifies(proofBytes(url.replace('/1?', '/2?'), token, h['X-WOPI-TimeStamp'] ?? ''), current, h['X-WOPI-Proof'])).toBe(false);
    expect(verifies(proofBytes(url, `${token}x`, h['X-WOPI-TimeStamp'] ?? ''), current, h['X-WOPI-Proof'])).toBe(false);

    // Default time is now.
    const before = wopiTicks(Date.now());
    const fresh = ds.signWopiRequest(url, token);
    expect(BigInt(fresh['X-WOPI-TimeStamp'] ?? '0') >= before).toBe(true);
    expect(verifies(proofBytes(url, token, fresh['X-WOPI-TimeStamp'] ?? ''), current, fresh['X-WOPI-Proof'])).toBe(true);
  });

  it('rotateKeys: the old key in discovery is the previous current key, signatures follow', async () => {
    const get = async (): Promise<ProofKeyAttrs> => {
      const pk = (await parseDiscovery((await request(ds.url, 'GET', '/hosting/discovery')).body.toString('utf8'))).proofKey;
      if (!pk) throw new Error('no proof-key');
      return pk;
    };
    const before = await get();
    ds.rotateKeys();
    const after = await get();
    expect(after.oldvalue).toBe(before.value);
    expect(after.oldmodulus).toBe(before.modulus);
    expect(after.oldexponent).toBe(before.exponent);
    expect(after.modulus).not.toBe(before.modulus);
    expect(after.modulus).not.toBe(before.oldmodulus);
    expectCspBlobMatches(after.value, after.modulus, after.exponent);

    const token = 'tok_ABC-123';
    const url = `http://bridge.example.test/wopi/files/abc/contents?access_token=${token}`;
    const h = ds.signWopiRequest(url, token);
    const data = proofBytes(url, token, h['X-WOPI-TimeStamp'] ?? '');
    expect(verifies(data, jwkKey(after.modulus, after.exponent), h['X-WOPI-Proof'])).toBe(true);
    expect(verifies(data, jwkKey(before.modulus, before.exponent), h['X-WOPI-ProofOld'])).toBe(true);
  });

  it('wopiProofData reproduces what the real DS signed: all 17 captured proofs verify with the captured keys', async () => {
    const pk = (await parseDiscovery(readFileSync(path.join(ONLYOFFICE_FIXTURE_DIR, 'discovery.xml'), 'utf8'))).proofKey;
    if (!pk) throw new Error('no proof-key in the capture');
    const current = jwkKey(pk.modulus, pk.exponent);
    const old = jwkKey(pk.oldmodulus, pk.oldexponent);
    const files = readdirSync(WOPI_CAPTURES).filter((f) => f.endsWith('.http'));
    expect(files).toHaveLength(17);
    for (const file of files) {
      const cap = readDocServiceCapture(file, WOPI_CAPTURES);
      const url = `http://${hv(cap.request.headers, 'Host') ?? ''}${cap.request.target}`;
      const token = new URL(url).searchParams.get('access_token') ?? '';
      const ticks = BigInt(hv(cap.request.headers, 'X-WOPI-TimeStamp') ?? '0');
      const data = wopiProofData(url, token, ticks);
      expect(data.equals(proofBytes(url, token, ticks.toString()))).toBe(true);
      expect({ file, proof: verifies(data, current, hv(cap.request.headers, 'X-WOPI-Proof')) }).toEqual({ file, proof: true });
      expect({ file, old: verifies(data, old, hv(cap.request.headers, 'X-WOPI-ProofOld')) }).toEqual({ file, old: true });
    }
  });

  it('wopiTicks matches the captured timestamp/UTC pairs', () => {
    const json = JSON.parse(readFileSync(path.join(ONLYOFFICE_FIXTURE_DIR, 'wopi-proof-verification.json'), 'utf8')) as {
      requests: Array<{ 'X-WOPI-TimeStamp': string; timestamp_as_utc: string }>;
    };
    expect(json.requests.length).toBeGreaterThan(0);
    for (const r of json.requests) expect(wopiTicks(Date.parse(r.timestamp_as_utc)).toString()).toBe(r['X-WOPI-TimeStamp']);
  });

  it('logs every request', async () => {
    const n = ds.requests.length;
    await request(ds.url, 'POST', '/coauthoring/CommandService.ashx?x=1', { 'Content-Type': 'application/json' }, Buffer.from('{}'));
    const last = ds.requests[n];
    expect(last).toMatchObject({ method: 'POST', target: '/coauthoring/CommandService.ashx?x=1' });
    expect(last?.body.toString()).toBe('{}');
    expect(last?.headers['content-type']).toBe('application/json');
  });
});

describe('DocServiceDouble: ConvertService', () => {
  const docx = readFileSync(path.join(WOPI_CAPTURES, 's2-edit-file2-empty-02-PutFile.body.docx'));
  let mode: 'ok' | 'forbidden' = 'ok';
  const seen: Array<{ target: string; headers: HeaderList }> = [];
  let listener: http.Server;
  let listenerOrigin: string;
  let refusedOrigin: string;

  beforeAll(async () => {
    listener = http.createServer((req, res) => {
      seen.push({ target: req.url ?? '', headers: pairs(req.rawHeaders) });
      if (mode === 'forbidden') {
        res.writeHead(403);
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' });
      res.end(docx);
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
    listenerOrigin = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    refusedOrigin = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
  });
  afterAll(async () => {
    await new Promise<void>((r) => listener.close(() => r()));
  });

  async function withDouble(opts: DocServiceDoubleOptions, f: (ds: DocServiceDouble) => Promise<void>): Promise<void> {
    const ds = await startDocServiceDouble({ downloadRetryDelayMs: 20, ...opts });
    try {
      await f(ds);
    } finally {
      await ds.close();
    }
  }

  const toOrigin =
    (origin: string) =>
    (s: string): string =>
      s.replace(/^http:\/\/127\.0\.0\.1:809[01]/, origin);

  it.each([
    '30-convert-ok-token-json',
    '31-convert-ok-token-xml',
    '32-convert-wrong-secret',
    '33-convert-no-token',
    '34-convert-header-payload-ok',
  ])('%s', async (file) => {
    await withDouble({}, async (ds) => {
      mode = 'ok';
      seen.length = 0;
      const cap = readDocServiceCapture(file);
      expectLikeCapture(await replay(ds, cap, toOrigin(listenerOrigin)), cap);
      // A download happens only with a valid token (README: "Nothing was downloaded" for 32/33).
      const expectDownload = !file.startsWith('32') && !file.startsWith('33');
      expect(seen).toHaveLength(expectDownload ? 1 : 0);
      if (expectDownload) {
        const auth = hv(seen[0]?.headers ?? [], 'Authorization') ?? '';
        const claims = jwt.verify(auth.replace(/^Bearer /, ''), RIGHT_SECRET) as Record<string, unknown>;
        expect(claims.payload).toEqual({ url: `${listenerOrigin}${seen[0]?.target ?? ''}` });
      }
    });
  });

  it('83-convert-outbox-header-custom-ok: JWT in AuthorizationJwt, no Authorization, captured header order', async () => {
    await withDouble({ outboxHeader: 'AuthorizationJwt' }, async (ds) => {
      mode = 'ok';
      seen.length = 0;
      const cap = readDocServiceCapture('83-convert-outbox-header-custom-ok');
      expectLikeCapture(await replay(ds, cap, toOrigin(listenerOrigin)), cap);
      expect(seen).toHaveLength(1);
      const got = seen[0]?.headers ?? [];
      const dl = readDocServiceCapture('c83-convert-outbox-header-custom-ok-download', fixturesDir('onlyoffice', 'downloads-from-fileconverter'));
      expect(got.map(([k]) => k)).toEqual(dl.request.headers.map(([k]) => k));
      for (const name of ['Accept', 'User-Agent', 'Connection', 'Accept-Encoding']) {
        expect(hv(got, name)).toBe(hv(dl.request.headers, name));
      }
      expect(hv(got, 'Authorization')).toBeUndefined();
      const claims = jwt.verify((hv(got, 'AuthorizationJwt') ?? '').replace(/^Bearer /, ''), RIGHT_SECRET) as Record<string, unknown>;
      expect(Object.keys(claims)).toEqual(['payload', 'iat', 'exp']);
      expect(claims.exp).toBe((claims.iat as number) + 300);
      expect(claims.payload).toEqual({ url: `${listenerOrigin}${seen[0]?.target ?? ''}` });
    });
  });

  it('84-convert-listener-refused: -4 after 3 attempts', async () => {
    await withDouble({ outboxHeader: 'AuthorizationJwt' }, async (ds) => {
      const cap = readDocServiceCapture('84-convert-listener-refused');
      expectLikeCapture(await replay(ds, cap, toOrigin(refusedOrigin)), cap);
    });
  });

  it('85-convert-listener-403: -4, the 403 is retried (3 identical GETs)', async () => {
    await withDouble({ outboxHeader: 'AuthorizationJwt' }, async (ds) => {
      mode = 'forbidden';
      seen.length = 0;
      const cap = readDocServiceCapture('85-convert-listener-403');
      expectLikeCapture(await replay(ds, cap, toOrigin(listenerOrigin)), cap);
      expect(seen).toHaveLength(3);
      expect(new Set(seen.map((s) => s.target)).size).toBe(1);
      mode = 'ok';
    });
  });

  it('86-convert-private-ip-url-in-jwt: the download goes through, -3', async () => {
    await withDouble({ outboxHeader: 'AuthorizationJwt' }, async (ds) => {
      mode = 'ok';
      const cap = readDocServiceCapture('86-convert-private-ip-url-in-jwt');
      expectLikeCapture(await replay(ds, cap, toOrigin(listenerOrigin)), cap);
    });
  });
});

describe('DocServiceDouble: misconfigured states', () => {
  it('WOPI off (70–72): /hosting/* 404 Not Found; healthcheck and index unaffected', async () => {
    const ds = await startDocServiceDouble({ wopiEnabled: false });
    try {
      await replayAndCompare(ds, '70-wopi-disabled-discovery');
      await replayAndCompare(ds, '71-wopi-disabled-capabilities');
      await replayAndCompare(ds, '72-wopi-disabled-edit-form');
      await replayAndCompare(ds, '01-healthcheck');
      await replayAndCompare(ds, '02-index-html-version');
    } finally {
      await ds.close();
    }
  });

  it('ipfilter denies (73–76): 403 Forbidden everywhere but /index.html; WOPI off wins over it', async () => {
    const ds = await startDocServiceDouble({ ipDenied: true });
    try {
      await replayAndCompare(ds, '73-ipfilter-deny-healthcheck');
      await replayAndCompare(ds, '74-ipfilter-deny-discovery');
      await replayAndCompare(ds, '75-ipfilter-deny-command-version');
      await replayAndCompare(ds, '76-ipfilter-deny-index-html');
      const caps = await request(ds.url, 'GET', '/hosting/capabilities');
      expect([caps.status, hv(caps.headers, 'Content-Type'), caps.body.toString()]).toEqual([403, 'text/plain; charset=utf-8', 'Forbidden']);
      const conv = await request(ds.url, 'POST', '/ConvertService.ashx', { 'Content-Type': 'application/json' }, Buffer.from('{}'));
      expect([conv.status, conv.body.toString()]).toEqual([403, 'Forbidden']);
    } finally {
      await ds.close();
    }
    const both = await startDocServiceDouble({ ipDenied: true, wopiEnabled: false });
    try {
      await replayAndCompare(both, '70-wopi-disabled-discovery');
    } finally {
      await both.close();
    }
  });

  it('inbox JWT off (77–79): every token accepted', async () => {
    const ds = await startDocServiceDouble({ jwtSecret: null });
    try {
      for (const f of [
        '77-inbox-jwt-off-command-no-token',
        '78-inbox-jwt-off-command-wrong-secret',
        '79-inbox-jwt-off-command-right-secret',
      ]) {
        await replayAndCompare(ds, f);
      }
      const get = await request(ds.url, 'GET', '/coauthoring/CommandService.ashx?c=version');
      expect(JSON.parse(get.body.toString())).toEqual({ error: 0, version: '9.3.1.11' });
    } finally {
      await ds.close();
    }
  });

  it('custom inbox header (80–82): Authorization ignored, AuthorizationJwt and body work', async () => {
    const ds = await startDocServiceDouble({ jwtHeader: 'AuthorizationJwt' });
    try {
      for (const f of [
        '80-inbox-header-custom-token-in-authorization',
        '81-inbox-header-custom-token-in-authorizationjwt',
        '82-inbox-header-custom-token-in-body',
      ]) {
        await replayAndCompare(ds, f);
      }
    } finally {
      await ds.close();
    }
  });

  it('dependencies down and back (88–91): 200 false, then true without a restart', async () => {
    const ds = await startDocServiceDouble({ healthy: false });
    try {
      await replayAndCompare(ds, '88-healthcheck-postgres-down');
      await replayAndCompare(ds, '90-healthcheck-rabbitmq-down');
      await replayAndCompare(ds, '02-index-html-version');
      ds.setHealthy(true);
      await replayAndCompare(ds, '89-healthcheck-postgres-restored');
      await replayAndCompare(ds, '91-healthcheck-rabbitmq-restored');
    } finally {
      await ds.close();
    }
  });

  it('no proof keys: no <proof-key> in discovery, no proof headers', async () => {
    const ds = await startDocServiceDouble({ proofKeys: false });
    try {
      const r = await request(ds.url, 'GET', '/hosting/discovery');
      expect(r.status).toBe(200);
      const xml = r.body.toString('utf8');
      expect(xml).not.toContain('<proof-key');
      const d = await parseDiscovery(xml);
      expect(d.apps).toHaveLength(59);
      expect(d.proofKey).toBeUndefined();
      const h = ds.signWopiRequest('http://h/wopi/files/1?access_token=t', 't');
      expect(h['X-WOPI-Proof']).toBeUndefined();
      expect(h['X-WOPI-ProofOld']).toBeUndefined();
      expect(h['X-WOPI-TimeStamp']).toMatch(/^\d{18}$/);
      expect(ds.proofKeys()).toBeNull();
      expect(() => ds.rotateKeys()).toThrow();
    } finally {
      await ds.close();
    }
  });

  it('another version shows up everywhere DS reports it', async () => {
    const ds = await startDocServiceDouble({ version: '8.2.0.143' });
    try {
      expect((await request(ds.url, 'GET', '/index.html')).body.toString()).toContain('Version: 8.2.0. Build: 143.');
      expect(JSON.parse((await request(ds.url, 'GET', '/hosting/capabilities')).body.toString())).toMatchObject({ productVersion: '8.2.0' });
      const body = Buffer.from(JSON.stringify({ c: 'version', token: jwt.sign({ c: 'version' }, RIGHT_SECRET) }));
      const v = await request(ds.url, 'POST', '/coauthoring/CommandService.ashx', { 'Content-Type': 'application/json' }, body);
      expect(JSON.parse(v.body.toString())).toEqual({ error: 0, version: '8.2.0.143' });
      expect(ds.signWopiRequest('http://h/x?access_token=t', 't')['X-WOPI-ClientVersion']).toBe('8.2.0.143');
    } finally {
      await ds.close();
    }
  });
});
