import { startRcloneWebdav } from '../../helpers/rcloneWebdav.js';
import { rawDrive, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';

const metricValue = (text: string, name: string, labels: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && labels.split(',').every((p) => l.includes(p)));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};

describe('health, readiness and metrics', () => {
  let tb: TestBridge;
  beforeAll(async () => {
    tb = await startTestBridge();
  });
  afterAll(async () => {
    await tb.stop();
  });

  test('/healthz and /readyz answer 200 with the drive and the state store up', async () => {
    expect((await fetch(`${tb.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${tb.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, storage: { ok: true }, state: { ok: true }, docs: null });
  });

  test('/metrics counts requests by operation and status, 409s, conflict copies and bytes', async () => {
    const drive = rawDrive(tb);
    await drive.put('/Metered.docx', Buffer.from('v1'));
    const f = await tb.open('/Metered.docx');
    const before = await (await fetch(`${tb.url}/metrics`)).text();
    expect((await fetch(f.url())).status).toBe(200);
    await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' } });
    await (await fetch(f.url('/contents'))).arrayBuffer();
    await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'other' } });
    await drive.put('/Metered.docx', Buffer.from('changed outside'));
    expect((await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body: 'mine' })).status).toBe(409);
    const after = await (await fetch(`${tb.url}/metrics`)).text();
    expect(after).toContain('# TYPE wopi_bridge_requests_total counter');
    const delta = (name: string, labels: string): number => metricValue(after, name, labels) - metricValue(before, name, labels);
    expect(delta('wopi_bridge_requests_total', 'op="CheckFileInfo",status="200"')).toBe(1);
    expect(delta('wopi_bridge_requests_total', 'op="Lock",status="409"')).toBe(1);
    expect(delta('wopi_bridge_lock_conflicts_total', 'op="PutFile"')).toBe(1);
    expect(delta('wopi_bridge_body_bytes_total', 'op="GetFile"')).toBe(2);
    expect(after).toMatch(/^wopi_bridge_conflict_copies_total 1$/m);
    expect(after).not.toContain(f.token);
  });

  test('/readyz answers 503 naming the drive when the drive is down', async () => {
    const rclone = await startRcloneWebdav();
    const down = await startTestBridge({ STORAGE_URL: rclone.url, STORAGE_USER: rclone.user, STORAGE_PASSWORD: rclone.pass, STORAGE_FLAVOUR: 'generic', STORAGE_TIMEOUT_MS: '1000' });
    try {
      expect((await fetch(`${down.url}/readyz`)).status).toBe(200);
      await rclone.stop();
      const res = await fetch(`${down.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ ready: false, storage: { ok: false }, state: { ok: true } });
      expect((await fetch(`${down.url}/healthz`)).status).toBe(200);
    } finally {
      await down.stop();
    }
  });
});
