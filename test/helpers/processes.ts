/**
 * Test helper: spawns the real built programs — the server (`node dist/connector/src/main.js`, what `npm start`
 * runs) and the CLI (`node dist/scripts/wopi-bridge.js`) — the way pino's `test/exit.test.js` spawns its examples.
 *
 * Both need `npm run build` first (`npm test` does it). Children get a clean environment: the parent's, minus every
 * bridge configuration variable and NODE_OPTIONS (Jest's `--experimental-vm-modules` must not reach them), plus
 * what the test passes. Every child and temp folder is registered here; call {@link cleanupProcesses} in `afterAll`
 * (a process 'exit' hook SIGKILLs forgotten children too).
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { liveChildren, trackChild } from './childProcesses.js';

/** Project root: Jest runs with rootDir as the working directory (as `docService.ts` assumes too). */
export const ROOT = process.cwd();
/** The server `npm start` runs. */
export const MAIN_JS = path.join(ROOT, 'dist/connector/src/main.js');
/** The `wopi-bridge` CLI. */
export const CLI_JS = path.join(ROOT, 'dist/scripts/wopi-bridge.js');

/** `npm start` taken apart: `[NAME=value …] node [node flags …] <entry>`. */
export interface StartCommand {
  /** Variables the script sets for the process (the C library's malloc tuning). */
  env: Record<string, string>;
  nodeArgs: string[];
  /** The entry script, relative to the project. */
  entry: string;
}

/**
 * Reads package.json's `start` script, so that what runs the server elsewhere (the bench, the systemd unit's test)
 * runs it exactly as `npm start` does.
 * @throws when the script is not of the form above
 */
export function startCommand(): StartCommand {
  const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? '';
  const words = start.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=\S*$/.test(words[0] as string)) {
    const [name, value] = (words.shift() as string).split('=') as [string, string];
    env[name] = value;
  }
  const node = words.shift();
  const entry = words.pop();
  if (node !== 'node' || entry === undefined || !entry.endsWith('.js') || words.some((w) => !w.startsWith('--'))) {
    throw new Error(`package.json "start" is not "[NAME=value …] node [--flag …] <entry>.js": ${start}`);
  }
  return { env, nodeArgs: words, entry };
}

/** The stderr line main.ts prints once the HTTP server listens. */
export const BANNER = 'wopi-bridge listening on ';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const RUN_TIMEOUT_MS = 30_000;

type Env = Record<string, string | undefined>;

const tempDirs = new Set<string>();

/** Registers a child (SIGKILLed by cleanupProcesses() or when the test process exits). */
function track(child: ChildProcess): void {
  trackChild(child);
  // Permanent listener: an unhandled 'error' event (spawn failure, failed kill) would crash the test process.
  child.on('error', () => undefined);
}

/** Whether a variable configures the bridge (and so must come from the test, never from the developer's shell). */
function isBridgeVariable(name: string): boolean {
  return (
    /^(STORAGE|WOPI|EMBEDDED|DOCS|TOKEN|LOCK|MAX_UPLOAD|ADMIN|CHECK|DISCOVERY|REDIS)_/.test(name) ||
    ['HOST', 'PORT', 'PUBLIC_URL', 'DATA_DIR', 'LOG_LEVEL', 'POST_MESSAGE_ORIGIN', 'NODE_OPTIONS', 'REDIS_URL'].includes(name)
  );
}

/** The child's environment: the parent's minus bridge configuration, plus `env` (undefined values are dropped). */
export function childEnv(env: Env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!isBridgeVariable(k) && v !== undefined) out[k] = v;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function assertBuilt(file: string): void {
  if (!existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run \`npm run build\` first`);
}

/**
 * A fresh temp folder, removed by cleanupProcesses().
 * @param prefix name prefix under os.tmpdir()
 */
export async function makeTempDir(prefix = 'wopi-process-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Whether a new TCP connection to 127.0.0.1:port is accepted (a stopping server refuses new ones). */
export function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A port that was free a moment ago: binds port 0 on 127.0.0.1, reads the port, closes.
 * (Another process could take it in between; tests accept that small race.)
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once the child has exited and its stdio is closed (so every output line has been read). */
function whenClosed(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if ((child.exitCode !== null || child.signalCode !== null) && child.stdout?.readableEnded !== false && child.stderr?.readableEnded !== false) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** Output collected from a child: stdout split into lines, stderr as text. */
class Output {
  readonly stdoutLines: string[] = [];
  stderr = '';
  private partial = '';
  private readonly waiters = new Set<() => void>();

  constructor(child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) if (line.trim() !== '') this.stdoutLines.push(line);
      this.notify();
    });
    child.stdout?.on('end', () => {
      if (this.partial.trim() !== '') this.stdoutLines.push(this.partial);
      this.partial = '';
      this.notify();
    });
    child.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Resolves when `done()` holds (checked now and after every chunk of output), rejects after `timeoutMs` or when
   * `failed()` returns a message.
   */
  waitFor(done: () => boolean, timeoutMs: number, what: string, failed: () => string | null = () => null): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        const problem = failed();
        if (done()) finish();
        else if (problem !== null) finish(new Error(`${problem} while waiting for ${what}\nstderr:\n${this.stderr}\nstdout:\n${this.stdoutLines.join('\n')}`));
      };
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      timer = setTimeout(
        () => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nstderr:\n${this.stderr}\nstdout:\n${this.stdoutLines.join('\n')}`)),
        timeoutMs,
      );
      this.waiters.add(check);
      check();
    });
  }

  /** Lets waiters see a child exit even when it printed nothing more. */
  poke(): void {
    this.notify();
  }
}

/** A bridge server running as a child process. */
export interface SpawnedBridge {
  /** http://127.0.0.1:<port> as the banner printed it. */
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Every non-empty stdout line so far (pino JSON lines). */
  readonly stdoutLines: string[];
  /** stderr so far (the banner, or error messages). */
  readonly stderr: string;
  /** Milliseconds from spawn to the banner. */
  startupMs: number;
  /** stdout lines parsed as JSON; throws on a line that is not JSON (stdout must carry only log lines). */
  entries(): Array<Record<string, unknown>>;
  /**
   * Resolves when a stdout line matching `predicate` has arrived (at most `timeoutMs`).
   * Access lines are written when the response closes, which can be just after the client has it.
   */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<void>;
  /**
   * Sends `signal`, waits for the exit (SIGKILL after `timeoutMs`) and for stdio to close.
   * @returns the exit code (null when killed by a signal)
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

/**
 * Spawns `node dist/connector/src/main.js` with HOST=127.0.0.1, PORT (a free one unless `env.PORT` is set) and
 * DATA_DIR (a fresh temp folder unless set), and resolves once stderr shows the "listening on" banner.
 * @param env extra environment (STORAGE_URL, LOG_LEVEL, …); values here win
 * @param timeoutMs how long to wait for the banner
 * @throws when the process exits or stays silent before the banner; it is killed then
 */
export async function spawnBridge(env: Env = {}, timeoutMs = START_TIMEOUT_MS): Promise<SpawnedBridge> {
  assertBuilt(MAIN_JS);
  const port = env.PORT !== undefined ? Number(env.PORT) : await freePort();
  const dataDir = env.DATA_DIR ?? (await makeTempDir('wopi-bridge-data-'));
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN_JS], {
    cwd: ROOT,
    env: childEnv({ HOST: '127.0.0.1', ...env, PORT: String(port), DATA_DIR: dataDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const out = new Output(child);
  let spawnError: Error | null = null;
  child.once('error', (e) => {
    spawnError = e;
    out.poke();
  });
  child.once('exit', () => out.poke());
  const closed = whenClosed(child);
  const exitProblem = (): string | null =>
    spawnError !== null
      ? `could not spawn node: ${(spawnError as Error).message}`
      : child.exitCode !== null || child.signalCode !== null
        ? `the bridge exited (code ${child.exitCode}, signal ${child.signalCode})`
        : null;
  try {
    await out.waitFor(() => out.stderr.split('\n').some((l) => l.startsWith(BANNER)), timeoutMs, 'the "listening on" banner', exitProblem);
  } catch (e) {
    child.kill('SIGKILL');
    await closed;
    throw e;
  }
  const startupMs = performance.now() - started;
  const bannerLine = out.stderr.split('\n').find((l) => l.startsWith(BANNER)) as string;
  const url = bannerLine.slice(BANNER.length).trim();

  let stopping: Promise<number | null> | null = null;
  return {
    url,
    port,
    dataDir,
    child,
    startupMs,
    get stdoutLines() {
      return out.stdoutLines;
    },
    get stderr() {
      return out.stderr;
    },
    entries() {
      return out.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    waitForLine(predicate, ms = 5_000) {
      return out.waitFor(() => out.stdoutLines.some(predicate), ms, 'a matching stdout line', exitProblem);
    },
    stop(signal: NodeJS.Signals = 'SIGTERM', ms = STOP_TIMEOUT_MS) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), ms);
        const { code } = await closed;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}

/** How a process that ran to its end finished. */
export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/** Waits for a child to exit, SIGKILLing it after `timeoutMs` (then `timedOut` is true). */
export async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  }).finally(() => clearTimeout(timer));
  return { ...result, timedOut };
}

/**
 * Runs a built script to its end and collects its output.
 * @throws when it runs longer than `timeoutMs` (it is killed then)
 */
async function runToExit(script: string, args: string[], env: Env, timeoutMs: number): Promise<ProcessResult> {
  assertBuilt(script);
  const started = performance.now();
  const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const { timedOut, ...result } = await waitForExit(child, timeoutMs);
  const ms = performance.now() - started;
  if (timedOut) throw new Error(`${path.basename(script)} ${args.join(' ')} still running after ${timeoutMs} ms; killed.\nstderr:\n${stderr}`);
  return { ...result, stdout, stderr, ms };
}

/**
 * Runs `node dist/scripts/wopi-bridge.js <args>` to its end. Without `env.DATA_DIR` a fresh temp folder is used,
 * so a test never creates `./data` in the project.
 * @param args command line, e.g. ['token', '/Welcome.docx', '--json']
 * @param env environment (DATA_DIR, PUBLIC_URL, STORAGE_URL, …)
 */
export async function runCli(args: string[], env: Env = {}, timeoutMs = RUN_TIMEOUT_MS): Promise<ProcessResult> {
  const dataDir = env.DATA_DIR ?? (await makeTempDir('wopi-cli-data-'));
  return runToExit(CLI_JS, args, { ...env, DATA_DIR: dataDir }, timeoutMs);
}

/**
 * Runs the server expecting it to stop by itself (bad configuration, port in use). Without `env.DATA_DIR` a fresh
 * temp folder is used; HOST defaults to 127.0.0.1.
 * @throws when it is still running after `timeoutMs` (e.g. it started listening after all)
 */
export async function runBridgeToExit(env: Env, timeoutMs = RUN_TIMEOUT_MS): Promise<ProcessResult> {
  const dataDir = env.DATA_DIR ?? (await makeTempDir('wopi-bridge-data-'));
  return runToExit(MAIN_JS, [], { HOST: '127.0.0.1', ...env, DATA_DIR: dataDir }, timeoutMs);
}

/** SIGKILLs every child still running, waits for them, and removes every temp folder made here. For `afterAll`. */
export async function cleanupProcesses(): Promise<void> {
  await Promise.all(
    liveChildren().map((child) => {
      const closed = whenClosed(child);
      child.kill('SIGKILL');
      return closed;
    }),
  );
  await Promise.all([...tempDirs].map((d) => rm(d, { recursive: true, force: true })));
  tempDirs.clear();
}
