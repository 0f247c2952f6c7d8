import net from 'node:net';
import { startTestBridge, type TestBridge } from '../../helpers/testBridge.js';
import { stallAfter } from '../../helpers/slowClient.js';

// The admin API's JSON and the pages' forms are read whole; they get the same client protections as WOPI bodies:
// a stalled body is cut after BODY_IDLE_TIMEOUT_MS with 408 (the client's fault, logged at warn), not held open until
// REQUEST_TIMEOUT_MS, and one that ends short of its Content-Length is refused.
describe('small bodies (admin JSON, page forms) from slow or broken clients', () => {
  let tb: TestBridge;
  let port: number;
  beforeAll(async () => {
    tb = await startTestBridge({ BODY_IDLE_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '600000', ADMIN_PASSWORD: 'admin-password-for-tests-0123' });
    port = Number(new URL(tb.url).port);
  });
  afterAll(async () => {
    await tb.stop();
  });

  const head = (path: string, type: string, length: number): string =>
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://127.0.0.1:${port}\r\nSec-Fetch-Site: same-origin\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`;

  test.each([
    ['admin sign-in JSON', '/admin/api/login', 'application/json', '{"password":'],
    ['page sign-in form', '/signin', 'application/x-www-form-urlencoded', 'username=al'],
  ])('%s that stalls: 408 after about BODY_IDLE_TIMEOUT_MS, logged at warn', async (_label, path, type, first) => {
    const before = tb.logs.lines.length;
    const r = await stallAfter(port, Buffer.from(head(path, type, 200) + first), 5000);
    expect(r).toMatchObject({ end: 'answered', status: 408 });
    const lines = tb.logs.entries().slice(before).filter((e) => e.msg === 'request');
    expect(lines.map((e) => [e.level, e.status])).toEqual([[40, 408]]);
  });

  test.each([
    ['admin sign-in JSON', '/admin/api/login', 'application/json', '{"password":"x"}'],
    ['page sign-in form', '/signin', 'application/x-www-form-urlencoded', 'username=alice'],
  ])('%s whose client leaves before the end of its body: logged as 499 at warn, the process unharmed', async (_label, path, type, body) => {
    const before = tb.logs.lines.length;
    const s = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => s.on('connect', resolve));
    s.write(head(path, type, body.length + 50) + body);
    s.destroy();
    const answered = (): Array<Record<string, unknown>> => tb.logs.entries().slice(before).filter((e) => e.msg === 'request');
    while (answered().length === 0) await new Promise((r) => tb.logs.once('line', r));
    expect(answered().map((e) => [e.level, e.status])).toEqual([[40, 499]]);
    expect(tb.logs.entries().slice(before).filter((e) => (e.level as number) >= 50)).toEqual([]);
    expect((await fetch(`${tb.url}/healthz`)).status).toBe(200);
  });
});
