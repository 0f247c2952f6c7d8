/**
 * The floor of any HTTP proxy written in Node on this machine: a bare streaming relay (`req.pipe(upstream)`,
 * `upstream.pipe(res)`, a keep-alive agent, no checks, no logging) in its own process, in front of the same drive.
 * Benchmark 1 measures it beside the bridge: what it loses against the direct request is the cost of one more process
 * and one more loopback connection, which no code in the bridge can avoid.
 *
 * Run by the bench: `node relay.js <drive URL>`; prints `relay listening on http://127.0.0.1:<port>` on stderr.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { trackChild } from '../helpers/childProcesses.js';

/** A running relay process. */
export interface Relay {
  /** http://127.0.0.1:<port>: the drive root behind it. */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts the relay in front of a drive.
 * @param driveUrl the drive's WebDAV root (http://127.0.0.1:…)
 * @param script the compiled relay.js (next to the caller's build)
 */
export async function startRelay(driveUrl: string, script: string): Promise<Relay> {
  const child = spawn(process.execPath, [script, driveUrl], { stdio: ['ignore', 'ignore', 'pipe'] });
  trackChild(child);
  child.on('error', () => undefined);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const deadline = Date.now() + 10_000;
  let url: string | null = null;
  while (url === null) {
    const m = /relay listening on (http:\/\/\S+)/.exec(stderr);
    if (m?.[1] !== undefined) url = m[1];
    else if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`relay did not start: ${stderr}`);
    } else await delay(20);
  }
  const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  return {
    url,
    pid: child.pid as number,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The relay program. */
function serve(driveUrl: string): void {
  const target = new URL(driveUrl);
  const base = target.pathname.replace(/\/+$/, '');
  const agent = new Agent({ keepAlive: true });
  const server = createServer((req, res) => {
    const headers: Record<string, string> = {};
    for (const h of ['authorization', 'content-length', 'content-type', 'depth']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const up = request({ hostname: target.hostname, port: target.port, method: req.method, path: base + (req.url ?? '/'), headers, agent }, (ur) => {
      const out: Record<string, string> = {};
      for (const h of ['content-length', 'content-type', 'etag']) {
        const v = ur.headers[h];
        if (typeof v === 'string') out[h] = v;
      }
      res.writeHead(ur.statusCode ?? 502, out);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    process.stderr.write(`relay listening on http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const driveUrl = process.argv[2];
  if (driveUrl === undefined || !driveUrl.startsWith('http://127.0.0.1:')) {
    process.stderr.write('usage: node relay.js http://127.0.0.1:<port>[/path]\n');
    process.exit(3);
  }
  serve(driveUrl);
}
