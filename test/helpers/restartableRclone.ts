/**
 * Test helper: `rclone serve webdav` on a fixed 127.0.0.1 port that a test can SIGKILL and start again on the same
 * port and folder, so a bridge configured with its URL finds the drive back (the fault-injection tests).
 * `rcloneWebdav.ts` lets rclone pick its port, which a restart could not keep.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { trackChild } from './childProcesses.js';
import { freePort } from './processes.js';

export interface RestartableRclone {
  /** http://127.0.0.1:<port> (kept across restarts). */
  url: string;
  port: number;
  dir: string;
  user: string;
  pass: string;
  /** Whether the server process is running. */
  running(): boolean;
  /** SIGKILL (a crash): waits until the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and folder; resolves once it answers. */
  restart(): Promise<void>;
  /** Stops it for good and removes the folder when the helper made it. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RCLONE_')) env[k] = v;
  return env;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function whenExited(child: ChildProcess): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function options(url: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/`, { method: 'OPTIONS', agent: false, headers: { authorization }, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts rclone on a free port (found by binding port 0 first).
 * @param opts.dir folder to serve (default: a fresh temp folder, removed by stop())
 */
export async function startRestartableRclone(opts: { dir?: string } = {}): Promise<RestartableRclone> {
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'wopi-rclone-fixed-')));
  const user = 'test';
  const pass = 'secret';
  const authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  let port = await freePort();
  let child: ChildProcess | null = null;
  let log = '';

  const launch = async (): Promise<void> => {
    log = '';
    const proc = spawn('rclone', ['serve', 'webdav', dir, '--config', '/dev/null', '--addr', `127.0.0.1:${port}`, '--user', user, '--pass', pass], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(proc);
    proc.on('error', () => undefined);
    const onData = (c: Buffer): void => {
      log = (log + c.toString('utf8')).slice(-8192);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    child = proc;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exited(proc)) throw new Error(`rclone exited (port ${port}). Log:\n${log}`);
      try {
        if ((await options(`http://127.0.0.1:${port}`, authorization)) === 200) return;
      } catch {
        // not listening yet
      }
      await delay(50);
    }
    proc.kill('SIGKILL');
    throw new Error(`rclone not ready on port ${port}. Log:\n${log}`);
  };

  const kill = async (): Promise<void> => {
    const c = child;
    if (c === null || exited(c)) return;
    const gone = whenExited(c);
    c.kill('SIGKILL');
    await gone;
  };

  // Another process may take the free port before rclone binds it: try a few ports.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (e) {
      await kill();
      if (attempt >= 3 || !/address already in use/i.test(log)) throw e;
      port = await freePort();
    }
  }

  let stopped = false;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    user,
    pass,
    running: () => child !== null && !exited(child),
    kill,
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill();
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
