/**
 * Test helper: runs a real `rclone serve webdav` server on 127.0.0.1 for integration tests.
 *
 * rclone comes from Debian (`scripts/install-test-deps.sh` installs it). The server is started
 * config-less (`--config /dev/null`, and every `RCLONE_*` variable is removed from its
 * environment) so a developer's own rclone configuration can never leak into a test.
 *
 * @module
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { trackChild } from './childProcesses.js';

/** Options for {@link startRcloneWebdav}. */
export interface RcloneWebdavOptions {
  /** Directory to serve. Default: a fresh temp dir (removed again by `stop()`). */
  dir?: string;
  /** Basic-auth user name. Default: `"test"`. */
  user?: string;
  /** Basic-auth password. Default: `"secret"`. */
  pass?: string;
  /**
   * Several accounts (name → password), served through an htpasswd file (`openssl passwd -apr1`) instead of
   * `--user`/`--pass`; every account sees the same tree. `user`/`pass` default to the first one.
   */
  users?: Record<string, string>;
}

/** A running rclone WebDAV server. */
export interface RcloneWebdav {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:40123`; files live at `${url}/name`. */
  url: string;
  /** Directory being served (files written over WebDAV appear here). */
  dir: string;
  /** Basic-auth user name accepted by the server. */
  user: string;
  /** Basic-auth password accepted by the server. */
  pass: string;
  /** Stops the server (SIGTERM, SIGKILL after a grace period) and removes the temp dir if the helper created it. Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
const PROBE_ATTEMPTS = 50;
const PROBE_INTERVAL_MS = 50;
const STOP_GRACE_MS = 5_000;
const LOG_LIMIT = 16_384;

/** Environment for the child: the parent's, minus anything that could configure rclone. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('RCLONE_')) env[key] = value;
  }
  return env;
}

/** Resolves when the child has exited (immediately if it already has). */
function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Sends SIGTERM, then SIGKILL if the child is still alive after `graceMs`; resolves once it has exited. */
async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  const exited = waitForExit(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const outcome = await Promise.race([exited.then(() => 'exited' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

/** One OPTIONS request on a fresh connection; resolves with the status code or rejects on a socket error. */
function probe(url: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/`,
      { method: 'OPTIONS', agent: false, headers: { authorization }, timeout: 1_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('probe timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts `rclone serve webdav` on 127.0.0.1 with a port rclone picks itself (`--addr 127.0.0.1:0`;
 * the actual URL is parsed from rclone's "Server started on" log line), then waits until an
 * authenticated OPTIONS request answers 200.
 *
 * Always call `stop()` (e.g. in `afterAll`); a process 'exit' hook SIGKILLs forgotten servers.
 *
 * @param opts - served directory and credentials; all optional.
 * @returns the running server's URL, directory, credentials and a `stop()` function.
 * @throws if rclone is not installed, exits early, or does not become ready in time.
 */
export async function startRcloneWebdav(opts: RcloneWebdavOptions = {}): Promise<RcloneWebdav> {
  const accounts = Object.entries(opts.users ?? {});
  const user = opts.user ?? accounts[0]?.[0] ?? 'test';
  const pass = opts.pass ?? accounts[0]?.[1] ?? 'secret';
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'wopi-rclone-')));
  // The htpasswd file lives beside the served folder, never inside it.
  let authDir: string | null = null;
  let authArgs = ['--user', user, '--pass', pass];
  if (accounts.length > 0) {
    authDir = await mkdtemp(path.join(os.tmpdir(), 'wopi-rclone-auth-'));
    const lines = accounts.map(([name, password]) => {
      const hash = execFileSync('openssl', ['passwd', '-apr1', '-stdin'], { input: `${password}\n` }).toString('utf8').trim();
      return `${name}:${hash}`;
    });
    const file = path.join(authDir, 'htpasswd');
    await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    authArgs = ['--htpasswd', file];
  }

  const args = [
    'serve',
    'webdav',
    dir,
    '--config',
    '/dev/null',
    '--addr',
    '127.0.0.1:0',
    ...authArgs,
  ];
  const child = spawn('rclone', args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  // Permanent listener: an unhandled 'error' event (e.g. a failed kill) would crash the test process.
  child.on('error', () => undefined);

  // Keep draining rclone's output for the server's whole life (a full pipe would block it);
  // keep the tail for error messages.
  let log = '';
  const onData = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-LOG_LIMIT);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await terminate(child, STOP_GRACE_MS);
    if (ownsDir) await rm(dir, { recursive: true, force: true });
    if (authDir !== null) await rm(authDir, { recursive: true, force: true });
  };

  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`rclone did not report a listening address within ${START_TIMEOUT_MS} ms. Log:\n${log}`));
      }, START_TIMEOUT_MS);
      const onLog = (): void => {
        // rclone 1.60: "... WebDav Server started on http://127.0.0.1:PORT/"; newer: "... on [http://...]".
        const match = /Server started on \[?(https?:\/\/[^\s\]]+)/.exec(log);
        if (match?.[1] !== undefined) {
          cleanup();
          resolve(match[1].replace(/\/+$/, ''));
        }
      };
      const onError = (err: Error): void => {
        cleanup();
        const hint =
          (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (is rclone installed? run scripts/install-test-deps.sh)' : '';
        reject(new Error(`could not start rclone${hint}: ${err.message}`));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        cleanup();
        reject(new Error(`rclone exited before it was ready (code ${code}, signal ${signal}). Log:\n${log}`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        child.stdout?.off('data', onLog);
        child.stderr?.off('data', onLog);
        child.off('error', onError);
        child.off('exit', onExit);
      };
      // Registered after onData, so `log` already includes the chunk when onLog runs.
      child.stdout?.on('data', onLog);
      child.stderr?.on('data', onLog);
      child.once('error', onError);
      child.once('exit', onExit);
    });

    const authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    let lastProblem = 'no attempt made';
    for (let attempt = 1; attempt <= PROBE_ATTEMPTS; attempt++) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`rclone exited while waiting for it to answer. Log:\n${log}`);
      }
      try {
        const status = await probe(url, authorization);
        if (status === 200) return { url, dir, user, pass, stop };
        lastProblem = `OPTIONS answered ${status}`;
      } catch (err) {
        lastProblem = err instanceof Error ? err.message : String(err);
      }
      await delay(PROBE_INTERVAL_MS);
    }
    throw new Error(`rclone at ${url} not ready after ${PROBE_ATTEMPTS} probes (${lastProblem}). Log:\n${log}`);
  } catch (err) {
    await stop();
    throw err;
  }
}
