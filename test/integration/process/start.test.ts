import { readdir, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { cleanupProcesses, freePort, makeTempDir, runBridgeToExit, runCli, spawnBridge, type SpawnedBridge } from '../../helpers/processes.js';

/** A line of a V8 stack trace ("    at fn (file:1:2)"). */
const STACK_LINE = /^\s+at\s/m;

// What `npm start` runs (node dist/connector/src/main.js), as a first-time user gets it: nothing configured but
// where to keep data and which port to use. The embedded default must serve sample files straight away.
describe('npm start with no configuration', () => {
  let bridge: SpawnedBridge;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await makeTempDir('wopi-start-');
    bridge = await spawnBridge({ DATA_DIR: dataDir });
  }, 30_000);
  afterAll(async () => {
    await bridge?.stop('SIGKILL');
    await cleanupProcesses();
  });

  test('serves /healthz', async () => {
    const res = await fetch(`${bridge.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  test('creates <DATA_DIR>/files with the four sample files', async () => {
    const names = await readdir(path.join(dataDir, 'files'));
    expect(names).toEqual(expect.arrayContaining(['Welcome.docx', 'Budget.xlsx', 'Slides.pptx', 'Notes.txt']));
    for (const n of ['Welcome.docx', 'Budget.xlsx', 'Slides.pptx', 'Notes.txt']) {
      expect((await stat(path.join(dataDir, 'files', n))).size).toBeGreaterThan(0);
    }
  });

  test('prints its URLs and the data folder on stderr, and only JSON log lines on stdout', () => {
    expect(bridge.url).toBe(`http://127.0.0.1:${bridge.port}`);
    expect(bridge.stderr).toContain(`wopi-bridge listening on ${bridge.url}`);
    expect(bridge.stderr).toContain(`${bridge.url}/wopi/files/`);
    expect(bridge.stderr).toContain(`${bridge.url}/healthz`);
    expect(bridge.stderr).toContain(path.join(dataDir, 'files'));
    expect(bridge.stderr).toContain(dataDir);
    expect(bridge.stderr).toContain('wopi-bridge token /Welcome.docx');
    expect(() => bridge.entries()).not.toThrow();
    expect(bridge.entries().some((e) => e.msg === 'listening')).toBe(true);
  });

  test.each(['/Welcome.docx', '/Budget.xlsx', '/Slides.pptx', '/Notes.txt'])(
    'CheckFileInfo of a CLI token for %s returns its name and its size on disk',
    async (file) => {
      const cli = await runCli(['token', file, '--json'], { DATA_DIR: dataDir, PORT: String(bridge.port) });
      expect(cli.code).toBe(0);
      const { wopiSrc, accessToken } = JSON.parse(cli.stdout) as { wopiSrc: string; accessToken: string };
      expect(wopiSrc.startsWith(`${bridge.url}/wopi/files/`)).toBe(true);
      const res = await fetch(`${wopiSrc}?access_token=${encodeURIComponent(accessToken)}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const info = (await res.json()) as Record<string, unknown>;
      const onDisk = await stat(path.join(dataDir, 'files', file.slice(1)));
      expect(info).toMatchObject({ BaseFileName: file.slice(1), Size: onDisk.size, UserCanWrite: true });
    },
    30_000,
  );

  test('SIGTERM exits 0 quickly', async () => {
    const started = performance.now();
    expect(await bridge.stop('SIGTERM')).toBe(0);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(bridge.entries().some((e) => e.msg === 'shutting down' && e.signal === 'SIGTERM')).toBe(true);
  }, 15_000);
});

describe('npm start refuses to run', () => {
  afterAll(cleanupProcesses);

  test('with a bad configuration: non-zero exit before listening, one message per problem, no stack, no secret', async () => {
    const secret = 'tooShortSecretValue-x1';
    const res = await runBridgeToExit({ PORT: 'notAPort', STORAGE_URL: 'ftp://x', WOPI_TOKEN_SECRET: secret });
    expect(res.code).not.toBe(0);
    expect(res.code).not.toBeNull();
    expect(res.stderr).not.toContain('listening on');
    expect(res.stdout).not.toContain('listening');
    const problems = res.stderr.split('\n').filter((l) => /^\s+- /.test(l));
    expect(problems).toHaveLength(3);
    expect(problems.filter((l) => l.includes('PORT'))).toHaveLength(1);
    expect(problems.filter((l) => l.includes('STORAGE_URL'))).toHaveLength(1);
    expect(problems.filter((l) => l.includes('WOPI_TOKEN_SECRET'))).toHaveLength(1);
    expect(res.stderr).not.toMatch(STACK_LINE);
    for (const out of [res.stdout, res.stderr]) {
      expect(out).not.toContain(secret);
      expect(out).not.toContain('ftp://x');
      expect(out).not.toContain('notAPort');
    }
  }, 30_000);

  test('when the port is already in use: a clear error and a non-zero exit', async () => {
    const port = await freePort();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', () => resolve()));
    try {
      const res = await runBridgeToExit({ PORT: String(port) });
      expect(res.code).not.toBe(0);
      expect(res.code).not.toBeNull();
      expect(res.stderr).not.toContain('listening on');
      expect(res.stderr).toMatch(/address already in use|EADDRINUSE/);
      expect(res.stderr).toContain(String(port));
      expect(res.stderr).not.toMatch(STACK_LINE);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  }, 30_000);
});

// The banner is the readiness signal; the signal handlers are in place before it is printed.
describe('SIGTERM right after the banner', () => {
  afterAll(cleanupProcesses);

  test('always drains and exits 0', async () => {
    // Each one is signalled the moment its own banner arrives.
    const codes = await Promise.all(Array.from({ length: 12 }, async () => (await spawnBridge()).stop('SIGTERM')));
    expect(codes).toEqual(codes.map(() => 0));
  }, 60_000);
});
