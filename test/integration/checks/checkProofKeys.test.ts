/**
 * checkProofKeys against the DocumentServer double: keys published or not in each proof mode, a broken key, and a
 * cluster of nodes (several doubles, and a TCP forwarder as a second node with the same keys) that agree or
 * disagree on keys, versions and JWT.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkProofKeys, keyFingerprint, proofKeyProblem } from '../../../connector/src/checks/checkProofKeys.js';
import { proofKeysFix } from '../../../connector/src/checks/localJsonSnippets.js';
import { ONLYOFFICE_FIXTURE_DIR, startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { checksConfig, closedPortUrl, reply, startForwarder, startHttp, type Running } from './checkServers.js';
import { render } from './checkTexts.js';

const LONG = 'f3c1d0b8a7e6954c3b2a1908f7e6d5c4b3a29180f7e6d5c4b3a2918070605040';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});
async function double(opts: Parameters<typeof startDocServiceDouble>[0] = {}): Promise<DocServiceDouble> {
  const ds = await startDocServiceDouble({ jwtSecret: LONG, ...opts });
  closers.push(() => ds.close());
  return ds;
}
async function server(start: Promise<Running>): Promise<Running> {
  const s = await start;
  closers.push(() => s.close());
  return s;
}

describe('checkProofKeys: one DocumentServer', () => {
  test('ok: keys published, mode auto; a rotation shows', async () => {
    const ds = await double();
    const r = await checkProofKeys(checksConfig(ds.url, { proofMode: 'auto' }));
    const keys = ds.proofKeys();
    expect(r).toMatchObject({
      id: 'proof_keys',
      status: 'ok',
      data: { published: true, proofMode: 'auto', current: keyFingerprint(keys?.current.modulusB64 ?? ''), rotated: true },
    });
    ds.rotateKeys();
    const after = await checkProofKeys(checksConfig(ds.url, { proofMode: 'enforce' }));
    expect(after.status).toBe('ok');
    expect(after.data?.old).toBe(r.data?.current);
  });

  test('warn: no keys published (mode auto), with the openssl + local.json fix', async () => {
    const ds = await double({ proofKeys: false });
    const r = await checkProofKeys(checksConfig(ds.url));
    expect(r).toMatchObject({ status: 'warn', data: { published: false, proofMode: 'auto' } });
    expect(r.summary).toMatch(/cannot prove that WOPI requests come from DocumentServer/);
    expect(r.fix).toMatch(/openssl genpkey -algorithm RSA/);
    expect(r.fix).toMatch(/"privateKeyOld": "\$PRIV"/);
  });

  test('fail: no keys while the bridge enforces proofs', async () => {
    const ds = await double({ proofKeys: false });
    const r = await checkProofKeys(checksConfig(ds.url, { proofMode: 'enforce' }));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/WOPI_PROOF_MODE=enforce: the bridge refuses every WOPI request/);
  });

  test('warn: keys published but the bridge does not check them', async () => {
    const ds = await double();
    const r = await checkProofKeys(checksConfig(ds.url, { proofMode: 'off' }));
    expect(r.status).toBe('warn');
    expect(r.fix).toMatch(/WOPI_PROOF_MODE=auto/);
  });

  test('fail: a published key whose blob and modulus disagree', async () => {
    const ds = await double();
    const xml = (await (await fetch(`${ds.url}/hosting/discovery`)).text()).replace(/ modulus="[^"]*"/, ` modulus="${ds.proofKeys()?.old.modulusB64 ?? ''}"`);
    const s = await server(startHttp((req, res) => reply(res, 200, xml, 'text/xml')));
    const r = await checkProofKeys(checksConfig(s.url));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/cannot use: the value blob and the modulus describe different keys/);
  });

  test('skipped when discovery is unavailable (mode auto); fail in mode enforce', async () => {
    const ds = await double({ wopiEnabled: false });
    const auto = await checkProofKeys(checksConfig(ds.url));
    expect(auto.status).toBe('skipped');
    expect(auto.detail).toMatch(/WOPI is switched off/);
    const enforce = await checkProofKeys(checksConfig(ds.url, { proofMode: 'enforce' }));
    expect(enforce.status).toBe('fail');
    expect(enforce.fix).toMatch(/"enable": true/);
  });
});

describe('checkProofKeys: a cluster of DocumentServer nodes', () => {
  test('ok: two addresses of the same node agree on everything', async () => {
    const ds = await double();
    const twin = await server(startForwarder(ds.url));
    const r = await checkProofKeys(checksConfig(ds.url, { jwtSecret: LONG, nodeUrls: [ds.url, twin.url] }));
    expect(r).toMatchObject({ status: 'ok', data: { nodes: [{ url: ds.url, version: '9.3.1.11', jwt: 'accepts the bridge\'s secret' }, { url: twin.url }] } });
    expect(r.summary).toMatch(/^All 2 DocumentServer nodes agree/);
  });

  test('warn: nodes agree but none publishes keys', async () => {
    const a = await double({ proofKeys: false });
    const b = await double({ proofKeys: false });
    const r = await checkProofKeys(checksConfig(a.url, { jwtSecret: LONG, nodeUrls: [a.url, b.url] }));
    expect(r.status).toBe('warn');
    expect(r.fix).toMatch(/Copy the same wopi\.\* values to every node/);
  });

  test('fail: nodes that generated their own keys, named', async () => {
    const a = await double();
    const twin = await server(startForwarder(a.url));
    const odd = await double();
    const r = await checkProofKeys(checksConfig(a.url, { jwtSecret: LONG, nodeUrls: [a.url, twin.url, odd.url] }));
    expect(r.status).toBe('fail');
    expect(r.summary).toBe(`The DocumentServer nodes disagree (WOPI proof keys): ${odd.url}.`);
    // on the page: the same sentence, and in Chinese with the node named and the key commands kept
    expect(render(r.messages?.summary, 'en')).toBe(r.summary);
    expect(render(r.messages?.summary, 'zh-CN')).toBe(`DocumentServer 节点之间不一致（WOPI 证明密钥）：${odd.url}。`);
    expect(render(r.messages?.fix, 'zh-CN')).toContain('openssl genpkey -algorithm RSA');
    expect(render(r.messages?.detail, 'zh-CN')).toContain(r.detail);
    expect(r.detail).toContain(`${a.url}, ${twin.url} → key ${keyFingerprint(a.proofKeys()?.current.modulusB64 ?? '')}`);
    expect(r.fix).toMatch(/same proof keys/);
  });

  test('fail: different versions, named', async () => {
    const a = await double({ proofKeys: false, version: '9.3.1.11' });
    const b = await double({ proofKeys: false, version: '9.3.1.11' });
    const c = await double({ proofKeys: false, version: '8.3.3.1' });
    const r = await checkProofKeys(checksConfig(a.url, { jwtSecret: LONG, nodeUrls: [a.url, b.url, c.url] }));
    expect(r.status).toBe('fail');
    expect(r.summary).toBe(`The DocumentServer nodes disagree (version): ${c.url}.`);
    expect(r.fix).toMatch(/same DocumentServer version/);
    expect(render(r.messages?.summary, 'en')).toBe(r.summary);
    expect(render(r.messages?.fix, 'zh-CN')).toMatch(/相同版本的 DocumentServer/);
    expect(render(r.messages?.fix, 'zh-CN')).not.toMatch(/相同的密钥|DOCS_NODE_URLS/);
  });

  test('fail: a node with another secret, named', async () => {
    const a = await double({ proofKeys: false });
    const b = await double({ proofKeys: false, jwtSecret: 'another-secret-on-this-node-only-0123456789' });
    const r = await checkProofKeys(checksConfig(a.url, { jwtSecret: LONG, nodeUrls: [a.url, b.url] }));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/disagree \(JWT\)/);
    expect(r.summary).toContain(a.url);
    expect(r.summary).toContain(b.url);
    expect(r.detail).toContain(`${b.url} → rejects the bridge's secret`);
    expect(render(r.messages?.summary, 'en')).toBe(r.summary);
    expect(render(r.messages?.fix, 'zh-CN')).toContain('services.CoAuthoring.secret.inbox/outbox/browser.string');
  });

  test('fail: a node that cannot be asked, named', async () => {
    const a = await double({ proofKeys: false });
    const gone = await closedPortUrl();
    const r = await checkProofKeys(checksConfig(a.url, { jwtSecret: LONG, nodeUrls: [a.url, gone], timeoutMs: 1000 }));
    expect(r).toMatchObject({ status: 'fail', data: { unavailable: [gone], disagreements: [] } });
    expect(r.summary).toBe(`Some DocumentServer nodes cannot be asked: ${gone}.`);
    expect(render(r.messages?.summary, 'zh-CN')).toBe(`有些 DocumentServer 节点无法查询：${gone}。`);
    expect(render(r.messages?.fix, 'zh-CN')).toContain('DOCS_NODE_URLS');
    expect(r.detail).toMatch(/Connection refused/);
  });

  test('fail: one node gone and the others disagreeing are told apart', async () => {
    const a = await double({ proofKeys: false, version: '9.3.1.11' });
    const b = await double({ proofKeys: false, version: '9.2.0.1' });
    const gone = await closedPortUrl();
    const r = await checkProofKeys(checksConfig(a.url, { jwtSecret: LONG, nodeUrls: [a.url, b.url, gone], timeoutMs: 1000 }));
    expect(r.status).toBe('fail');
    expect(r.summary).toBe(`Some DocumentServer nodes cannot be asked: ${gone}. The other nodes disagree (version): ${a.url}, ${b.url}.`);
    expect(render(r.messages?.summary, 'en')).toBe(r.summary);
    expect(render(r.messages?.summary, 'zh-CN')).toBe(`有些 DocumentServer 节点无法查询：${gone}。其余节点之间不一致（版本）：${a.url}, ${b.url}。`);
  });

  test('fail: a node list entry that is not a URL', async () => {
    const r = await checkProofKeys(checksConfig('http://127.0.0.1:1', { nodeUrls: ['http://127.0.0.1:1', 'docs-2:8000'] }));
    expect(r.status).toBe('fail');
    expect(r.summary).toMatch(/DOCS_NODE_URLS holds addresses that are not http\(s\) URLs: docs-2:8000/);
  });
});

describe('the proof-key fix is exact', () => {
  const tools = ['bash', 'openssl', 'xxd', 'awk', 'base64'].every((t) => {
    try {
      execFileSync('bash', ['-c', `command -v ${t}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  (tools ? test : test.skip)('its shell lines make keys the bridge imports (value blob and modulus agree)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proof-fix-'));
    try {
      const fix = proofKeysFix(false);
      const script = fix.slice(fix.indexOf('openssl genpkey'), fix.indexOf('\nthen merge')).trim();
      execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      const keys = JSON.parse(readFileSync(path.join(dir, 'wopi-keys.json'), 'utf8')) as { wopi: Record<string, string | number> };
      const w = keys.wopi;
      expect(String(w.privateKey)).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
      const attrs = {
        value: String(w.publicKey),
        modulus: String(w.modulus),
        exponent: 'AQAB',
        oldvalue: String(w.publicKeyOld),
        oldmodulus: String(w.modulusOld),
        oldexponent: 'AQAB',
      };
      expect(proofKeyProblem(attrs)).toBeNull();
      expect(Buffer.from(attrs.modulus, 'base64')).toHaveLength(256);
      // Same blob layout as the captured DocService discovery (`06 02 00 00 00 a4 00 00 'RSA1'`, 276 bytes).
      const captured = /value="([^"]+)"/.exec(readFileSync(path.join(ONLYOFFICE_FIXTURE_DIR, 'discovery.xml'), 'utf8'))?.[1] ?? '';
      expect(Buffer.from(attrs.value, 'base64').subarray(0, 12)).toEqual(Buffer.from(captured, 'base64').subarray(0, 12));
      expect(Buffer.from(attrs.value, 'base64')).toHaveLength(276);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
