/**
 * `npm run bench`: starts what it needs (bridge child processes over the embedded drive and Debian's `rclone serve
 * webdav`, a private `redis-server`), runs the six benchmarks of issue 7, prints a table (figure, measured, target,
 * verdict) and writes everything to bench-results/latest.json.
 *
 *   npm run bench                          # everything (about 10 minutes)
 *   npm run bench -- --quick               # small sizes, short runs (trying the bench itself)
 *   npm run bench -- --only=locks,crypto   # some benchmarks: throughput, memory, cfi, locks, sessions, crypto
 *   npm run bench -- --cpu-prof            # also write a CPU profile of every bridge to bench-results/profiles/
 *
 * Load only goes to 127.0.0.1; every loop is bounded in count and time, and a watchdog ends the run after 25 min.
 * Exit code 0 when every benchmark ran (whatever the verdicts), 1 when one failed to run.
 *
 * @module
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { liveChildren } from '../helpers/childProcesses.js';
import { ROOT } from '../helpers/processes.js';
import { fileURLToPath } from 'node:url';
import { mainJs } from './bridgeProcess.js';
import type { BenchContext } from './context.js';
import { progressPrinter } from './context.js';
import { environment, renderTable, writeReport, type Row, type SectionResult } from './report.js';
import { runThroughput } from './throughput.js';
import { runMemory } from './memory.js';
import { runCheckFileInfo } from './checkFileInfo.js';
import { runLocks } from './locks.js';
import { runSessions, sessionOpsTable } from './sessions.js';
import { runCrypto } from './crypto.js';
import { summarizeProfiles } from './profileSummary.js';

const SECTIONS = ['throughput', 'memory', 'cfi', 'locks', 'sessions', 'crypto'] as const;
type SectionName = (typeof SECTIONS)[number];
const TITLES: Record<SectionName, string> = {
  throughput: '1 GetFile/PutFile throughput',
  memory: '2 peak RSS',
  cfi: '3 CheckFileInfo',
  locks: '4 lock operations',
  sessions: '5 editing sessions',
  crypto: '6 proof and token verification',
};
const WATCHDOG_MS = 25 * 60 * 1000;

function parseArgs(argv: string[]): { quick: boolean; only: Set<SectionName>; cpuProf: string | null; out: string; keep: boolean } {
  let quick = false;
  let only = new Set<SectionName>(SECTIONS);
  let cpuProf: string | null = null;
  let out = path.join(ROOT, 'bench-results', 'latest.json');
  let keep = false;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--keep') keep = true;
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',').filter(Boolean);
      const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
      if (bad.length > 0) throw new Error(`unknown benchmark ${bad.join(', ')}; choose from ${SECTIONS.join(', ')}`);
      only = new Set(names as SectionName[]);
    } else if (arg === '--cpu-prof') cpuProf = path.join(ROOT, 'bench-results', 'profiles');
    else if (arg.startsWith('--cpu-prof=')) cpuProf = path.resolve(arg.slice('--cpu-prof='.length));
    else if (arg.startsWith('--out=')) out = path.resolve(arg.slice('--out='.length));
    else throw new Error(`unknown argument ${arg} (see the header of test/bench/run.ts)`);
  }
  return { quick, only, cpuProf, out, keep };
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  // This file is <build>/test/bench/run.js: the bridge under test is the one compiled with it (see buildRoot()).
  process.env.WOPI_BENCH_BUILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  if (!existsSync(mainJs())) throw new Error(`${path.relative(ROOT, mainJs())} is missing: run \`npm run bench\` (it compiles it)`);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const base = process.env.BENCH_TMPDIR ?? os.tmpdir();
  const workDir = await mkdtemp(path.join(base, 'wopi-bench-'));
  if (opts.cpuProf !== null) await mkdir(opts.cpuProf, { recursive: true });
  const ctx: BenchContext = { workDir, quick: opts.quick, progress: progressPrinter(started), ...(opts.cpuProf !== null ? { cpuProfDir: opts.cpuProf } : {}) };
  const env = environment();
  ctx.progress('bench', `work folder ${workDir}; load average ${(env.loadAverageAtStart as number[]).join(' ')}${opts.quick ? '; QUICK mode' : ''}`);

  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const timings: Record<string, number> = {};
  let failed = false;
  let cfiP50: number | undefined;
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${WATCHDOG_MS / 60_000} min; stopping\n`);
    for (const c of liveChildren()) c.kill('SIGKILL');
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();

  try {
    for (const name of SECTIONS) {
      if (!opts.only.has(name)) continue;
      const t = performance.now();
      try {
        let result: SectionResult;
        switch (name) {
          case 'throughput':
            result = await runThroughput(ctx);
            break;
          case 'memory':
            result = await runMemory(ctx);
            break;
          case 'cfi':
            result = await runCheckFileInfo(ctx);
            cfiP50 = ((result.details['embedded/latency'] as { checkFileInfoMs?: { p50: number } } | undefined)?.checkFileInfoMs?.p50);
            break;
          case 'locks':
            result = await runLocks(ctx);
            break;
          case 'sessions':
            result = await runSessions(ctx);
            break;
          case 'crypto':
            result = await runCrypto(ctx, cfiP50);
            break;
        }
        rows.push(...result.rows);
        details[name] = result.details;
      } catch (e) {
        failed = true;
        const message = (e as Error).stack ?? String(e);
        ctx.progress(TITLES[name], `FAILED: ${message}`);
        rows.push({ section: TITLES[name].split(' ')[0] as string, figure: TITLES[name], measured: '—', target: '', verdict: 'FAIL', note: (e as Error).message.split('\n')[0] ?? '' });
        details[name] = { error: message };
      }
      timings[name] = Math.round((performance.now() - t) / 100) / 10;
      ctx.progress(TITLES[name], `done in ${timings[name]} s`);
    }
  } finally {
    clearTimeout(watchdog);
    if (!opts.keep) await rm(workDir, { recursive: true, force: true });
  }

  const table = renderTable(rows);
  process.stdout.write(`\n${table}\n`);
  if (details.sessions !== undefined && !('error' in (details.sessions as object))) process.stdout.write(`\n${sessionOpsTable(details.sessions as Record<string, unknown>)}\n`);
  let profiles: unknown = null;
  if (opts.cpuProf !== null) {
    profiles = await summarizeProfiles(opts.cpuProf, 12);
    process.stdout.write(`\nCPU profiles in ${path.relative(ROOT, opts.cpuProf)} (summaries in the JSON; node dist/bench/test/bench/profileSummary.js <file>)\n`);
  }
  const durationS = Math.round((performance.now() - started) / 1000);
  await writeReport(opts.out, {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt,
    durationS,
    quick: opts.quick,
    environment: env,
    loadAverageAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100),
    sectionSeconds: timings,
    rows,
    table,
    details,
    profiles,
  });
  process.stdout.write(`\nwrote ${path.relative(ROOT, opts.out)} (${durationS} s)\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
