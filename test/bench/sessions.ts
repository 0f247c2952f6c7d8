/**
 * Benchmark 5: N simulated ONLYOFFICE editing sessions, each on its own small file and user, as DocService runs
 * one: CheckFileInfo, Lock, GetFile when the document opens; RefreshLock every few seconds while it is edited;
 * PutFile and Unlock when it closes. Sessions start evenly over a ramp and stay open longer than the ramp, so all N
 * are open at once at its end. Latency per operation and every error (non-2xx, wrong bytes) are recorded; after the
 * run, a sample of files is read back directly from the drive to check the saves landed.
 *
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';
import { startBenchBridge, startRclone, type BenchBridge, type DriveKind } from './bridgeProcess.js';
import { expectOk, type DavClient, type WopiClient, type WopiFile } from './clients.js';
import type { BenchContext } from './context.js';
import { KiB, pseudoRandomBytes, sha256 } from './data.js';
import { cpuMsOf, mapLimit, Recorder } from './load.js';
import type { HttpResult } from './httpClient.js';
import { verdict, type Row, type SectionResult } from './report.js';
import { checkCfiBody } from './checkFileInfo.js';
import { fmt, ms, rounded } from './stats.js';

export const SESSION_FILE_SIZE = 24 * KiB;
/** The operations of one session, in order. */
export const SESSION_OPS = ['CheckFileInfo', 'Lock', 'GetFile', 'RefreshLock', 'PutFile', 'Unlock'] as const;

/** Timing of a session. */
export interface SessionShape {
  /** Delay before the session opens. */
  startAtMs: number;
  /** How long it stays open (Lock to PutFile). */
  holdMs: number;
  /** RefreshLock interval while open. */
  refreshMs: number;
}

/** The content a session saves for file i (so it can be checked afterwards). */
export function editedContent(i: number): Buffer {
  return pseudoRandomBytes(SESSION_FILE_SIZE, `session-${i}-edited`);
}

/** The content file i starts with. */
export function originalContent(i: number): Buffer {
  return pseudoRandomBytes(SESSION_FILE_SIZE, `session-${i}-original`);
}

/**
 * Seeds `count` session files and opens each for its own user.
 * @returns the opened files (file i belongs to user i)
 */
export async function seedSessionFiles(bridge: BenchBridge, dav: DavClient, count: number): Promise<WopiFile[]> {
  const paths = Array.from({ length: count }, (_, i) => `/session-${i}.docx`);
  await mapLimit(paths, 16, async (p, i) => expectOk(await dav.put(p, originalContent(i), SESSION_FILE_SIZE), `seed ${p}`));
  return bridge.openMany(paths, { user: (i) => `user-${i}` });
}

/**
 * One editing session on file i, every request recorded (errors included) under its operation's name.
 * @param onOpen called when the lock is taken and when it is released (+1 / -1), to count open sessions
 */
export async function editingSession(rec: Recorder, wopi: WopiClient, f: WopiFile, i: number, shape: SessionShape, onOpen: (delta: number) => void = () => undefined): Promise<void> {
  await delay(shape.startAtMs);
  const lockId = `session-lock-${i}`;
  const expected = sha256(originalContent(i));
  await rec.time('CheckFileInfo', () => wopi.checkFileInfo(f), (r) => checkCfiBody(r.body, f, SESSION_FILE_SIZE));
  const locked = await rec.time('Lock', () => wopi.lock(f, lockId));
  if (locked?.status !== 200) return;
  onOpen(1);
  await rec.time('GetFile', () => wopi.getFile(f, 'sha256'), (r) => (r.sha256 === expected ? null : 'GetFile returned other bytes'));
  const closeAt = performance.now() + shape.holdMs;
  while (performance.now() + shape.refreshMs < closeAt) {
    await delay(shape.refreshMs);
    await rec.time('RefreshLock', () => wopi.refreshLock(f, lockId));
  }
  await delay(Math.max(0, closeAt - performance.now()));
  await rec.time('PutFile', () => wopi.putFile(f, editedContent(i), SESSION_FILE_SIZE, lockId));
  await rec.time('Unlock', () => wopi.unlock(f, lockId));
  onOpen(-1);
}

/**
 * CPU the bridge process uses per WOPI operation of a session: each operation is sent to `files.length` files in
 * turn, one at a time, and the bridge's CPU (/proc/<pid>/stat, 10 ms ticks, hence batches) divided among them.
 * Over rclone the figure is the bridge's alone; over the embedded drive it includes the WebDAV server's share.
 * @returns CPU ms per operation, and per whole session (RefreshLock counted `refreshes` times)
 */
export async function operationCpuCosts(bridge: BenchBridge, files: WopiFile[], refreshes: number): Promise<{ perOp: Record<string, number>; perSession: number }> {
  const wopi = bridge.wopi(1);
  const perOp: Record<string, number> = {};
  const phase = async (op: string, fn: (f: WopiFile, i: number) => Promise<HttpResult>): Promise<void> => {
    const c0 = cpuMsOf(bridge.pid);
    for (const [i, f] of files.entries()) expectOk(await fn(f, i), op);
    perOp[op] = (cpuMsOf(bridge.pid) - c0) / files.length;
  };
  try {
    await phase('CheckFileInfo', (f) => wopi.checkFileInfo(f));
    await phase('Lock', (f, i) => wopi.lock(f, `session-lock-${i}`));
    await phase('GetFile', (f) => wopi.getFile(f));
    await phase('RefreshLock', (f, i) => wopi.refreshLock(f, `session-lock-${i}`));
    await phase('PutFile', (f, i) => wopi.putFile(f, editedContent(i), SESSION_FILE_SIZE, `session-lock-${i}`));
    await phase('Unlock', (f, i) => wopi.unlock(f, `session-lock-${i}`));
  } finally {
    wopi.http.close();
  }
  const perSession = SESSION_OPS.reduce((sum, op) => sum + (perOp[op] ?? 0) * (op === 'RefreshLock' ? refreshes : 1), 0);
  return { perOp, perSession };
}

/** Result of {@link runSessions}' inner run for one N. */
export interface SessionRun {
  n: number;
  recorder: Recorder;
  maxOpen: number;
  elapsedMs: number;
  /** Files read back directly whose bytes were not the saved content. */
  wrongAfter: number;
  checkedAfter: number;
}

/**
 * Runs N sessions on a bridge and checks a sample of the saves on the drive.
 * @param files at least n opened files (from {@link seedSessionFiles})
 */
export async function runSessionLoad(bridge: BenchBridge, files: WopiFile[], n: number, shape: { rampMs: number; holdMs: number; refreshMs: number }): Promise<SessionRun> {
  const wopi = bridge.wopi(Math.max(64, n));
  const dav = bridge.dav(8);
  const rec = new Recorder();
  let open = 0;
  let maxOpen = 0;
  const started = performance.now();
  await Promise.all(
    files.slice(0, n).map((f, i) =>
      editingSession(rec, wopi, f, i, { startAtMs: (i / n) * shape.rampMs, holdMs: shape.holdMs, refreshMs: shape.refreshMs }, (d) => {
        open += d;
        maxOpen = Math.max(maxOpen, open);
      }),
    ),
  );
  const elapsedMs = performance.now() - started;
  const step = Math.max(1, Math.floor(n / 25));
  let wrongAfter = 0;
  let checkedAfter = 0;
  for (let i = 0; i < n; i += step) {
    const r = await dav.get((files[i] as WopiFile).path, 'sha256');
    checkedAfter++;
    if (r.sha256 !== sha256(editedContent(i))) wrongAfter++;
  }
  wopi.http.close();
  dav.http.close();
  return { n, recorder: rec, maxOpen, elapsedMs, wrongAfter, checkedAfter };
}

/**
 * Runs N = 100 and N = 1,000 sessions on the embedded drive, and N = 1,000 on rclone.
 * @param ctx the runner's context
 */
export async function runSessions(ctx: BenchContext): Promise<SectionResult> {
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const shape = ctx.quick ? { rampMs: 3000, holdMs: 4000, refreshMs: 1500 } : { rampMs: 10_000, holdMs: 12_000, refreshMs: 4000 };
  const plan: Array<[DriveKind, number]> = ctx.quick
    ? [
        ['embedded', 20],
        ['embedded', 100],
      ]
    : [
        ['embedded', 100],
        ['embedded', 1000],
        ['rclone', 1000],
      ];
  const bigN = Math.max(...plan.map(([, n]) => n));
  for (const drive of ['embedded', 'rclone'] as DriveKind[]) {
    const runs = plan.filter(([d]) => d === drive).map(([, n]) => n);
    if (runs.length === 0) continue;
    const rclone = drive === 'rclone' ? await startRclone(ctx.workDir) : undefined;
    const bridge = await startBenchBridge({ label: `sessions-${drive}`, drive, workDir: ctx.workDir, ...(rclone ? { rclone } : {}), ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}) });
    try {
      ctx.progress('5 sessions', `${drive}: seeding ${Math.max(...runs)} files`);
      const files = await seedSessionFiles(bridge, bridge.dav(16), Math.max(...runs));
      const resetDav = bridge.dav(16);
      let used = 0;
      for (const n of runs) {
        ctx.progress('5 sessions', `${drive}: ${n} sessions (ramp ${shape.rampMs / 1000} s, open ${shape.holdMs / 1000} s, RefreshLock every ${shape.refreshMs / 1000} s)`);
        // Each run starts from unlocked files with their original content.
        await mapLimit(files.slice(0, used), 16, async (f, i) => expectOk(await resetDav.put(f.path, originalContent(i), SESSION_FILE_SIZE), 'reset'));
        used = Math.max(used, n);
        const run = await runSessionLoad(bridge, files, n, shape);
        const rec = run.recorder;
        const perOp = SESSION_OPS.map((op) => ({ op, ...rounded(rec.summary(op)), errors: rec.errors(op) }));
        const worst = perOp.reduce((a, b) => (b.p99 > a.p99 ? b : a));
        const errors = rec.errors() + run.wrongAfter;
        // Every session must have run to its end (its Unlock answered 2xx).
        const completed = rec.count('Unlock') - rec.errors('Unlock');
        const judged = n === bigN;
        rows.push({
          section: '5',
          figure: `${n.toLocaleString('en-US')} editing sessions, ${drive}`,
          measured: `worst p99 ${ms(worst.p99)} (${worst.op}), p50 ≤ ${ms(Math.max(...perOp.map((o) => o.p50)))}; ${errors} errors / ${rec.count().toLocaleString('en-US')} requests; ${run.maxOpen} open at once, ${completed} completed`,
          target: judged ? 'p99 < 50 ms per op, 0 errors' : '',
          verdict: judged ? verdict(worst.p99 < 50 && errors === 0 && completed === n) : errors > 0 ? 'FAIL' : 'INFO',
          ...(errors > 0 ? { note: [...rec.firstErrors.slice(0, 3), run.wrongAfter > 0 ? `${run.wrongAfter} of ${run.checkedAfter} files read back had other bytes` : ''].filter(Boolean).join('; ') } : {}),
        });
        details[`${drive}/${n}`] = { shape, elapsedMs: run.elapsedMs, requests: rec.count(), completedSessions: completed, maxOpen: run.maxOpen, errors, firstErrors: rec.firstErrors, readBack: { checked: run.checkedAfter, wrong: run.wrongAfter }, perOpMs: perOp };
        ctx.progress('5 sessions', `${drive}: ${n} sessions: worst p99 ${ms(worst.p99)} (${worst.op}), ${errors} errors`);
      }
      if (drive === 'rclone') {
        // What a session costs the bridge, and so how many sessions one core can open per second.
        ctx.progress('5 sessions', 'bridge CPU per operation (one at a time)');
        const sample = files.slice(0, ctx.quick ? 50 : 200);
        await mapLimit(sample, 16, async (f, i) => expectOk(await resetDav.put(f.path, originalContent(i), SESSION_FILE_SIZE), 'reset'));
        const refreshes = Math.max(0, Math.ceil(shape.holdMs / shape.refreshMs) - 1);
        const cost = await operationCpuCosts(bridge, sample, refreshes);
        const offered = bigN / ((shape.rampMs + shape.holdMs) / 1000);
        rows.push({
          section: '5',
          figure: 'bridge CPU per editing session, rclone',
          measured: `${ms(cost.perSession)} (${SESSION_OPS.map((op) => `${op} ${fmt(cost.perOp[op] ?? Number.NaN)}`).join(', ')}) → one core: ≤ ${fmt(1000 / cost.perSession)} sessions/s`,
          target: '',
          verdict: 'INFO',
          note: `${bigN.toLocaleString('en-US')} sessions in ${(shape.rampMs + shape.holdMs) / 1000} s offer ${fmt(offered)} sessions/s, ${fmt((offered * cost.perSession) / 10, 0)}% of one core at these costs; with the load generator and the drive on the same 2 cores, and other work on this shared machine, the bridge gets less`,
        });
        details.cpuPerOperationMs = cost;
      }
    } finally {
      await bridge.stop();
      await rclone?.stop();
    }
  }
  return { rows, details };
}

/** The per-operation table of the session runs (printed under the main table). */
export function sessionOpsTable(details: Record<string, unknown>): string {
  const lines = ['| sessions | ' + SESSION_OPS.join(' | ') + ' |', '|---|' + SESSION_OPS.map(() => '---').join('|') + '|'];
  for (const [key, v] of Object.entries(details)) {
    const perOp = (v as { perOpMs?: Array<{ op: string; p50: number; p99: number; errors: number }> }).perOpMs;
    if (!perOp) continue;
    lines.push(`| ${key} | ${perOp.map((o) => `${fmt(o.p50)} / ${fmt(o.p99)}${o.errors > 0 ? ` (${o.errors} err)` : ''}`).join(' | ')} |`);
  }
  return `p50 / p99 per operation, ms:\n${lines.join('\n')}`;
}
