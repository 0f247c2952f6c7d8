import { once } from 'node:events';
import { Agent } from 'node:http';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { connects } from '../../helpers/processes.js';
import { slowUpload } from '../../helpers/slowClient.js';
import { rawDrive, startTestBridge } from '../../helpers/testBridge.js';

// startBridge().stop() in process (the SIGTERM tests run the same through a real process): it waits for requests in
// flight, not for connections, and answers them with `Connection: close`.
describe('graceful stop', () => {
  test('a save in flight on a kept-alive connection: finished and answered with Connection: close; stop() ends with it, idle connections closed', async () => {
    const tb = await startTestBridge();
    const agent = new Agent({ keepAlive: true });
    try {
      await rawDrive(tb).put('/Drain.docx', Buffer.from('v1'));
      const f = await tb.open('/Drain.docx');
      const port = Number(new URL(tb.url).port);
      // An idle kept-alive connection from an earlier request (fetch keeps its own).
      expect((await fetch(f.url(), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' } })).status).toBe(200);
      const body = Buffer.alloc(512 * 1024, 0x61);
      const arrived = once(tb.bridge.server, 'request');
      const upload = slowUpload(f.url('/contents'), { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': 'L' }, body, { chunkBytes: 16 * 1024, intervalMs: 20, agent });
      await arrived;

      let stopped = false;
      const stop = tb.bridge.stop(10_000).then(() => (stopped = true));
      expect(await connects(port)).toBe(false);
      expect(stopped).toBe(false);
      expect(tb.bridge.inFlight()).toBe(1);

      upload.finishNow();
      const answer = await upload.outcome;
      expect(answer).toMatchObject({ kind: 'response', status: 200 });
      if (answer.kind === 'response') expect(answer.headers.connection).toBe('close');
      const answeredAt = performance.now();
      await stop;
      // Bounded by neither the drain limit (10 s) nor keep-alive (65 s): the last request was all it waited for.
      expect(performance.now() - answeredAt).toBeLessThan(2000);
      expect(tb.bridge.inFlight()).toBe(0);
      // The drive (embedded here) is closed with the bridge: read its folder.
      expect((await readFile(path.join(tb.dataDir, 'files', 'Drain.docx'))).equals(body)).toBe(true);
    } finally {
      agent.destroy();
      await tb.stop();
    }
  });

  test('a request that never finishes: stop() gives up after drainMs and closes its connection', async () => {
    const tb = await startTestBridge({ BODY_IDLE_TIMEOUT_MS: '3600000' });
    await rawDrive(tb).put('/Stuck.docx', Buffer.from('v1'));
    const f = await tb.open('/Stuck.docx');
    const u = new URL(f.url());
    const s = net.connect({ host: '127.0.0.1', port: Number(u.port) });
    try {
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.on('error', () => undefined);
      await new Promise<void>((resolve) => s.once('connect', () => resolve()));
      const arrived = once(tb.bridge.server, 'request');
      s.write(`POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nX-WOPI-Override: PUT_USER_INFO\r\nContent-Length: 100\r\n\r\nx`);
      await arrived;
      expect(tb.bridge.inFlight()).toBe(1);
      const started = performance.now();
      await tb.bridge.stop(500);
      await closed;
      expect(performance.now() - started).toBeGreaterThanOrEqual(450);
      expect(performance.now() - started).toBeLessThan(3000);
      expect(tb.logs.entries().some((e) => e.msg === 'drain limit reached; closing the remaining connections' && e.inFlight === 1)).toBe(true);
    } finally {
      s.destroy();
      await tb.stop();
    }
  });

  test('a connection still sending the headers of a request when stop() starts is closed at once, not kept until the drain limit', async () => {
    const tb = await startTestBridge();
    try {
      const port = Number(new URL(tb.url).port);
      const accepted = once(tb.bridge.server, 'connection');
      const half = net.connect({ host: '127.0.0.1', port });
      await once(half, 'connect');
      await accepted;
      half.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Half: `);
      half.on('error', () => undefined); // the server resets it: that is the point
      const closed = new Promise((resolve) => half.once('close', resolve));
      // Without the fix this waits for the headers timeout (30 s), far past Jest's 5 s limit for the test.
      await tb.bridge.stop(60_000);
      await closed;
    } finally {
      await tb.stop();
    }
  });
});
