import { createHash, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cleanupProcesses, freePort, makeTempDir } from '../../helpers/processes.js';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { EXIT, STACK_LINE, leaks, runs, wb } from './cliHarness.js';

interface Report {
  url: string;
  status: 'ok' | 'warn' | 'fail';
  wopi: 'on' | 'off' | 'unknown';
  problem: string | null;
  fix: string | null;
  httpStatus: number | null;
  netZone: string | null;
  proofKeys: { published: boolean; current: string | null; old: string | null; bits: number | null };
  extensions: Array<{ ext: string; app: string; view: boolean; edit: boolean; editnew: boolean; convert: string | null }>;
}

const fingerprint = (k: KeyObject): string => `SHA256:${createHash('sha256').update(k.export({ type: 'spki', format: 'der' })).digest('base64').replace(/=+$/, '')}`;

const doubles: DocServiceDouble[] = [];
async function double(opts: Parameters<typeof startDocServiceDouble>[0] = {}): Promise<DocServiceDouble> {
  const d = await startDocServiceDouble(opts);
  doubles.push(d);
  return d;
}

let dataDir: string;
beforeAll(async () => {
  dataDir = await makeTempDir('wopi-cli-discovery-');
});
afterAll(async () => {
  await Promise.all(doubles.map((d) => d.close()));
  await cleanupProcesses();
});

describe('wopi-bridge discovery against the DocumentServer double', () => {
  test('WOPI on with proof keys: exit 0, key fingerprints (never the keys), actions by extension', async () => {
    const ds = await double();
    const keys = ds.proofKeys();
    if (!keys) throw new Error('no keys');
    const r = await wb(['discovery'], { DATA_DIR: dataDir, DOCS_URL: ds.url });
    expect(r.code).toBe(EXIT.OK);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`DocumentServer discovery: ${ds.url}/hosting/discovery`);
    expect(r.stdout).toMatch(/^ {2}status: {5}OK$/m);
    expect(r.stdout).toMatch(/^ {2}WOPI: {7}on$/m);
    expect(r.stdout).toContain(`proof keys: published (RSA 2048 bits) current ${fingerprint(keys.current.publicKey)}, old ${fingerprint(keys.old.publicKey)}`);
    expect(r.stdout).not.toContain(keys.current.modulusB64.slice(0, 40));
    expect(r.stdout).not.toContain(keys.current.value.slice(0, 40));
    expect(r.stdout).toMatch(/^ {2}docx\s+Word\s+yes\s+yes\s+yes\s+-$/m);
    expect(r.stdout).toMatch(/^ {2}doc\s+Word\s+yes\s+-\s+-\s+→ docx$/m);
    expect(r.stdout).toMatch(/^ {2}xlsx\s+Excel\s+yes\s+yes\s+yes\s+-$/m);

    const j = await wb(['discovery', '--json', '--url', ds.url], { DATA_DIR: dataDir });
    expect(j.code).toBe(EXIT.OK);
    const report = JSON.parse(j.stdout) as Report;
    expect(report).toMatchObject({ status: 'ok', wopi: 'on', httpStatus: 200, netZone: 'external-http', problem: null, fix: null });
    expect(report.proofKeys).toEqual({ published: true, current: fingerprint(keys.current.publicKey), old: fingerprint(keys.old.publicKey), bits: 2048 });
    expect(report.extensions.find((e) => e.ext === 'pptx')).toEqual({ ext: 'pptx', app: 'PowerPoint', view: true, edit: true, editnew: true, convert: null });
    expect(report.extensions.find((e) => e.ext === 'odt')).toMatchObject({ app: 'Word', view: true });
    expect(report.extensions.find((e) => e.ext === 'doc')?.convert).toBe('docx');
    expect(report.extensions.length).toBeGreaterThan(30);
  }, 30_000);

  test('no proof keys: exit 1 (warning) with the fix', async () => {
    const ds = await double({ proofKeys: false });
    const r = await wb(['discovery', '--url', ds.url], { DATA_DIR: dataDir });
    expect(r.code).toBe(EXIT.WARNING);
    expect(r.stdout).toMatch(/^ {2}status: {5}WARN — no proof keys published$/m);
    expect(r.stdout).toMatch(/^ {2}proof keys: not published$/m);
    expect(r.stdout).toMatch(/fix: .*wopi\.privateKey/);
    const j = JSON.parse((await wb(['discovery', '--url', ds.url, '--json'], { DATA_DIR: dataDir })).stdout) as Report;
    expect(j).toMatchObject({ status: 'warn', wopi: 'on', proofKeys: { published: false, current: null } });
  }, 30_000);

  test('WOPI off (404): exit 2, WOPI off, the wopi.enable fix', async () => {
    const ds = await double({ wopiEnabled: false });
    const r = await wb(['discovery', '--url', ds.url], { DATA_DIR: dataDir });
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout).toMatch(/^ {2}WOPI: {7}off$/m);
    expect(r.stdout).toContain('DocumentServer answers 404 for /hosting/discovery');
    expect(r.stdout).toContain('{"wopi": {"enable": true}}');
    const j = JSON.parse((await wb(['discovery', '--url', ds.url, '--json'], { DATA_DIR: dataDir })).stdout) as Report;
    expect(j).toMatchObject({ status: 'fail', wopi: 'off', httpStatus: 404, extensions: [] });
  }, 30_000);

  test('refused by the ipfilter (403): exit 2 with the ipfilter fix', async () => {
    const ds = await double({ ipDenied: true });
    const r = await wb(['discovery', '--url', ds.url, '--json'], { DATA_DIR: dataDir });
    expect(r.code).toBe(EXIT.CRITICAL);
    const j = JSON.parse(r.stdout) as Report;
    expect(j).toMatchObject({ status: 'fail', wopi: 'unknown', httpStatus: 403 });
    expect(j.problem).toContain('ipfilter');
    expect(j.fix).toContain('services.CoAuthoring.ipfilter.rules');
  }, 30_000);
});

describe('wopi-bridge discovery when DocumentServer is not there', () => {
  let html: Server;
  let htmlUrl: string;
  beforeAll(async () => {
    // A proxy's page where DS should be.
    html = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!DOCTYPE html><html><body>Welcome to nginx!</body></html>');
    });
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', resolve));
    htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => html.close(() => resolve()));
  });

  test('unreachable: exit 2, "cannot be reached", the fix', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await wb(['discovery', '--url', url], { DATA_DIR: dataDir });
    expect(r.code).toBe(EXIT.CRITICAL);
    expect(r.stdout).toContain(`DocumentServer cannot be reached at ${url}/hosting/discovery (ECONNREFUSED)`);
    expect(r.stdout).toContain('fix:');
    expect(r.stderr).not.toMatch(STACK_LINE);
  }, 30_000);

  test('not a discovery document (an HTML page): exit 2', async () => {
    const r = await wb(['discovery', '--json'], { DATA_DIR: dataDir, DOCS_URL: htmlUrl });
    expect(r.code).toBe(EXIT.CRITICAL);
    const j = JSON.parse(r.stdout) as Report;
    expect(j.status).toBe('fail');
    expect(j.problem).toContain('is not a WOPI discovery document: discovery URL returned an HTML page, not XML');
    expect(j.fix).toContain('DOCS_URL must point at DocumentServer itself');
  }, 30_000);

  test('no DocumentServer configured and no --url: exit 3 with the fix', async () => {
    const r = await wb(['discovery'], { DATA_DIR: dataDir });
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe('wopi-bridge: no DocumentServer configured: set DOCS_URL (wopi-bridge config set DOCS_URL https://office.example.com) or pass --url');
  }, 30_000);

  test('--url that is not http(s), or an extra argument: exit 3', async () => {
    for (const args of [['discovery', '--url', 'docs:8000'], ['discovery', 'http://docs']]) {
      const r = await wb(args, { DATA_DIR: dataDir });
      expect(r.code).toBe(EXIT.UNKNOWN);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  }, 30_000);

  test('a broken configuration does not stop --url; without --url it is exit 3', async () => {
    const ds = await double();
    const broken = { DATA_DIR: dataDir, WOPI_TOKEN_SECRET: 'too-short-secret-xyz' };
    expect((await wb(['discovery', '--url', ds.url], broken)).code).toBe(EXIT.OK);
    const r = await wb(['discovery'], { ...broken, DOCS_URL: ds.url });
    expect(r.code).toBe(EXIT.UNKNOWN);
    expect(r.stderr).toMatch(/^wopi-bridge: invalid configuration: WOPI_TOKEN_SECRET must be at least 32 bytes/);
    expect(r.stderr).not.toContain('too-short-secret-xyz');
  }, 30_000);
});

test('no discovery output holds a secret or a key', () => {
  const keyPieces = doubles.flatMap((d) => {
    const k = d.proofKeys();
    return k ? [k.current.modulusB64, k.old.modulusB64, k.current.value, k.old.value] : [];
  });
  expect(leaks(runs, ['too-short-secret-xyz', ...keyPieces], [])).toEqual([]);
});
