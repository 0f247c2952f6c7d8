import net from 'node:net';
import { rawDrive, startTestBridge, type TestBridge } from '../../helpers/testBridge.js';

type Opened = Awaited<ReturnType<TestBridge['open']>>;

const STORAGE_TIMEOUT_MS = 3000;

/** Request line and headers (ending with the blank line) of a POST on `url`. */
function postHead(url: string, headers: Record<string, string>): string {
  const u = new URL(url);
  return [`POST ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n') + '\r\n\r\n';
}

/** Writes `bytes` on a fresh connection, waits `holdMs`, then destroys the connection. */
async function sendAndLeave(port: number, bytes: Buffer, holdMs: number): Promise<void> {
  const s = net.connect({ host: '127.0.0.1', port });
  s.on('error', () => undefined);
  await new Promise<void>((resolve) => s.once('connect', () => resolve()));
  s.write(bytes);
  await new Promise((r) => setTimeout(r, holdMs));
  s.destroy();
}

/** The access lines for `op` so far. */
const accessLines = (tb: TestBridge, op: string): Array<Record<string, unknown>> => tb.logs.entries().filter((e) => e.msg === 'request' && e.op === op);

// Clients that go away in the middle of (or right after) sending a body.
describe('a client that goes away', () => {
  let tb: TestBridge;
  let f: Opened;
  let port: number;
  beforeAll(async () => {
    tb = await startTestBridge({ STORAGE_TIMEOUT_MS: String(STORAGE_TIMEOUT_MS) });
    port = Number(new URL(tb.url).port);
    await rawDrive(tb).put('/Gone.docx', Buffer.from('original'));
    f = await tb.open('/Gone.docx');
    expect((await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' } })).status).toBe(200);
  });
  afterAll(async () => {
    await tb.stop();
  });

  // DEFECT (connector/src/wopi/operations/putUserInfo.ts:17): `for await (… of ctx.req.pipe(limiter))` — pipe() does
  // not pass on the request's 'aborted'/'error', so when the client disconnects mid-body the loop waits forever: the
  // handler never finishes, no access line is written, and its context stays in memory (a leak any token holder can
  // repeat at will). Fix: read through limitedBody(ctx.req, MAX_USER_INFO, declaredLength(ctx.headers)) or
  // stream.pipeline(ctx.req, limiter), which end on a disconnect.
  test.failing('PutUserInfo whose client disconnects mid-body: the request ends (access line written) within a second', async () => {
    const before = accessLines(tb, 'PutUserInfo').length;
    await sendAndLeave(port, Buffer.from(postHead(f.url(), { 'X-WOPI-Override': 'PUT_USER_INFO', 'Content-Length': '100' }) + 'abc'), 100);
    await new Promise((r) => setTimeout(r, 1000));
    expect(accessLines(tb, 'PutUserInfo').length).toBe(before + 1);
  });

  // DEFECT (connector/src/wopi/requestBody.ts:77-85 limitedBody, operations/putFile.ts:102-107): when the whole body
  // has arrived but the connection closes before the bridge reads it (the client gave up waiting, or sent bytes
  // after the body so Node answered 400 and closed), `req.complete` is true, so nothing aborts; the request stream
  // is destroyed with its buffered body and the pipe into the drive upload never ends. The save then waits
  // STORAGE_TIMEOUT_MS (30 s by default) *holding the file's write lock* (KeyedMutex in WebdavStorage.writeStream),
  // and every other save of the file waits behind it. Fix: treat a request stream that closes before 'end'
  // (`!req.readableEnded`) as a disconnect in limitedBody and in putFile's onClose.
  test.failing(`PutFile whose client leaves once its body is in: the next save of the file is not held for STORAGE_TIMEOUT_MS (${STORAGE_TIMEOUT_MS} ms)`, async () => {
    const body = Buffer.alloc(10, 0x42);
    // The body, then garbage: Node parses the garbage as a next request, answers 400 and closes the connection.
    await sendAndLeave(port, Buffer.concat([Buffer.from(postHead(f.url('/contents'), { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L', 'Content-Length': String(body.length) })), body, Buffer.from('garbage\r\n\r\n')]), 50);
    const started = performance.now();
    const res = await fetch(f.url('/contents'), { method: 'POST', headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body: 'the next save' });
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  // DEFECT (connector/src/logging/requestLogger.ts:33 + errors/errorMiddleware.ts:15-18): a request whose client
  // disconnected is logged — and counted in wopi_bridge_requests_total — with Koa's default status 404, as if the
  // file were missing. Expected: a distinct status such as 499 (nginx's "client closed request") or result
  // 'client_gone', so a dashboard of 404s means missing files.
  test.failing('a PutFile aborted by its client is not logged as 404', async () => {
    const before = accessLines(tb, 'PutFile').length;
    await sendAndLeave(port, Buffer.from(postHead(f.url('/contents'), { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L', 'Content-Length': '100000' }) + 'x'.repeat(1000)), 200);
    for (let i = 0; i < 50 && accessLines(tb, 'PutFile').length === before; i++) await new Promise((r) => setTimeout(r, 100));
    const line = accessLines(tb, 'PutFile')[before];
    expect(line).toBeDefined();
    expect(line?.status).not.toBe(404);
  });

  // DEFECT (connector/src/errors/errorMiddleware.ts:15-18): when the client is already gone (`!ctx.writable`), a
  // client mistake (401 view-only token, 400 bad name…) is logged at *error* level with its stack as "error after
  // response started" — and so is a save the client cut off (StorageError kind 'aborted', which toWopiError turns into
  // storage_unavailable). Found by the fuzz: about one in six of its raw-socket requests. Any client can fill the error
  // log and page the admin. Fix: log at info when `!ctx.writable` (client gone) or the error is a 4xx, map kind
  // 'aborted' to its own code (client_gone) rather than storage_unavailable; keep error for a real failure after the
  // headers were sent.
  test.failing('a client mistake whose client has gone is not logged at error level', async () => {
    const before = tb.logs.entries().length;
    // A PutRelativeFile with a name holding a slash (400 once the source is looked up on the drive), its body followed
    // by garbage: Node answers the garbage with 400 and closes the connection first.
    const head = postHead(f.url(), { 'X-WOPI-Override': 'PUT_RELATIVE', 'X-WOPI-RelativeTarget': '+AC8-x.docx', 'Content-Length': '5' });
    await sendAndLeave(port, Buffer.from(`${head}hellogarbage\r\n\r\n`), 300);
    await new Promise((r) => setTimeout(r, 300));
    const lines = tb.logs.entries().slice(before);
    expect(lines.filter((e) => (e.level as number) >= 50).map((e) => e.msg)).toEqual([]);
  });

  // 501 answers a client's request (MS-WOPI): logged as a client mistake, not as an error.
  test('an unknown X-WOPI-Override (501) is not logged at error level', async () => {
    const res = await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'NOT_A_THING' } });
    expect(res.status).toBe(501);
    await new Promise((r) => setTimeout(r, 100));
    const line = accessLines(tb, 'Unknown').pop();
    expect(line?.level).toBeLessThan(50);
  });
});
