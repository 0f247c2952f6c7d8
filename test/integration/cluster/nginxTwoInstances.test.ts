import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, watch } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { readLogLines, renderNginxTemplate, startNginx, type NginxServer } from '../../helpers/nginx.js';
import { cleanupProcesses, freePort, makeTempDir, ROOT, spawnBridge, type SpawnedBridge } from '../../helpers/processes.js';
import { startRcloneWebdav, type RcloneWebdav } from '../../helpers/rcloneWebdav.js';
import { startRedis, type RedisServer } from '../../helpers/redisServer.js';
import { startTestBridge, TEST_SECRETS } from '../../helpers/testBridge.js';

/** The example configuration shipped to operators: the test runs this very file. */
const SHIPPED_CONF = path.join(ROOT, 'docs/deploy/nginx-wopi-bridge.conf');
const MiB = 1024 * 1024;
/** MAX_UPLOAD_BYTES of both bridges, and so nginx's client_max_body_size. */
const LIMIT = 64 * MiB;
/** The large PutFile: sent in 1 MiB chunks, never whole in memory. */
const BIG_CHUNKS = 48;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const shaOfFile = (file: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
/** Chunk i of the large body: 1 MiB of random bytes with the chunk number on top (so no two chunks are equal). */
const bigChunk = (block: Buffer, i: number): Buffer => {
  const c = Buffer.from(block);
  c.writeUInt32BE(i, 0);
  return c;
};

// Two bridge processes over one drive (rclone) and one Redis, behind Debian's nginx with the configuration from
// docs/deploy/, TLS with a certificate made here. nginx alternates requests between the instances (round robin, one
// worker); each answer's X-Request-Id (nginx's $request_id, echoed by the bridge) says which instance's log has it.
describe('two bridge instances behind nginx (docs/deploy/nginx-wopi-bridge.conf)', () => {
  let redis: RedisServer;
  let drive: RcloneWebdav;
  let one: SpawnedBridge;
  let two: SpawnedBridge;
  let nginx: NginxServer;
  let agent: https.Agent;
  let base: string;
  let httpPort: number;
  let accessLog: string;
  const files: Record<string, { fileId: string; token: string }> = {};

  beforeAll(async () => {
    redis = await startRedis();
    drive = await startRcloneWebdav();
    const auth = `Basic ${Buffer.from(`${drive.user}:${drive.pass}`).toString('base64')}`;
    for (const name of ['Session.docx', 'Locked.docx', 'Big.bin', 'Killed.docx']) {
      const res = await fetch(`${drive.url}/${name}`, { method: 'PUT', headers: { Authorization: auth }, body: `${name} v1` });
      expect(res.status).toBeLessThan(300);
    }
    // File ids and tokens, issued the way `wopi-bridge token` does by an instance sharing the Redis.
    const issuer = await startTestBridge({ REDIS_URL: redis.url, STORAGE_URL: drive.url, STORAGE_USER: drive.user, STORAGE_PASSWORD: drive.pass });
    for (const name of ['Session.docx', 'Locked.docx', 'Big.bin', 'Killed.docx']) {
      const o = await issuer.open(`/${name}`);
      files[name] = { fileId: o.fileId, token: o.token };
    }
    await issuer.stop();

    const httpsPort = await freePort();
    httpPort = await freePort();
    base = `https://127.0.0.1:${httpsPort}`;
    const env = {
      REDIS_URL: redis.url,
      STORAGE_URL: drive.url,
      STORAGE_USER: drive.user,
      STORAGE_PASSWORD: drive.pass,
      WOPI_TOKEN_SECRET: TEST_SECRETS.tokenSecret,
      PUBLIC_URL: base,
      MAX_UPLOAD_BYTES: String(LIMIT),
      LOG_LEVEL: 'info',
    };
    [one, two] = await Promise.all([spawnBridge(env), spawnBridge(env)]);

    const tls = await makeTempDir('wopi-nginx-tls-');
    const cert = path.join(tls, 'cert.pem');
    const key = path.join(tls, 'key.pem');
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ]);
    accessLog = path.join(tls, 'access.log');
    const conf = renderNginxTemplate(await readFile(SHIPPED_CONF, 'utf8'), {
      UPSTREAM_1: `127.0.0.1:${one.port}`,
      UPSTREAM_2: `127.0.0.1:${two.port}`,
      HTTPS_LISTEN: `127.0.0.1:${httpsPort}`,
      HTTP_LISTEN: `127.0.0.1:${httpPort}`,
      SERVER_NAME: '127.0.0.1',
      TLS_CERT: cert,
      TLS_KEY: key,
      ACCESS_LOG: accessLog,
      MAX_UPLOAD_BYTES: String(LIMIT),
    });
    nginx = await startNginx(conf);
    agent = new https.Agent({ ca: await readFile(cert), keepAlive: true, maxSockets: 8 });
  }, 60_000);

  afterAll(async () => {
    agent?.destroy();
    await nginx?.stop();
    await one?.stop('SIGKILL');
    await two?.stop('SIGKILL');
    await cleanupProcesses();
    await drive?.stop();
    await redis?.stop();
  });

  /** One request through nginx; `body` chunks are written one by one, `beforeRest` awaited after the first. */
  const call = (
    method: string,
    target: string,
    headers: Record<string, string> = {},
    body: Buffer[] = [],
    beforeRest?: () => Promise<void>,
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = https.request(`${base}${target}`, { method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      void (async () => {
        const [first, ...rest] = body;
        if (first !== undefined) req.write(first);
        if (beforeRest) await beforeRest();
        for (const c of rest) if (!req.write(c)) await new Promise((r) => req.once('drain', r));
        req.end();
      })().catch(reject);
    });
  const wopi = (name: string, suffix = ''): string => {
    const f = files[name] as { fileId: string; token: string };
    return `/wopi/files/${f.fileId}${suffix}?access_token=${encodeURIComponent(f.token)}`;
  };
  const post = (name: string, override: string, headers: Record<string, string> = {}): Promise<Answer> =>
    call('POST', wopi(name), { 'X-WOPI-Override': override, ...headers });
  const save = (name: string, body: Buffer[], lock: string, beforeRest?: () => Promise<void>): Promise<Answer> =>
    call('POST', wopi(name, '/contents'), {
      'X-WOPI-Override': 'PUT',
      'X-WOPI-Lock': lock,
      'Content-Length': String(body.reduce((n, c) => n + c.length, 0)),
    }, body, beforeRest);

  /** Which instance answered: the one whose access line carries the answer's request id. */
  const servedBy = async (a: Answer): Promise<'one' | 'two'> => {
    const reqId = String(a.headers['x-request-id'] ?? '');
    expect(reqId).toMatch(/^[0-9a-f]{32}$/); // nginx's $request_id, passed on and echoed
    const logged = (b: SpawnedBridge) => (l: string): boolean => l.includes(`"reqId":"${reqId}"`) && l.includes('"msg":"request"');
    // The access line is written when the response closes, which can be just after the client has it.
    await Promise.any([one, two].map((b) => b.waitForLine(logged(b))));
    return one.stdoutLines.some(logged(one)) ? 'one' : 'two';
  };
  /** Temporary uploads (`.~wopi-*.tmp`) in the drive's folder. */
  const tempUploads = async (): Promise<string[]> => (await readdir(drive.dir)).filter((n) => n.startsWith('.~wopi-'));
  /** A function resolving when a temporary upload not in the folder now appears (the bridge is writing to the drive). */
  const uploadStarts = async (): Promise<() => Promise<void>> => {
    const known = new Set(await tempUploads());
    const fresh = async (): Promise<boolean> => (await tempUploads()).some((n) => !known.has(n));
    return async () => {
      const ac = new AbortController();
      const events = watch(drive.dir, { signal: ac.signal });
      try {
        if (await fresh()) return;
        for await (const _ of events) if (await fresh()) return;
      } catch (e) {
        if ((e as Error).name !== 'AbortError') throw e;
      } finally {
        ac.abort();
      }
    };
  };
  const onDrive = (name: string): Promise<Buffer> => readFile(path.join(drive.dir, name));

  test('plain HTTP is redirected to https; the shipped file needed nothing but its placeholders', async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/wopi/files/x`, { redirect: 'manual' });
    expect(res.status).toBe(301);
    expect(res.headers.get('location')).toBe('https://127.0.0.1/wopi/files/x');
    expect((await call('GET', '/healthz')).status).toBe(200);
  });

  test('an editing session whose requests alternate between the instances works, and both serve it', async () => {
    const steps: Array<[string, () => Promise<Answer>]> = [
      ['CheckFileInfo', () => call('GET', wopi('Session.docx'))],
      ['Lock', () => post('Session.docx', 'LOCK', { 'X-WOPI-Lock': 'L1' })],
      ['GetFile', () => call('GET', wopi('Session.docx', '/contents'))],
      ['RefreshLock', () => post('Session.docx', 'REFRESH_LOCK', { 'X-WOPI-Lock': 'L1' })],
      ['PutFile', () => save('Session.docx', [Buffer.from('Session.docx v2, saved through nginx')], 'L1')],
      ['GetFile after the save', () => call('GET', wopi('Session.docx', '/contents'))],
      ['CheckFileInfo after the save', () => call('GET', wopi('Session.docx'))],
      ['Unlock', () => post('Session.docx', 'UNLOCK', { 'X-WOPI-Lock': 'L1' })],
    ];
    const seen: Array<[string, number, string]> = [];
    const answers: Answer[] = [];
    for (const [label, step] of steps) {
      const a = await step();
      answers.push(a);
      seen.push([label, a.status, await servedBy(a)]);
    }
    expect(seen.map(([l, s]) => [l, s])).toEqual(steps.map(([l]) => [l, 200]));
    // Round robin: consecutive requests went to alternate instances.
    const by = seen.map(([, , b]) => b);
    expect(by.filter((b) => b === 'one').length).toBe(steps.length / 2);
    for (let i = 1; i < by.length; i++) expect(by[i]).not.toBe(by[i - 1]);
    expect(answers[2]?.body.toString()).toBe('Session.docx v1');
    expect(answers[5]?.body.toString()).toBe('Session.docx v2, saved through nginx');
    const info = JSON.parse((answers[6] as Answer).body.toString()) as Record<string, unknown>;
    expect(info.Size).toBe('Session.docx v2, saved through nginx'.length);
    expect((await onDrive('Session.docx')).toString()).toBe('Session.docx v2, saved through nginx');
  });

  test('a lock taken through one instance is seen by the other: 409 with X-WOPI-Lock from both', async () => {
    const taken = await post('Locked.docx', 'LOCK', { 'X-WOPI-Lock': 'first-editor' });
    expect(taken.status).toBe(200);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await post('Locked.docx', 'LOCK', { 'X-WOPI-Lock': 'second-editor' }));
    answers.push(await save('Locked.docx', [Buffer.from('must not land')], 'second-editor'));
    answers.push(await save('Locked.docx', [Buffer.from('must not land either')], 'second-editor'));
    for (const a of answers) {
      expect(a.status).toBe(409);
      expect(a.headers['x-wopi-lock']).toBe('first-editor');
    }
    expect(new Set(await Promise.all(answers.map(servedBy)))).toEqual(new Set(['one', 'two']));
    expect((await onDrive('Locked.docx')).toString()).toBe('Locked.docx v1');
    expect((await post('Locked.docx', 'UNLOCK', { 'X-WOPI-Lock': 'first-editor' })).status).toBe(200);
  });

  test(`a ${BIG_CHUNKS} MiB PutFile streams through nginx to the drive; a body over MAX_UPLOAD_BYTES is refused by nginx`, async () => {
    expect((await post('Big.bin', 'LOCK', { 'X-WOPI-Lock': 'B' })).status).toBe(200);
    const block = randomBytes(MiB);
    const chunks = Array.from({ length: BIG_CHUNKS }, (_, i) => bigChunk(block, i));
    const expected = createHash('sha256');
    for (const c of chunks) expected.update(c);
    const digest = expected.digest('hex');
    // Only the first MiB is sent until the bridge has started writing to the drive: had nginx buffered the
    // request body (proxy_request_buffering on), the upload would not start before the body is complete.
    const saved = await save('Big.bin', chunks, 'B', await uploadStarts());
    expect(saved.status).toBe(200);
    expect(await shaOfFile(path.join(drive.dir, 'Big.bin'))).toBe(digest);
    // And back: GetFile through nginx gives the same bytes.
    const got = await call('GET', wopi('Big.bin', '/contents'));
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(BIG_CHUNKS * MiB);
    expect(sha(got.body)).toBe(digest);

    // Over the limit: nginx answers 413 from the headers alone (no instance sees it) and the file is unchanged.
    const tooBig = await new Promise<Answer>((resolve, reject) => {
      const req = https.request(`${base}${wopi('Big.bin', '/contents')}`, {
        method: 'POST',
        agent: false,
        ca: agent.options.ca,
        headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'B', 'Content-Length': String(LIMIT + 1) },
      }, (res) => {
        const c: Buffer[] = [];
        res.on('data', (x: Buffer) => c.push(x));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(c) });
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers['x-request-id']).toBeUndefined();
    expect(await shaOfFile(path.join(drive.dir, 'Big.bin'))).toBe(digest);
    expect((await post('Big.bin', 'UNLOCK', { 'X-WOPI-Lock': 'B' })).status).toBe(200);
  }, 60_000);

  test('one instance SIGKILLed mid-save: that save fails (502), the file is intact, and the session carries on', async () => {
    const before = Buffer.from('Killed.docx v1');
    expect((await post('Killed.docx', 'LOCK', { 'X-WOPI-Lock': 'K' })).status).toBe(200);
    // Round robin with one nginx worker: after an answer from instance two, the next request goes to instance one.
    while ((await servedBy(await post('Killed.docx', 'GET_LOCK'))) !== 'two');
    const doomed = Array.from({ length: 8 }, (_, i) => bigChunk(randomBytes(MiB), i));
    const uploadStarted = await uploadStarts();
    const inFlight = save('Killed.docx', doomed, 'K', async () => {
      await uploadStarted();
      // The save is on instance one, writing to the drive: kill it there.
      expect(await one.stop('SIGKILL')).toBeNull();
    }).then(
      (a) => a.status,
      () => 'connection error',
    );
    // nginx never resends a POST that reached an instance: this save fails, and DocumentServer would save again.
    expect(await inFlight).toBe(502);
    expect((await onDrive('Killed.docx')).equals(before)).toBe(true);

    const session: Array<[string, () => Promise<Answer>]> = [
      ['CheckFileInfo', () => call('GET', wopi('Killed.docx'))],
      ['GetFile', () => call('GET', wopi('Killed.docx', '/contents'))],
      ['GetLock', () => post('Killed.docx', 'GET_LOCK')],
      ['RefreshLock', () => post('Killed.docx', 'REFRESH_LOCK', { 'X-WOPI-Lock': 'K' })],
      ['PutFile', () => save('Killed.docx', [Buffer.from('Killed.docx v2, saved after the kill')], 'K')],
      ['GetFile after the save', () => call('GET', wopi('Killed.docx', '/contents'))],
      ['Unlock', () => post('Killed.docx', 'UNLOCK', { 'X-WOPI-Lock': 'K' })],
    ];
    const seen: Array<[string, number, string]> = [];
    const answers: Answer[] = [];
    for (const [label, step] of session) {
      const a = await step();
      answers.push(a);
      seen.push([label, a.status, a.status === 200 ? await servedBy(a) : '-']);
    }
    // Every request of the session, including the POSTs nginx first tried on the dead instance, answered by two.
    expect(seen).toEqual(session.map(([l]) => [l, 200, 'two']));
    expect(answers[1]?.body.equals(before)).toBe(true);
    expect(answers[2]?.headers['x-wopi-lock']).toBe('K');
    expect(answers[5]?.body.toString()).toBe('Killed.docx v2, saved after the kill');
    expect((await onDrive('Killed.docx')).toString()).toBe('Killed.docx v2, saved after the kill');
    expect(two.child.exitCode).toBeNull();
  }, 60_000);

  test("nginx's access log names both instances and never holds an access token; the bridges' logs neither", async () => {
    const lines = await readLogLines(accessLog);
    expect(lines.some((l) => l.includes(`upstream=127.0.0.1:${one.port}`))).toBe(true);
    expect(lines.some((l) => l.includes(`upstream=127.0.0.1:${two.port}`))).toBe(true);
    const tokens = Object.values(files).map((f) => f.token);
    for (const text of [lines.join('\n'), one.stdoutLines.join('\n'), two.stdoutLines.join('\n')]) {
      expect(text).not.toContain('access_token');
      for (const t of tokens) expect(text).not.toContain(t.split('.')[2] as string);
    }
    // FACT (documented in docs/deployment.md): nginx's *error* log quotes the whole request line, query included,
    // when an upstream fails; keep it readable by root/adm only, as Debian does.
    expect(nginx.errorLog).toContain('access_token=');
  });
});
