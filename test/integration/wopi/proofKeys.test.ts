import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { rawDrive, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { freePort } from '../../helpers/processes.js';

type Opened = Awaited<ReturnType<TestBridge['open']>>;

async function withBridge(env: Record<string, string>): Promise<{ tb: TestBridge; f: Opened }> {
  const tb = await startTestBridge(env);
  await rawDrive(tb).put('/Signed.docx', Buffer.from('content'));
  const f = await tb.open('/Signed.docx');
  return { tb, f };
}

/** A WOPI call as DS makes it: the full URL signed with DS's keys. */
function signedCall(ds: DocServiceDouble, f: Opened, options: { suffix?: string; method?: string; headers?: Record<string, string>; signUrl?: string; signToken?: string; now?: number } = {}): Promise<Response> {
  const url = f.url(options.suffix ?? '');
  const proof = ds.signWopiRequest(options.signUrl ?? url, options.signToken ?? f.token, options.now);
  return fetch(url, { method: options.method ?? 'GET', headers: { ...proof, ...(options.headers ?? {}) } });
}

const discoveryFetches = (ds: DocServiceDouble): number => ds.requests.filter((r) => r.target.startsWith('/hosting/discovery')).length;

describe('WOPI proof keys (DS publishes keys, mode auto)', () => {
  let ds: DocServiceDouble;
  let tb: TestBridge;
  let f: Opened;
  beforeAll(async () => {
    ds = await startDocServiceDouble();
    ({ tb, f } = await withBridge({ DOCS_URL: ds.url }));
    await tb.bridge.runtime.discovery?.get();
  });
  afterAll(async () => {
    await tb.stop();
    await ds.close();
  });

  test('a whole editing session signed like DocService passes', async () => {
    const lock = { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': f.fileId };
    expect((await signedCall(ds, f)).status).toBe(200);
    expect((await signedCall(ds, f, { method: 'POST', headers: lock })).status).toBe(200);
    expect((await signedCall(ds, f, { suffix: '/contents' })).status).toBe(200);
    const url = f.url('/contents');
    const put = await fetch(url, { method: 'POST', headers: { ...ds.signWopiRequest(url, f.token), 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': f.fileId }, body: 'signed save' });
    expect(put.status).toBe(200);
    expect((await signedCall(ds, f, { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': f.fileId } })).status).toBe(200);
    expect((await rawDrive(tb).get('/Signed.docx'))?.toString()).toBe('signed save');
  });

  test.each([
    ['unsigned', () => fetch(f.url())],
    ['signed for another URL', () => signedCall(ds, f, { signUrl: f.url('/contents') })],
    ['signed for another token', () => signedCall(ds, f, { signToken: `${f.token}x` })],
    ['signed 21 minutes ago', () => signedCall(ds, f, { now: Date.now() - 21 * 60 * 1000 })],
  ])('%s → 500, logged with the reason and counted', async (_label, call) => {
    const before = tb.logs.entries().filter((e) => e.msg === 'proof rejected').length;
    const res = await call();
    expect(res.status).toBe(500);
    const rejected = tb.logs.entries().filter((e) => e.msg === 'proof rejected');
    expect(rejected.length).toBe(before + 1);
    expect(typeof rejected[rejected.length - 1]?.reason).toBe('string');
    const counted = Object.entries(tb.bridge.runtime.proofCounters).filter(([k]) => k.startsWith('rejected_')).reduce((a, [, v]) => a + v, 0);
    expect(counted).toBeGreaterThan(0);
  });

  test('signed with a key DS never published → 500', async () => {
    const stranger = await startDocServiceDouble();
    try {
      expect((await signedCall(stranger, f)).status).toBe(500);
    } finally {
      await stranger.close();
    }
  });

  test('an unsigned PutFile is refused before it touches the drive', async () => {
    const url = f.url('/contents');
    const res = await fetch(url, { method: 'POST', headers: { 'X-WOPI-Override': 'PUT' }, body: 'forged' });
    expect(res.status).toBe(500);
    expect((await rawDrive(tb).get('/Signed.docx'))?.toString()).not.toBe('forged');
  });
});

describe('key rotation on DS', () => {
  test('after DS rotates its keys twice, the next signed request passes after one refetch of discovery', async () => {
    const ds = await startDocServiceDouble();
    const { tb, f } = await withBridge({ DOCS_URL: ds.url });
    try {
      await tb.bridge.runtime.discovery?.get();
      expect((await signedCall(ds, f)).status).toBe(200);
      ds.rotateKeys();
      ds.rotateKeys(); // neither of the new keys is known to the bridge now
      const fetchesBefore = discoveryFetches(ds);
      expect((await signedCall(ds, f)).status).toBe(200);
      expect(discoveryFetches(ds)).toBe(fetchesBefore + 1);
      expect((await signedCall(ds, f)).status).toBe(200);
      expect(discoveryFetches(ds)).toBe(fetchesBefore + 1);
    } finally {
      await tb.stop();
      await ds.close();
    }
  });
});

describe('proof modes', () => {
  test('auto with a DS that publishes no keys (its default): unsigned requests pass and are counted as unchecked', async () => {
    const ds = await startDocServiceDouble({ proofKeys: false });
    const { tb, f } = await withBridge({ DOCS_URL: ds.url });
    try {
      await tb.bridge.runtime.discovery?.get();
      expect((await fetch(f.url())).status).toBe(200);
      expect(tb.bridge.runtime.proofCounters.unchecked).toBeGreaterThan(0);
    } finally {
      await tb.stop();
      await ds.close();
    }
  });

  test('enforce with a DS that publishes no keys: every WOPI request is refused', async () => {
    const ds = await startDocServiceDouble({ proofKeys: false });
    const { tb, f } = await withBridge({ DOCS_URL: ds.url, WOPI_PROOF_MODE: 'enforce' });
    try {
      expect((await fetch(f.url())).status).toBe(500);
      expect(tb.bridge.runtime.proofCounters.rejected_no_keys).toBe(1);
    } finally {
      await tb.stop();
      await ds.close();
    }
  });

  test('off: unsigned and badly signed requests pass', async () => {
    const ds = await startDocServiceDouble();
    const { tb, f } = await withBridge({ DOCS_URL: ds.url, WOPI_PROOF_MODE: 'off' });
    try {
      expect((await fetch(f.url())).status).toBe(200);
      expect((await signedCall(ds, f, { signUrl: 'http://elsewhere/' })).status).toBe(200);
    } finally {
      await tb.stop();
      await ds.close();
    }
  });

  test('auto with DS unreachable: editing goes on (DS down must not stop saves); the token is still required', async () => {
    const closed = await freePort();
    const { tb, f } = await withBridge({ DOCS_URL: `http://127.0.0.1:${closed}`, DOCS_TIMEOUT_MS: '500' });
    try {
      expect((await fetch(f.url())).status).toBe(200);
      expect((await fetch(`${f.src}?access_token=bad`)).status).toBe(401);
    } finally {
      await tb.stop();
    }
  });
});
