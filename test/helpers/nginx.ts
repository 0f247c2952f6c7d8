/**
 * Test helper: runs Debian's nginx (installed by `scripts/install-test-deps.sh`) as an unprivileged-port process with
 * its own prefix and configuration in a temp folder — never the system nginx, whose service the install script stops.
 *
 * The configuration under test is an http-level file (e.g. `docs/deploy/nginx-wopi-bridge.conf` rendered with
 * {@link renderNginxTemplate}); the helper wraps it in a minimal main configuration (one worker, temp paths in the
 * folder) and starts `nginx -p <dir> -c <dir>/nginx.conf -e stderr -g 'daemon off; pid <dir>/nginx.pid; error_log stderr notice;'`.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { trackChild } from './childProcesses.js';

/** A running nginx. */
export interface NginxServer {
  /** Its prefix folder (configuration, pid file, temp paths). */
  dir: string;
  /** Master process id. */
  pid: number;
  /** Everything nginx wrote to stderr (its error log) so far. */
  readonly errorLog: string;
  /** Graceful stop (SIGQUIT, SIGKILL to the whole process group after a grace period); removes the folder. Idempotent. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
/** The line nginx logs (at notice) once its listening sockets are bound and it starts its worker. */
const READY_LINE = /start worker process \d+/;

/** The nginx binary: on PATH, or Debian's /usr/sbin/nginx (not on a non-root PATH). */
export function nginxBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin']) {
    const candidate = path.join(dir, 'nginx');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('nginx is not installed: run scripts/install-test-deps.sh');
}

/**
 * Replaces every `{{NAME}}` placeholder of a configuration template.
 * @param template the template text
 * @param values a value for each placeholder
 * @returns the rendered text
 * @throws when a placeholder has no value, or a value names no placeholder (the template and the test disagree)
 */
export function renderNginxTemplate(template: string, values: Record<string, string>): string {
  const names = new Set([...template.matchAll(/\{\{([A-Z0-9_]+)\}\}/g)].map((m) => m[1] as string));
  const missing = [...names].filter((n) => values[n] === undefined);
  const unused = Object.keys(values).filter((n) => !names.has(n));
  if (missing.length > 0 || unused.length > 0) {
    throw new Error(`template placeholders and values differ: missing ${missing.join(', ') || 'none'}; unused ${unused.join(', ') || 'none'}`);
  }
  const out = template.replace(/\{\{([A-Z0-9_]+)\}\}/g, (_m, n: string) => values[n] as string);
  if (/\{\{|\}\}/.test(out)) throw new Error('a malformed placeholder is left in the rendered configuration');
  return out;
}

/** Kills the nginx process group (master and workers) if it is still there. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const groups = new Set<number>();
let exitHookInstalled = false;

/**
 * Starts nginx with `httpConf` inside its `http {}` block and resolves once it has bound its sockets.
 * @param httpConf http-level configuration (upstreams, servers)
 * @param opts.dir prefix folder to use (default a fresh temp folder, removed by stop())
 * @throws when nginx is missing, refuses the configuration or does not start in time (its error log attached)
 */
export async function startNginx(httpConf: string, opts: { dir?: string } = {}): Promise<NginxServer> {
  const bin = nginxBinary();
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'wopi-nginx-')));
  // Workers run as an unprivileged user when the tests run as root: they must reach the temp paths.
  await chmod(dir, 0o755);
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  const site = path.join(dir, 'site.conf');
  await writeFile(site, httpConf);
  const temp = (name: string): string => `${name}_temp_path ${path.join(dir, `${name}_temp`)};`;
  const main = [
    'worker_processes 1;',
    'events { worker_connections 512; }',
    'http {',
    '    default_type application/octet-stream;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((n) => `    ${temp(n)}`),
    `    include ${site};`,
    '}',
    '',
  ].join('\n');
  const conf = path.join(dir, 'nginx.conf');
  await writeFile(conf, main);

  const args = ['-p', `${dir}/`, '-c', conf, '-e', 'stderr', '-g', `daemon off; pid ${path.join(dir, 'nginx.pid')}; error_log stderr notice;`];
  // Own process group: nginx's workers outlive a SIGKILLed master, so stopping means signalling the group.
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  trackChild(child);
  child.on('error', () => undefined);
  if (child.pid !== undefined) groups.add(child.pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const pid of groups) killGroup(pid, 'SIGKILL');
    });
  }
  let errorLog = '';
  const onData = (chunk: Buffer): void => {
    errorLog += chunk.toString('utf8');
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const pid = child.pid;
    if (pid !== undefined && child.exitCode === null && child.signalCode === null) {
      killGroup(pid, 'SIGQUIT');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    // Workers finishing after the master (they should not, but never leave one behind).
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    if (pid !== undefined) groups.delete(pid);
    if (ownsDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`nginx did not start within ${START_TIMEOUT_MS} ms. Log:\n${errorLog}`)), START_TIMEOUT_MS);
      const check = (): void => {
        if (READY_LINE.test(errorLog)) finish();
      };
      const onExit = (code: number | null): void => finish(new Error(`nginx exited (code ${code}) before it was ready. Log:\n${errorLog}`));
      const onError = (e: Error): void => finish(new Error(`could not start nginx: ${e.message}`));
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        child.stderr?.off('data', check);
        child.stdout?.off('data', check);
        child.off('exit', onExit);
        child.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      child.stderr?.on('data', check);
      child.stdout?.on('data', check);
      child.once('exit', onExit);
      child.once('error', onError);
      check();
    });
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dir,
    pid: child.pid as number,
    get errorLog() {
      return errorLog;
    },
    stop,
  };
}

/**
 * Lines of a log file nginx writes (an access log); [] while it does not exist yet.
 * @param file the log file
 */
export async function readLogLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
