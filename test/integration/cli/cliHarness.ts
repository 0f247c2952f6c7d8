/**
 * Runs the built `wopi-bridge` CLI for the tests in this folder: with a stdin (a pipe with given input, /dev/null,
 * or a pseudo-terminal through util-linux `script`), and records every run so a test can scan all output for
 * secrets and tokens afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
import { CLI_JS, ROOT, childEnv, makeTempDir, waitForExit, type ProcessResult } from '../../helpers/processes.js';
import { trackChild } from '../../helpers/childProcesses.js';

type Env = Record<string, string | undefined>;

/** One recorded run. */
export interface Run extends ProcessResult {
  args: string[];
  /** `token` and `jwt sign` print a token by design. */
  printsToken: boolean;
}

/** Every run of this test file, in order. */
export const runs: Run[] = [];

export const EXIT = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export const STACK_LINE = /^\s+at\s/m;

export interface RunOptions {
  /** Written to stdin, then stdin is closed; without it stdin is /dev/null (not a terminal). */
  input?: string | Buffer;
  /** Run on a pseudo-terminal (stdin, stdout and stderr all a tty; output merged into stdout, CRLF line ends). */
  tty?: boolean;
  timeoutMs?: number;
}

/** Whether util-linux `script` is there to give the CLI a terminal. */
export const HAVE_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `node dist/scripts/wopi-bridge.js <args>` to its end. Without `env.DATA_DIR` a fresh temp folder is used.
 */
export async function wb(args: string[], env: Env = {}, opts: RunOptions = {}): Promise<Run> {
  const dataDir = env.DATA_DIR ?? (await makeTempDir('wopi-cli-data-'));
  const fullEnv = childEnv({ ...env, DATA_DIR: dataDir });
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const started = performance.now();
  const [cmd, argv] = opts.tty
    ? ['script', ['-qec', [process.execPath, CLI_JS, ...args].map(shellQuote).join(' '), '/dev/null']]
    : [process.execPath, [CLI_JS, ...args]];
  const child = spawn(cmd as string, argv as string[], { cwd: ROOT, env: fullEnv, stdio: [opts.input !== undefined || opts.tty ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let stdout = '';
  let stderr = '';
  if (!child.stdout || !child.stderr) throw new Error('spawn gave no stdout/stderr pipe');
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  if (child.stdin) {
    child.stdin.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin.write(opts.input);
    // A terminal keeps stdin open until the program is done (script ends the session when its stdin closes).
    if (!opts.tty) child.stdin.end();
  }
  const { timedOut, ...result } = await waitForExit(child, timeoutMs);
  if (timedOut) throw new Error(`wopi-bridge ${args.join(' ')} still running after ${timeoutMs} ms; killed.\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  const run: Run = { ...result, stdout, stderr, ms: performance.now() - started, args, printsToken: args[0] === 'token' || (args[0] === 'jwt' && args[1] === 'sign') };
  runs.push(run);
  return run;
}

/** Every substring of `s` of length `n` (a secret must not leak even in part). */
export function windows(s: string, n: number): string[] {
  if (s.length <= n) return [s];
  const out: string[] = [];
  for (let i = 0; i + n <= s.length; i++) out.push(s.slice(i, i + n));
  return out;
}

/**
 * The leaks in recorded output: any 12-character piece of a secret, any whole token, any token's signature.
 * Runs that print a token by design (`token`, `jwt sign`) are still scanned for secrets.
 * @returns one line per leak (empty = none)
 */
export function leaks(all: readonly Run[], secrets: readonly string[], tokens: readonly string[]): string[] {
  const found: string[] = [];
  const secretPieces = secrets.filter((s) => s.length > 0).flatMap((s) => windows(s, 12).map((w) => [s, w] as const));
  // A token without a signature (alg none) is no secret: its header.payload. may be shown back.
  const tokenPieces = tokens.filter((t) => (t.split('.')[2] ?? '').length >= 8).flatMap((t) => [t, t.split('.')[2] as string].map((p) => [t, p] as const));
  for (const r of all) {
    const text = r.stdout + r.stderr;
    for (const [s, w] of secretPieces) if (text.includes(w)) found.push(`wopi-bridge ${r.args.join(' ')}: part of secret ${s.slice(0, 4)}… ("${w}")`);
    if (r.printsToken) continue;
    const jwtLike = /eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}/.exec(text);
    if (jwtLike) found.push(`wopi-bridge ${r.args.join(' ')}: a whole JWT ("${jwtLike[0].slice(0, 16)}…")`);
    for (const [t, p] of tokenPieces) if (text.includes(p)) found.push(`wopi-bridge ${r.args.join(' ')}: token ${t.slice(0, 12)}… (piece "${p.slice(0, 16)}…")`);
  }
  return [...new Set(found)];
}

/** The value after `label:` on a line of text output. */
export function field(stdout: string, label: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`${label}:`));
  if (line === undefined) throw new Error(`no "${label}:" line in:\n${stdout}`);
  return line.slice(label.length + 1).trim();
}

/** Token of `wopi-bridge token --json`. */
export interface CliToken {
  path: string;
  fileId: string;
  wopiSrc: string;
  accessToken: string;
  accessTokenTtl: number;
  user: string;
  canWrite: boolean;
}

/** Issues a token with the CLI (`token --json`). */
export async function cliToken(filePath: string, env: Env, extra: string[] = []): Promise<CliToken> {
  const r = await wb(['token', filePath, '--json', ...extra], env);
  if (r.code !== 0) throw new Error(`token ${filePath}: exit ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout) as CliToken;
}

/** POSTs a lock operation to the bridge. */
export async function lockOp(t: CliToken, override: string, lockId?: string): Promise<Response> {
  const headers: Record<string, string> = { 'X-WOPI-Override': override };
  if (lockId !== undefined) headers['X-WOPI-Lock'] = lockId;
  const res = await fetch(`${t.wopiSrc}?access_token=${encodeURIComponent(t.accessToken)}`, { method: 'POST', headers });
  await res.arrayBuffer();
  return res;
}

/** The file's bytes through GetFile. */
export async function getFile(t: CliToken): Promise<Buffer> {
  const res = await fetch(`${t.wopiSrc}/contents?access_token=${encodeURIComponent(t.accessToken)}`);
  if (res.status !== 200) throw new Error(`GetFile: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** The current lock through GetLock ('' = unlocked). */
export async function currentLock(t: CliToken): Promise<string> {
  const res = await lockOp(t, 'GET_LOCK');
  if (res.status !== 200) throw new Error(`GetLock: ${res.status}`);
  return res.headers.get('X-WOPI-Lock') ?? '';
}

export { makeTempDir };
