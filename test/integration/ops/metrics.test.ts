import net from 'node:net';
import { startDocServiceDouble, type DocServiceDouble } from '../../helpers/docServiceDouble.js';
import { rawDrive, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';

type Opened = Awaited<ReturnType<TestBridge['open']>>;

/** The value of one sample (`name{labels} value`), 0 when absent; `labels` lists `k="v"` parts that must all be there. */
function sample(text: string, name: string, labels: string[] = []): number {
  const line = text
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && labels.every((p) => l.includes(p)));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** Reads /metrics now, and later tells how much a sample moved since. */
async function meter(tb: TestBridge): Promise<(name: string, labels?: string[]) => Promise<number>> {
  const before = await (await fetch(`${tb.url}/metrics`)).text();
  return async (name, labels = []) => sample(await (await fetch(`${tb.url}/metrics`)).text(), name, labels) - sample(before, name, labels);
}

/** Writes `bytes` on a fresh connection and closes it before any answer. */
async function sendAndLeave(port: number, bytes: string): Promise<void> {
  const s = net.connect({ host: '127.0.0.1', port });
  s.on('error', () => undefined);
  await new Promise<void>((resolve) => s.once('connect', () => resolve()));
  await new Promise<void>((resolve) => s.write(bytes, () => resolve()));
  s.destroy();
}

// Issue 8, point 5: each metric /metrics promises, made to move by the traffic that should move it; request ids in
// every log line of a request and in every error body.
describe('operations: metrics and request ids', () => {
  let ds: DocServiceDouble;
  let tb: TestBridge;
  let f: Opened;
  beforeAll(async () => {
    ds = await startDocServiceDouble();
    tb = await startTestBridge({ DOCS_URL: ds.url, DOCS_TIMEOUT_MS: '2000', BODY_IDLE_TIMEOUT_MS: '300' });
    await tb.bridge.runtime.discovery?.get();
    await rawDrive(tb).put('/Ops.docx', Buffer.from('v1'));
    f = await tb.open('/Ops.docx');
  });
  afterAll(async () => {
    await tb.stop();
    await ds.close().catch(() => undefined);
  });

  /** A WOPI call signed as DocService signs it. */
  const call = (suffix: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Response> => {
    const url = f.url(suffix);
    return fetch(url, { method: init.method ?? 'GET', headers: { ...ds.signWopiRequest(url, f.token), ...(init.headers ?? {}) }, ...(init.body !== undefined ? { body: init.body } : {}) });
  };

  test('requests by operation and status, durations and bytes move with a session', async () => {
    const moved = await meter(tb);
    const lock = { 'X-WOPI-Lock': 'L' };
    expect((await call('')).status).toBe(200);
    expect((await call('', { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', ...lock } })).status).toBe(200);
    expect(await (await call('/contents')).text()).toBe('v1');
    const saved = 'a save of 27 bytes, exactly';
    expect((await call('/contents', { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', ...lock }, body: saved })).status).toBe(200);
    expect((await call('', { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', ...lock } })).status).toBe(200);

    expect(await moved('wopi_bridge_requests_total', ['op="CheckFileInfo"', 'status="200"'])).toBe(1);
    expect(await moved('wopi_bridge_requests_total', ['op="PutFile"', 'status="200"'])).toBe(1);
    expect(await moved('wopi_bridge_request_duration_seconds_count', ['op="PutFile"'])).toBe(1);
    expect(await moved('wopi_bridge_request_duration_seconds_count', ['op="GetFile"'])).toBe(1);
    expect(await moved('wopi_bridge_request_duration_seconds_sum', ['op="PutFile"'])).toBeGreaterThan(0);
    expect(await moved('wopi_bridge_body_bytes_total', ['op="PutFile"'])).toBe(Buffer.byteLength(saved));
    expect(await moved('wopi_bridge_body_bytes_total', ['op="GetFile"'])).toBe(2);
  });

  test('lock conflicts and conflict copies', async () => {
    const moved = await meter(tb);
    expect((await call('', { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'A' } })).status).toBe(200);
    try {
      await conflicts(moved);
    } finally {
      await call('', { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': 'A' } });
    }
  });

  async function conflicts(moved: Awaited<ReturnType<typeof meter>>): Promise<void> {
    const taken = await call('', { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'B' } });
    expect(taken.status).toBe(409);
    expect(taken.headers.get('x-wopi-lock')).toBe('A');
    // Changed on the drive behind the editor's back: the save is kept beside the file, never over the change.
    await rawDrive(tb).put('/Ops.docx', Buffer.from('changed outside'));
    const save = await call('/contents', { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'A' }, body: 'mine' });
    expect(save.status).toBe(409);
    expect(save.headers.get('x-wopi-lock')).toBe('A');
    expect((await rawDrive(tb).get('/Ops.docx'))?.toString()).toBe('changed outside');
    expect(await moved('wopi_bridge_lock_conflicts_total', ['op="Lock"'])).toBe(1);
    expect(await moved('wopi_bridge_lock_conflicts_total', ['op="PutFile"'])).toBe(1);
    expect(await moved('wopi_bridge_conflict_copies_total')).toBe(1);
    expect((await rawDrive(tb).list('/')).filter((n) => n.startsWith('Ops (conflict '))).toHaveLength(1);
  }

  test('proof failures, by reason', async () => {
    const moved = await meter(tb);
    // DS signs every request: an unsigned one, or one with a forged proof, is refused.
    expect((await fetch(f.url())).status).toBe(500);
    const forged = { ...ds.signWopiRequest(f.url(), f.token), 'X-WOPI-Proof': Buffer.alloc(256, 7).toString('base64') };
    expect((await fetch(f.url(), { headers: forged })).status).toBe(500);
    expect(await moved('wopi_bridge_proof_rejections_total', ['reason="missing_headers"'])).toBe(1);
    expect(await moved('wopi_bridge_proof_rejections_total', ['reason="bad_signature"'])).toBe(1);
  });

  test('clients that leave or stall are counted as 499 and 408, not as 404 or 5xx', async () => {
    const moved = await meter(tb);
    const u = new URL(f.url('/contents'));
    const head = (extra: string): string =>
      `POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nX-WOPI-Override: PUT\r\nX-WOPI-Lock: L\r\n${Object.entries(ds.signWopiRequest(f.url('/contents'), f.token)).map(([k, v]) => `${k}: ${v}\r\n`).join('')}${extra}\r\n`;
    expect((await call('', { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' } })).status).toBe(200);
    const accessLines = (): number => tb.logs.entries().filter((e) => e.msg === 'request' && e.op === 'PutFile').length;
    let before = accessLines();
    await sendAndLeave(Number(u.port), head('Content-Length: 100000\r\n') + 'x'.repeat(1000));
    while (accessLines() === before) await new Promise((r) => tb.logs.once('line', r));
    before = accessLines();
    // The body stalls past BODY_IDLE_TIMEOUT_MS (300 ms here): the bridge answers 408.
    const s = net.connect({ host: '127.0.0.1', port: Number(u.port) });
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      s.on('connect', () => s.write(head('Content-Length: 100\r\n') + 'x'));
      s.on('data', (c: Buffer) => (got += c.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(await moved('wopi_bridge_requests_total', ['op="PutFile"', 'status="499"'])).toBe(1);
    expect(await moved('wopi_bridge_requests_total', ['op="PutFile"', 'status="408"'])).toBe(1);
    expect(await moved('wopi_bridge_requests_total', ['op="PutFile"', 'status="404"'])).toBe(0);
    expect(await moved('wopi_bridge_requests_total', ['op="PutFile"', 'status="500"'])).toBe(0);
    expect((await call('', { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': 'L' } })).status).toBe(200);
  });

  test('every log line of a request carries its id, and every error body names it', async () => {
    const cases: Array<{ suffix: string; init: { method?: string; headers?: Record<string, string>; body?: string }; status: number }> = [
      { suffix: '', init: {}, status: 200 },
      { suffix: '', init: { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': 'nobody' } }, status: 409 },
      { suffix: '', init: { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK' } }, status: 400 },
      { suffix: '', init: { method: 'POST', headers: { 'X-WOPI-Override': 'NOT_A_THING' } }, status: 501 },
      { suffix: '/contents', init: { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'nobody' }, body: 'x' }, status: 409 },
    ];
    for (const c of cases) {
      const from = tb.logs.lines.length;
      const res = await call(c.suffix, c.init);
      const body = await res.text();
      expect(res.status).toBe(c.status);
      const reqId = res.headers.get('x-request-id');
      expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
      if (c.status >= 400) expect(body).toContain(`(reqId ${reqId})`);
      // The access line is written once the response has closed: wait for it, then look at everything in between.
      while (!tb.logs.entries().slice(from).some((e) => e.msg === 'request' && e.reqId === reqId)) await new Promise((r) => tb.logs.once('line', r));
      const lines = tb.logs.entries().slice(from);
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((e) => e.reqId !== reqId).map((e) => e.msg)).toEqual([]);
    }
    // A 5xx names the id too, and never more than that.
    const refused = await fetch(f.url());
    const text = await refused.text();
    expect(refused.status).toBe(500);
    expect(text).toBe(`Internal error (reqId ${refused.headers.get('x-request-id')})\n`);
  });

  test('a caller\'s X-Request-Id is kept when it is a plain id, replaced when it is garbage', async () => {
    const mine = 'trace-0123456789abcdef';
    const kept = await call('', { headers: { 'X-Request-Id': mine } });
    expect(kept.headers.get('x-request-id')).toBe(mine);
    for (const garbage of ['short', 'x'.repeat(65), 'has space inside it', 'semi;colon;0123456', '../../etc/passwd']) {
      const res = await call('', { headers: { 'X-Request-Id': garbage } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).not.toBe(garbage);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(tb.logs.lines.some((l) => l.includes('etc/passwd'))).toBe(false);
  });
  // Last: it stops the DS double (the signed calls above need only its keys, which the test holds).
  test('check results: 1 for the current status of each check', async () => {
    await tb.bridge.checker.runNow();
    const text = await (await fetch(`${tb.url}/metrics`)).text();
    const statuses = ['ok', 'warn', 'fail'].map((s) => sample(text, 'wopi_bridge_check_status', ['id="docs_reachable"', `status="${s}"`]));
    expect(statuses).toEqual([1, 0, 0]);
    await ds.close();
    await tb.bridge.checker.runNow();
    const after = await (await fetch(`${tb.url}/metrics`)).text();
    expect(sample(after, 'wopi_bridge_check_status', ['id="docs_reachable"', 'status="fail"'])).toBe(1);
    expect(sample(after, 'wopi_bridge_check_status', ['id="docs_reachable"', 'status="ok"'])).toBe(0);
  });
});
