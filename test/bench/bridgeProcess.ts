/**
 * Runs what a benchmark measures: the bridge as a child process, as `npm start` runs it (variables and node flags
 * read from package.json, e.g. `MALLOC_ARENA_MAX=2 node dist/connector/src/main.js`), so its memory can be read from
 * /proc and its CPU is not shared with the load generator's event loop, over the embedded drive or over Debian's
 * `rclone serve webdav`, optionally with its state in Redis.
 *
 * The bench writes the bridge's secrets.json itself, so it knows the token secret (to issue access tokens, as
 * `wopi-bridge token` does) and the embedded drive's password (to reach that drive directly for the comparisons).
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { trackChild } from '../helpers/childProcesses.js';
import { BANNER, MAIN_JS, ROOT, childEnv, freePort, startCommand } from '../helpers/processes.js';
import { startRcloneWebdav, type RcloneWebdav } from '../helpers/rcloneWebdav.js';
import { EMBEDDED_USER } from '../../connector/src/storage/embedded/startEmbeddedWebdav.js';
import { WebdavStorage } from '../../connector/src/storage/webdav/WebdavStorage.js';
import { SqliteStateStore } from '../../connector/src/state/SqliteStateStore.js';
import type { StateStore } from '../../connector/src/state/StateStore.js';
import { FileIndex } from '../../connector/src/files/FileIndex.js';
import { issueAccessToken } from '../../connector/src/tokens/accessToken.js';
import { BenchHttp, basicAuth } from './httpClient.js';
import { DavClient, WopiClient, type WopiFile } from './clients.js';

export type DriveKind = 'embedded' | 'rclone';

/** How to reach a drive directly. */
export interface DriveAccess {
  kind: DriveKind;
  /** WebDAV URL of the drive root, no trailing slash. */
  url: string;
  user: string;
  pass: string;
}

/** Options of {@link startBenchBridge}. */
export interface BenchBridgeOptions {
  /** Short name for logs and profiles, e.g. `throughput-embedded`. */
  label: string;
  drive: DriveKind;
  /** Folder for this bridge's data folder (and log). */
  workDir: string;
  /** embedded: the folder the embedded drive serves (several bridges may serve the same one in turn). */
  filesDir?: string;
  /** rclone: the running server to use. */
  rclone?: RcloneWebdav;
  /** Keep the state in this Redis instead of the on-disk SQLite store. */
  redisUrl?: string;
  /** Extra environment for the bridge (LOG_LEVEL, …). */
  env?: Record<string, string>;
  /** Write a V8 CPU profile of the bridge here (node --cpu-prof) when it stops. */
  cpuProfDir?: string;
}

/** Memory of a process from /proc/<pid>/status, in bytes. */
export interface ProcMemory {
  rss: number;
  /** VmHWM: peak resident set size since the process started. */
  hwm: number;
  /** RssAnon: the process's own memory (heap, buffers), without mapped files. */
  anon: number;
  /** RssFile: resident pages of mapped files (the node binary, shared libraries), shareable with other processes. */
  file: number;
}

/** A bridge child process and what the bench needs to drive it. */
export interface BenchBridge {
  label: string;
  url: string;
  pid: number;
  dataDir: string;
  logFile: string;
  drive: DriveAccess;
  /** The program that runs (relative to the project). */
  program: string;
  /** Stats a drive path, assigns its WOPI id (in the bridge's own state store) and issues a token. */
  open(drivePath: string, opts?: { user?: string; canWrite?: boolean }): Promise<WopiFile>;
  /** {@link open} for many paths, a few at a time. */
  openMany(paths: string[], opts?: { user?: (i: number) => string }): Promise<WopiFile[]>;
  /** A WOPI client for this bridge with its own keep-alive agent. */
  wopi(maxSockets?: number): WopiClient;
  /** A direct WebDAV client for this bridge's drive. */
  dav(maxSockets?: number): DavClient;
  memory(): ProcMemory;
  /** SIGTERM (graceful: the CPU profile, if any, is written), SIGKILL after 15 s. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * Reads VmRSS and VmHWM of a process.
 * @param pid process id
 * @throws when the process is gone
 */
export function readProcMemory(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]) * 1024;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/**
 * The compiled tree the bridge under test comes from. `npm run bench` compiles its own copy into dist/bench
 * (tsconfig.bench.json) and run.ts sets WOPI_BENCH_BUILD to it, so a `npm run build` of work in progress elsewhere
 * cannot change the program in the middle of a run; the tests use dist/ (`npm test` builds it).
 */
export function buildRoot(): string {
  return process.env.WOPI_BENCH_BUILD ?? path.join(ROOT, 'dist');
}

/** The server `npm start` runs, from {@link buildRoot}. */
export function mainJs(): string {
  return buildRoot() === path.join(ROOT, 'dist') ? MAIN_JS : path.join(buildRoot(), 'connector/src/main.js');
}

/** Whether the built runtime reads REDIS_URL (another change wires the Redis store into runtime.ts). */
export function runtimeWiresRedis(): boolean {
  const file = path.join(buildRoot(), 'connector/src/runtime.js');
  return existsSync(file) && /redisUrl|RedisStateStore/.test(readFileSync(file, 'utf8'));
}

/** Whether connector/src/state/RedisStateStore.ts has been built. */
export function redisStoreBuilt(): boolean {
  return existsSync(path.join(buildRoot(), 'connector/src/state/RedisStateStore.js'));
}

type RedisModule = { createRedisStateStore(url: string, options?: { commandTimeoutMs?: number }): Promise<StateStore> };

/**
 * Imports connector/src/state/RedisStateStore.ts at run time (not a static import, so the bench builds and runs
 * without it and reports the Redis row as skipped).
 * @throws when it is not built
 */
export async function importRedisStore(): Promise<RedisModule> {
  const specifier = '../../connector/src/state/RedisStateStore.js';
  return (await import(specifier)) as RedisModule;
}

/**
 * Starts a bridge child process and waits for its "listening on" banner.
 * @param opts drive, folders, store
 * @throws when it does not start (its stderr and log are in the message)
 */
export async function startBenchBridge(opts: BenchBridgeOptions): Promise<BenchBridge> {
  await mkdir(opts.workDir, { recursive: true });
  const dataDir = await mkdtemp(path.join(opts.workDir, `bridge-${opts.label}-`));
  const secrets = { tokenSecret: randomBytes(32).toString('hex'), embeddedPassword: randomBytes(18).toString('base64url') };
  await writeFile(path.join(dataDir, 'secrets.json'), JSON.stringify(secrets) + '\n', { mode: 0o600 });
  // No sample files: the bench seeds its own.
  await writeFile(path.join(dataDir, 'samples-written'), 'bench\n', { mode: 0o600 });
  const port = await freePort();
  // As `npm start` runs it: its variables (malloc tuning) and node flags, then the bench's own settings.
  const start = startCommand();
  const env: Record<string, string> = {
    ...start.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
  };
  let drive: DriveAccess;
  if (opts.drive === 'embedded') {
    const embeddedPort = await freePort();
    env.EMBEDDED_WEBDAV_PORT = String(embeddedPort);
    env.EMBEDDED_FILES_DIR = opts.filesDir ?? path.join(dataDir, 'files');
    drive = { kind: 'embedded', url: `http://127.0.0.1:${embeddedPort}`, user: EMBEDDED_USER, pass: secrets.embeddedPassword };
  } else {
    const r = opts.rclone;
    if (!r) throw new Error('startBenchBridge: drive rclone needs a running rclone server');
    env.STORAGE_URL = r.url;
    env.STORAGE_USER = r.user;
    env.STORAGE_PASSWORD = r.pass;
    drive = { kind: 'rclone', url: r.url, user: r.user, pass: r.pass };
  }
  const program = mainJs();
  if (!existsSync(program)) throw new Error(`${path.relative(ROOT, program)} is missing: run \`npm run build\` (npm test) or \`npm run bench\``);
  if (opts.redisUrl !== undefined) {
    if (!runtimeWiresRedis()) throw new Error('the built runtime does not read REDIS_URL');
    env.REDIS_URL = opts.redisUrl;
  }
  Object.assign(env, opts.env ?? {});
  const childEnvironment = childEnv(env);
  if (opts.redisUrl === undefined) delete childEnvironment.REDIS_URL;

  const logFile = path.join(dataDir, 'bridge.log');
  const logFd = openSync(logFile, 'w');
  const profile = opts.cpuProfDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`, `--cpu-prof-name=${opts.label}-${Date.now()}.cpuprofile`] : [];
  const nodeArgs = [...start.nodeArgs, ...profile];
  let child: ChildProcess;
  try {
    // stdout (one JSON line per request at the default LOG_LEVEL=info) goes straight to a file: the bench process
    // does not spend CPU reading it, as journald or a container runtime would not in production.
    child = spawn(process.execPath, [...nodeArgs, program], { cwd: ROOT, env: childEnvironment, stdio: ['ignore', logFd, 'pipe'] });
  } finally {
    closeSync(logFd);
  }
  trackChild(child);
  child.on('error', () => undefined);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr = (stderr + c).slice(-16_384);
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  const deadline = Date.now() + START_TIMEOUT_MS;
  let url: string | null = null;
  while (url === null) {
    const line = stderr.split('\n').find((l) => l.startsWith(BANNER));
    if (line !== undefined) url = line.slice(BANNER.length).trim();
    else if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : '';
      throw new Error(`bridge ${opts.label} did not start (exit ${child.exitCode}, signal ${child.signalCode}).\nstderr:\n${stderr}\nlog:\n${log}`);
    } else await delay(20);
  }
  const pid = child.pid as number;

  let index: { files: FileIndex; store: StateStore; storage: WebdavStorage } | null = null;
  const indexFor = async (): Promise<{ files: FileIndex; store: StateStore; storage: WebdavStorage }> => {
    if (index) return index;
    const storage = new WebdavStorage({ url: drive.url, username: drive.user, password: drive.pass, flavour: 'generic', timeoutMs: 30_000 });
    const store = opts.redisUrl !== undefined ? await (await importRedisStore()).createRedisStateStore(opts.redisUrl) : new SqliteStateStore(path.join(dataDir, 'state.sqlite'));
    index = { files: new FileIndex(store, storage), store, storage };
    return index;
  };
  const open = async (drivePath: string, o: { user?: string; canWrite?: boolean } = {}): Promise<WopiFile> => {
    const { files, storage } = await indexFor();
    const fileId = await files.idFor(await storage.stat(drivePath));
    const { token } = issueAccessToken(secrets.tokenSecret, { userId: o.user ?? 'bench-user', fileId, canWrite: o.canWrite ?? true }, 4 * 3600);
    return { path: drivePath, fileId, token };
  };
  const clients: Array<{ close(): void }> = [];

  let stopping: Promise<void> | null = null;
  return {
    label: opts.label,
    url,
    pid,
    dataDir,
    logFile,
    drive,
    program: path.relative(ROOT, program),
    open,
    async openMany(paths, o = {}) {
      const out: WopiFile[] = new Array<WopiFile>(paths.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(16, paths.length) }, async () => {
          while (next < paths.length) {
            const i = next++;
            out[i] = await open(paths[i] as string, o.user ? { user: o.user(i) } : {});
          }
        }),
      );
      return out;
    },
    wopi(maxSockets = 64) {
      const http = new BenchHttp(url as string, maxSockets);
      clients.push(http);
      return new WopiClient(http);
    },
    dav(maxSockets = 64) {
      const u = new URL(drive.url);
      const http = new BenchHttp(u.origin, maxSockets);
      clients.push(http);
      return new DavClient(http, u.pathname === '/' ? '' : u.pathname, basicAuth(drive.user, drive.pass));
    },
    memory: () => readProcMemory(pid),
    stop() {
      stopping ??= (async () => {
        for (const c of clients) c.close();
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
        if (index) {
          await index.store.close();
          await index.storage.close();
        }
      })();
      return stopping;
    },
  };
}

/**
 * Starts Debian's `rclone serve webdav` over a folder under `workDir` (the helper the integration tests use).
 * @param workDir parent folder
 */
export async function startRclone(workDir: string): Promise<RcloneWebdav> {
  const dir = await mkdtemp(path.join(workDir, 'rclone-'));
  return startRcloneWebdav({ dir });
}
